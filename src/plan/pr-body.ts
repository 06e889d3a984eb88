import type { Config } from '../config/types.js';
import { ROLLOUT_ANNOTATION } from '../model/rollout.js';
import { codeSpan, inlineText } from './markdown.js';
import type { Job } from './plan.js';
import {
  actionText,
  type ChangeRow,
  changeCounts,
  count,
  isPreviousCompanion,
  restartHints,
} from './summary.js';

/** GitHub refuses PR bodies over 65,536 characters; stay well inside it. */
export const MAX_BODY = 60_000;
export const BODY_MARKER = '<!-- gitops-secrets:job=';

export interface BodyInput {
  job: Job;
  base: string;
  rows: ChangeRow[];
  config: Config;
  /** Files of the working copy the commit carries to the base ("config added", ...). */
  carriedFiles?: { path: string; kind: string }[];
  /** Kustomizations the commit changes so that they list the manifests. */
  kustomizations?: { path: string; kind: string }[];
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

function render(
  { job, base, rows, config, carriedFiles, kustomizations }: BodyInput,
  shown: number,
): string {
  const changed = rows.filter((r) => r.action !== 'needs input');
  const secrets = new Set(changed.map((r) => r.id));
  const what = changeCounts(rows);
  const out = [
    `## gitops-secrets ${job}`,
    '',
    `${
      what.length > 0
        ? `This pull request changes ${count(secrets.size, 'secret')} against ${codeSpan(base)}: ${what.join(', ')}. `
        : `This pull request changes no value against ${codeSpan(base)}. `
    }Values are encrypted with sops; this page shows key names only, never values.`,
    '',
    ...carried([...(carriedFiles ?? []), ...(kustomizations ?? [])]),
    ...table(rows, shown),
    ...restarts(config, rows),
    ...rollouts(config, rows),
  ];
  if (rows.some(isPreviousCompanion))
    out.push(
      '',
      'Keys ending in `_PREVIOUS` keep the value before this rotation, so consumers that accept two keys keep working during the rollover; the next rotation replaces them.',
    );
  out.push(...needsInput(rows.filter((r) => r.action === 'needs input')), ...checklist(job));
  out.push('', `${BODY_MARKER}${job} -->`);
  return out.join('\n');
}

/** The working copy's files the commit carries, one line each. */
function carried(files: { path: string; kind: string }[]): string[] {
  if (files.length === 0) return [];
  return [...files.map((f) => `- ${codeSpan(f.path)}: ${f.kind}`), ''];
}

/** The change table: the first `shown` rows, then a count per action of the rest. */
function table(rows: ChangeRow[], shown: number): string[] {
  const out = ['| Secret | Key | Action | Reason |', '| --- | --- | --- | --- |'];
  for (const r of rows.slice(0, shown))
    out.push(
      `| ${codeSpan(r.id, true)} | ${r.key === '*' ? '(all keys)' : codeSpan(r.key, true)} | ${actionText(r)} | ${inlineText(r.reason)} |`,
    );
  if (shown < rows.length) {
    const rest = rows.slice(shown);
    const byAction = new Map<string, number>();
    for (const r of rest) byAction.set(actionText(r), (byAction.get(actionText(r)) ?? 0) + 1);
    const parts = [...byAction].map(([a, n]) => `${n} ${a}`).join(', ');
    out.push(
      '',
      `…and ${rest.length} more changes (${parts}) in ${new Set(rest.map((r) => r.id)).size} secrets; the commit lists every file.`,
    );
  }
  return out;
}

function restarts(config: Config, rows: ChangeRow[]): string[] {
  const list = restartHints(config, rows);
  if (list.length === 0) return [];
  const out = ['', '### Restart after merge', ''];
  const shown = list.slice(0, 200);
  for (const h of shown) out.push(`- ${codeSpan(h.secret)}: ${codeSpan(h.command)}`);
  if (list.length > shown.length) out.push(`- …and ${list.length - shown.length} more`);
  return out;
}

function rollouts(config: Config, rows: ChangeRow[]): string[] {
  const changedValues = new Set(
    rows
      .filter((r) => r.action === 'rotated' || r.action === 'provided')
      .map((r) => r.id.split('@')[0]),
  );
  const list = config.secrets.filter(
    (s) => s.rollout.length > 0 && changedValues.has(`${s.namespace}/${s.name}`),
  );
  if (list.length === 0) return [];
  return [
    '',
    '### Rollout',
    '',
    `These workloads get a new \`${ROLLOUT_ANNOTATION}\` pod annotation in this PR, so the GitOps controller restarts them after merge:`,
    '',
    ...list
      .slice(0, 200)
      .map(
        (s) =>
          `- ${codeSpan(`${s.namespace}/${s.name}`)}: ${s.rollout.map((p) => codeSpan(p)).join(', ')}`,
      ),
  ];
}

function needsInput(needs: ChangeRow[]): string[] {
  if (needs.length === 0) return [];
  const out = ['', '### Needs input from a person', ''];
  for (const r of needs.slice(0, 100)) {
    const env = r.id.includes('@') ? ` --env ${r.id.split('@')[1]}` : '';
    out.push(
      `- ${codeSpan(r.id)} ${codeSpan(r.key)}: ${inlineText(r.reason)} (${codeSpan(`gitops-secrets set ${r.id.split('@')[0]} ${r.key}${env}`)})`,
    );
  }
  if (needs.length > 100) out.push(`- …and ${needs.length - 100} more`);
  return out;
}

function checklist(job: Job): string[] {
  return [
    '',
    '### Reviewer checklist',
    '',
    '- [ ] The secrets and keys above are the ones you expect.',
    ...(job === 'rotate'
      ? [
          '- [ ] Merge, let the GitOps controller apply it, then run the restart commands (or check the rollout).',
          '- [ ] Consumers that cache the old value are restarted before the next rotation.',
        ]
      : ['- [ ] Merge before deploying the consumers that read these keys.']),
    '- [ ] Only files under the secrets output path changed.',
  ];
}
