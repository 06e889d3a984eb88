import type { ManifestInfo } from '../model/manifest.js';
import { oneLine } from './markdown.js';
import type { FilePlan, KeyChange, Plan } from './plan.js';
import { compareText } from './text-order.js';

/** One line of the change table shown in PRs, commit messages and `--dry-run`. */
export interface ChangeRow {
  id: string;
  path: string;
  key: string;
  action: 'generated' | 'rotated' | 'removed' | 'needs input' | 're-encrypted' | 'set';
  reason: string;
}

const ACTION_WORDS: Record<KeyChange['action'], ChangeRow['action']> = {
  generate: 'generated',
  rotate: 'rotated',
  remove: 'removed',
  set: 'set',
  'needs-input': 'needs input',
};

/**
 * Everything the job branch changes relative to the base: what earlier runs left on the
 * branch (`before` → `start`) and what this run adds (`plan`).
 */
export function changeRows(
  plan: Plan,
  base: Map<string, ManifestInfo>,
  start: Map<string, ManifestInfo>,
): ChangeRow[] {
  const rows: ChangeRow[] = [];
  const seen = new Set<string>();
  const add = (row: ChangeRow) => {
    const id = `${row.path}\0${row.key}`;
    if (seen.has(id)) return;
    seen.add(id);
    rows.push(row);
  };
  for (const file of plan.files) {
    for (const c of file.changes)
      add({
        id: file.id,
        path: file.path,
        key: c.key,
        action: ACTION_WORDS[c.action],
        reason: c.reason,
      });
    if (file.reencrypt)
      add({
        id: file.id,
        path: file.path,
        key: '*',
        action: 're-encrypted',
        reason: `${file.reencrypt.reason}; no value changes`,
      });
    for (const row of branchRows(file, base.get(file.path), start.get(file.path))) add(row);
  }
  if (plan.prune) {
    for (const o of plan.orphans) {
      if (o.keys.length === 0)
        add({
          id: o.id,
          path: o.path,
          key: '*',
          action: 'removed',
          reason: 'secret no longer in the config',
        });
    }
  }
  // A stable order, so that a rerun with nothing new renders the same PR body.
  return rows.sort((a, b) => compareText(a.id, b.id) || compareText(a.key, b.key));
}

/** Changes an earlier run made to a file on the branch (base `b` → start `s`), which the PR still carries. */
function branchRows(
  file: FilePlan,
  b: ManifestInfo | undefined,
  s: ManifestInfo | undefined,
): ChangeRow[] {
  if (!s || s === b) return [];
  const rows: ChangeRow[] = [];
  const row = (key: string, action: ChangeRow['action'], reason: string) =>
    rows.push({ id: file.id, path: file.path, key, action, reason });
  for (const key of s.dataKeys) {
    const after = s.state.keys[key];
    const before = b?.state.keys[key];
    if (!b?.dataKeys.includes(key)) {
      const reason = after?.previousOf
        ? `value of ${after.previousOf} before this rotation`
        : 'missing';
      row(key, 'generated', reason);
    } else if (after && before && after.rotated !== before.rotated) {
      row(key, 'rotated', `rotated ${after.rotated.slice(0, 10)}`);
    }
  }
  for (const key of b?.dataKeys ?? [])
    if (!s.dataKeys.includes(key)) row(key, 'removed', 'no longer in the config');
  return rows;
}

/** The one-line commit subject: what changed, counted. */
export function commitSubject(job: Plan['job'], rows: ChangeRow[]): string {
  const counts = new Map<string, number>();
  const secrets = new Set<string>();
  for (const r of rows) {
    if (r.action === 'needs input') continue;
    counts.set(r.action, (counts.get(r.action) ?? 0) + (r.key === '*' ? 0 : 1));
    secrets.add(r.id);
  }
  const parts: string[] = [];
  const verbs = {
    set: 'set',
    generated: 'generate',
    rotated: 'rotate',
    removed: 'remove',
  } as const;
  for (const [action, verb] of Object.entries(verbs)) {
    const n = counts.get(action);
    if (n) parts.push(`${verb} ${n} key${n === 1 ? '' : 's'}`);
  }
  if (rows.some((r) => r.action === 're-encrypted')) parts.push('re-encrypt for new recipients');
  if (rows.some((r) => r.action === 'removed' && r.key === '*'))
    parts.push('remove orphaned secrets');
  const ids = [...secrets].sort();
  const where = ids.length <= 3 ? ids.join(', ') : `${ids.length} secrets`;
  // One line, whatever the ids hold: the subject is also the PR title, and a line break in it
  // would let text into the commit's body and trailers.
  return oneLine(`chore(secrets): ${parts.join(', ') || job} in ${where}`);
}

export const JOB_TRAILER = 'Gitops-Secrets-Job';

export function commitMessage(job: Plan['job'], rows: ChangeRow[]): string {
  return `${commitSubject(job, rows)}\n\n${JOB_TRAILER}: ${job}\n`;
}
