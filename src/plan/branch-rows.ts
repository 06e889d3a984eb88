import type { SharedSpec } from '../config/types.js';
import type { KeyState, ManifestInfo, ManifestMeta } from '../model/manifest.js';
import { recipientChange } from '../model/recipients.js';
import { metadataDrift } from './metadata.js';
import { dueReason } from './rotation.js';
import type { FilePlan, Plan } from './types.js';

/**
 * A change an earlier run left on the job branch, as the run that made it described it. The
 * kinds are a subset of summary.ts's `ChangeKind` (this module must not import summary.ts).
 */
export interface BranchRow {
  id: string;
  path: string;
  key: string;
  action: 'generated' | 'rotated' | 'provided' | 'removed' | 're-keyed' | 'metadata changed';
  forced?: true;
  reason: string;
}

/**
 * What the job branch holds against the base, read from the two sides' plaintext metadata (key
 * names, state annotations, recipients) only, so that every run describes it the same way: the
 * kind and reason of each row are the ones the run that made the change gave it (keys.ts,
 * rotation.ts, `set`). A sync branch never rotates: a value it replaced came from a person.
 */
export function branchRows(
  plan: Plan,
  base: Map<string, ManifestInfo>,
  start: Map<string, ManifestInfo>,
  shared: Map<string, SharedSpec> | undefined,
  /** Paths the branch re-encrypted with a new data key. */
  renewed: Set<string> = new Set(),
): BranchRow[] {
  const ctx: BranchContext = { plan, base, shared: shared ?? new Map(), renewed };
  const rows = plan.files.flatMap((f) => fileRows(ctx, f, base.get(f.path), start.get(f.path)));
  // Secrets a pruning run removed from the branch.
  const planned = new Set(plan.files.map((f) => f.path));
  for (const [path, b] of base) {
    if (start.has(path) || planned.has(path) || plan.job !== 'sync' || !b.managed) continue;
    rows.push({
      id: `${b.namespace}/${b.name}`,
      path,
      key: '*',
      action: 'removed',
      reason: 'secret no longer in the config',
    });
  }
  return rows;
}

interface BranchContext {
  plan: Plan;
  base: Map<string, ManifestInfo>;
  shared: Map<string, SharedSpec>;
  renewed: Set<string>;
}

/** One file's changes on the branch (base `b` → start `s`). */
function fileRows(
  ctx: BranchContext,
  file: FilePlan,
  b: ManifestInfo | undefined,
  s: ManifestInfo | undefined,
): BranchRow[] {
  if (!s || s === b) return [];
  const rows: BranchRow[] = [];
  const row = (key: string, action: BranchRow['action'], reason: string, forced = false) =>
    rows.push({
      id: file.id,
      path: file.path,
      key,
      action,
      ...(forced ? { forced: true as const } : {}),
      reason,
    });
  for (const key of s.dataKeys) {
    const after = s.state.keys[key];
    const before = b?.state.keys[key];
    if (!after) continue;
    if (!b?.dataKeys.includes(key)) {
      const [action, reason] = added(ctx, file, after);
      row(key, action, reason);
    } else if (before && after.rotated !== before.rotated) {
      if (after.previousOf) {
        const main = rotation(ctx, file, after.previousOf, b, s);
        row(key, 'rotated', `value of ${after.previousOf} before this rotation`, main.forced);
      } else if (ctx.plan.job === 'sync') {
        row(key, 'provided', replacedReason(after));
      } else {
        const r = rotation(ctx, file, key, b, s);
        row(key, 'rotated', r.reason, r.forced);
      }
    }
  }
  for (const key of b?.dataKeys ?? [])
    if (!s.dataKeys.includes(key)) row(key, 'removed', 'no longer in the config');
  const rekey = b ? recipientChange(s.recipients, b.recipients) : undefined;
  // As plan-job.ts words a re-key with `--rotate-data-key`.
  const fresh = ctx.renewed.has(file.path) ? ', with a new data key' : '';
  if (rekey) row('*', 're-keyed', `${rekey.reason}${fresh}; no value changes`);
  const drift =
    b?.metadata && s.metadata && !sameMeta(b.metadata, s.metadata)
      ? metadataDrift(file.secret, b.metadata)
      : undefined;
  if (drift) row('*', 'metadata changed', drift.text);
  return rows;
}

/** A key the base does not hold: how it came to be on the branch. */
function added(ctx: BranchContext, file: FilePlan, after: KeyState): [BranchRow['action'], string] {
  if (after.previousOf) return ['generated', `value of ${after.previousOf} before this rotation`];
  if (after.provided) return ['provided', 'value provided by a person'];
  if (!after.shared) return ['generated', 'missing'];
  if (ctx.shared.get(after.shared)?.source.kind === 'provided')
    return ['provided', `shared value ${after.shared} replaced by a person`];
  const inUse = holderOnBase(ctx, file, after.shared) !== undefined;
  return ['generated', `shared value ${after.shared}${inUse ? ', already in use' : ''}`];
}

function replacedReason(after: KeyState): string {
  return after.shared
    ? `shared value ${after.shared} replaced by a person`
    : 'value provided by a person';
}

/**
 * Why a key the branch rotated was rotated: forced when its state says so (`rotate --force`),
 * else due by its policy at the time of the rotation (its `rotated` time), or else forced.
 */
function rotation(
  ctx: BranchContext,
  file: FilePlan,
  key: string,
  b: ManifestInfo,
  s: ManifestInfo,
): { reason: string; forced: boolean } {
  const after = s.state.keys[key];
  const at = new Date(after?.rotated ?? '');
  const name = after?.shared;
  const spec = file.secret.keys.find((k) => k.name === key);
  const policy = name ? ctx.shared.get(name)?.rotateEvery : spec?.rotateEvery;
  const before = b.state.keys[key];
  const last = name
    ? (holderOnBase(ctx, file, name) ?? '')
    : (before?.rotated ?? before?.generated ?? '');
  // Recorded by `rotate --force` (older runs did not): forced even when it was due.
  const due =
    after?.forced || Number.isNaN(at.getTime()) ? undefined : dueReason(policy, last, at, false);
  const reason = due ?? dueReason(policy, last, at, true)!;
  return { reason: name ? `shared value ${name}: ${reason}` : reason, forced: due === undefined };
}

/**
 * The latest `rotated` time of the shared value `name` among the base's consumers in the file's
 * environment (the holder the plan reuses or rotates), or undefined when the base has none.
 */
function holderOnBase(ctx: BranchContext, file: FilePlan, name: string): string | undefined {
  let latest: string | undefined;
  for (const f of ctx.plan.files) {
    if (f.environment !== file.environment) continue;
    const info = ctx.base.get(f.path);
    if (!info) continue;
    for (const k of f.secret.keys) {
      if (k.source.kind !== 'shared' || k.source.from !== name) continue;
      if (!info.dataKeys.includes(k.name)) continue;
      const rotated = info.state.keys[k.name]?.rotated ?? '';
      if (latest === undefined || rotated > latest) latest = rotated;
    }
  }
  return latest;
}

/** The branch left a manifest's plaintext metadata as the base has it. */
function sameMeta(a: ManifestMeta, b: ManifestMeta): boolean {
  const same = (x: Record<string, string>, y: Record<string, string>) =>
    Object.keys(x).length === Object.keys(y).length &&
    Object.entries(x).every(([k, v]) => y[k] === v);
  return a.type === b.type && same(a.labels, b.labels) && same(a.annotations, b.annotations);
}
