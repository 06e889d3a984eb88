import type { ManifestInfo } from '../model/manifest.js';
import { oneLine } from './markdown.js';
import type { Plan } from './plan.js';

/** One line of the change table shown in PRs, commit messages and `--dry-run`. */
export interface ChangeRow {
  id: string;
  path: string;
  key: string;
  action: 'generated' | 'rotated' | 'removed' | 'needs input' | 're-encrypted' | 'set';
  reason: string;
}

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
    for (const c of file.changes) {
      const action =
        c.action === 'generate'
          ? 'generated'
          : c.action === 'rotate'
            ? 'rotated'
            : c.action === 'remove'
              ? 'removed'
              : c.action === 'set'
                ? 'set'
                : 'needs input';
      add({ id: file.id, path: file.path, key: c.key, action, reason: c.reason });
    }
    if (file.reencrypt)
      add({
        id: file.id,
        path: file.path,
        key: '*',
        action: 're-encrypted',
        reason: `${file.reencrypt.reason}; no value changes`,
      });
    // Changes an earlier run made on the branch, which this PR still carries.
    const b = base.get(file.path);
    const s = start.get(file.path);
    if (!s || s === b) continue;
    for (const key of s.dataKeys) {
      const after = s.state.keys[key];
      const before = b?.state.keys[key];
      if (!b?.dataKeys.includes(key)) {
        const reason = after?.previousOf
          ? `value of ${after.previousOf} before this rotation`
          : 'missing';
        add({ id: file.id, path: file.path, key, action: 'generated', reason });
      } else if (after && before && after.rotated !== before.rotated) {
        add({
          id: file.id,
          path: file.path,
          key,
          action: 'rotated',
          reason: `rotated ${after.rotated.slice(0, 10)}`,
        });
      }
    }
    for (const key of b?.dataKeys ?? []) {
      if (!s.dataKeys.includes(key))
        add({
          id: file.id,
          path: file.path,
          key,
          action: 'removed',
          reason: 'no longer in the config',
        });
    }
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

/**
 * Printable ASCII in the order of the Unicode root collation (CLDR, as ICU has it for "en"):
 * spaces and punctuation, symbols, digits, then letters, each lower-case letter just before its
 * capital. test/text-order.test.ts checks it against Intl.Collator.
 */
const ASCII_ORDER =
  ' _-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ';
/** Each printable ASCII character's primary weight (a letter's two cases share one); 0 elsewhere. */
const PRIMARY = new Uint8Array(128);
{
  let weight = 0;
  for (const c of ASCII_ORDER) {
    const code = c.charCodeAt(0);
    PRIMARY[code] = code >= 65 && code <= 90 ? weight : ++weight;
  }
}
let collator: Intl.Collator['compare'] | undefined;
const PRINTABLE_ASCII = /^[ -~]*$/;

/**
 * The order rows, keys and paths are shown in (PR tables, commit messages, `check`): that of
 * `new Intl.Collator('en').compare`, whatever the machine's locale (a runner's C.UTF-8 and a
 * laptop's da_DK would otherwise order "aa" differently). Text of printable ASCII, which is
 * nearly all there is (names, keys, paths), is compared here: setting up ICU's collator takes
 * ~14 ms, which every run paid when it loaded. Anything else goes to the collator itself.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  if (!PRINTABLE_ASCII.test(a) || !PRINTABLE_ASCII.test(b)) {
    collator ??= new Intl.Collator('en').compare;
    return collator(a, b);
  }
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Letters first without their case; the first difference decides, then the shorter text.
  for (let k = i; k < n; k++) {
    const d = PRIMARY[a.charCodeAt(k)]! - PRIMARY[b.charCodeAt(k)]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  // Equal but for case: lower case first, where they first differ ('a' is 97, 'A' 65).
  return a.charCodeAt(i) > b.charCodeAt(i) ? -1 : 1;
}
