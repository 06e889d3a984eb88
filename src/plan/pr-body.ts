import type { Config } from '../config/types.js';
import { ROLLOUT_ANNOTATION } from '../model/rollout.js';
import { codeSpan, inlineText } from './markdown.js';
import type { Job } from './plan.js';
import type { ChangeRow } from './summary.js';

/** GitHub refuses PR bodies over 65,536 characters; stay well inside it. */
export const MAX_BODY = 60_000;
export const BODY_MARKER = '<!-- gitops-secrets:job=';

export interface BodyInput {
  job: Job;
  base: string;
  rows: ChangeRow[];
  config: Config;
}

/**
 * The PR body, for a reviewer: what changes and why, what to restart, what to check. It never
 * shows a value, a hash of one, or a provided value's length.
 */
export function pullRequestBody(input: BodyInput, max = MAX_BODY): string {
  const full = render(input, input.rows.length);
  if (full.length <= max) return full;
  // Too many rows: show as many as fit, then a count per action.
  let lo = 0;
  let hi = input.rows.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (render(input, mid).length <= max) lo = mid;
    else hi = mid - 1;
  }
  return render(input, lo);
}

function render({ job, base, rows, config }: BodyInput, shown: number): string {
  const out: string[] = [];
  const changed = rows.filter((r) => r.action !== 'needs input');
  const needs = rows.filter((r) => r.action === 'needs input');
  const secrets = new Set(changed.map((r) => r.id));
  out.push(`## gitops-secrets ${job}`);
  out.push('');
  out.push(
    `This pull request ${job === 'rotate' ? 'rotates' : 'adds'} ${count(changed.filter((r) => r.key !== '*').length, 'key')} in ${count(secrets.size, 'secret')} against ${codeSpan(base)}. ` +
      'Values are encrypted with sops; this page shows key names only, never values.',
  );
  out.push('');
  out.push('| Secret | Key | Action | Reason |');
  out.push('| --- | --- | --- | --- |');
  const visible = rows.slice(0, shown);
  for (const r of visible)
    out.push(
      `| ${codeSpan(r.id, true)} | ${r.key === '*' ? '(all keys)' : codeSpan(r.key, true)} | ${r.action} | ${inlineText(r.reason)} |`,
    );
  if (shown < rows.length) {
    const rest = rows.slice(shown);
    const byAction = new Map<string, number>();
    for (const r of rest) byAction.set(r.action, (byAction.get(r.action) ?? 0) + 1);
    const parts = [...byAction].map(([a, n]) => `${n} ${a}`).join(', ');
    out.push('');
    out.push(
      `…and ${rest.length} more changes (${parts}) in ${new Set(rest.map((r) => r.id)).size} secrets; the commit lists every file.`,
    );
  }
  const restarts = config.secrets.filter(
    (s) =>
      s.restart &&
      [...secrets].some(
        (id) => id === `${s.namespace}/${s.name}` || id.startsWith(`${s.namespace}/${s.name}@`),
      ),
  );
  if (restarts.length > 0) {
    out.push('');
    out.push('### Restart after merge');
    out.push('');
    const list = restarts.slice(0, 200);
    for (const s of list)
      out.push(`- ${codeSpan(`${s.namespace}/${s.name}`)}: ${codeSpan(s.restart!)}`);
    if (restarts.length > list.length) out.push(`- …and ${restarts.length - list.length} more`);
  }
  const changedValues = new Set(
    rows.filter((r) => r.action === 'rotated' || r.action === 'set').map((r) => r.id.split('@')[0]),
  );
  const rollouts = config.secrets.filter(
    (s) => s.rollout.length > 0 && changedValues.has(`${s.namespace}/${s.name}`),
  );
  if (rollouts.length > 0) {
    out.push('');
    out.push('### Rollout');
    out.push('');
    out.push(
      `These workloads get a new \`${ROLLOUT_ANNOTATION}\` pod annotation in this PR, so the GitOps controller restarts them after merge:`,
    );
    out.push('');
    for (const s of rollouts.slice(0, 200))
      out.push(
        `- ${codeSpan(`${s.namespace}/${s.name}`)}: ${s.rollout.map((p) => codeSpan(p)).join(', ')}`,
      );
  }
  if (rows.some((r) => r.reason.startsWith('value of ') && r.key.endsWith('_PREVIOUS'))) {
    out.push('');
    out.push(
      'Keys ending in `_PREVIOUS` keep the value before this rotation, so consumers that accept two keys keep working during the rollover; the next rotation replaces them.',
    );
  }
  if (needs.length > 0) {
    out.push('');
    out.push('### Needs input from a person');
    out.push('');
    for (const r of needs.slice(0, 100)) {
      const env = r.id.includes('@') ? ` --env ${r.id.split('@')[1]}` : '';
      out.push(
        `- ${codeSpan(r.id)} ${codeSpan(r.key)}: ${inlineText(r.reason)} (${codeSpan(`gitops-secrets set ${r.id.split('@')[0]} ${r.key}${env}`)})`,
      );
    }
    if (needs.length > 100) out.push(`- …and ${needs.length - 100} more`);
  }
  out.push('');
  out.push('### Reviewer checklist');
  out.push('');
  out.push('- [ ] The secrets and keys above are the ones you expect.');
  if (job === 'rotate') {
    out.push(
      '- [ ] Merge, let the GitOps controller apply it, then run the restart commands (or check the rollout).',
    );
    out.push('- [ ] Consumers that cache the old value are restarted before the next rotation.');
  } else {
    out.push('- [ ] Merge before deploying the consumers that read these keys.');
  }
  out.push('- [ ] Only files under the secrets output path changed.');
  out.push('');
  out.push(`${BODY_MARKER}${job} -->`);
  return out.join('\n');
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
