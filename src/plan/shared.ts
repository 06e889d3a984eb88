import { isProblem, type ManifestInfo, type ManifestProblem } from '../model/manifest.js';
import { consumersOf, groupOf, type Instance, isSelected } from './instances.js';
import { dueReason } from './rotation.js';
import type { PlanInput, RotateSelection, SharedPlan } from './types.js';

/** A consumer that holds a shared value, and when that value was last written. */
export interface Holder {
  path: string;
  key: string;
  rotated: string;
}

/** What the planner knows while it decides; the per-key decisions read and extend it. */
export interface PlanContext {
  input: PlanInput;
  /** The rotation's selection (undefined in a sync). */
  selection: RotateSelection | undefined;
  /** Who already holds each shared value, by group (`name` or `name@environment`). */
  holders: Map<string, Holder>;
  /** The shared values this plan needs, by group, in the order first needed. */
  needs: Map<string, SharedPlan>;
  /** The shared values due for rotation, by group: why. */
  due: Map<string, string>;
}

/** Who already holds each shared value (any consumer will do: they hold the same value). */
export function findHolders(
  instances: Instance[],
  existing: Map<string, ManifestInfo | ManifestProblem>,
): Map<string, Holder> {
  const holders = new Map<string, Holder>();
  for (const inst of instances) {
    const info = existing.get(inst.path);
    if (!info || isProblem(info)) continue;
    for (const key of inst.secret.keys) {
      if (key.source.kind !== 'shared' || !info.dataKeys.includes(key.name)) continue;
      const group = groupOf(key.source.from, inst.environment);
      const rotated = info.state.keys[key.name]?.rotated ?? '';
      const prev = holders.get(group);
      if (!prev || rotated > prev.rotated)
        holders.set(group, { path: inst.path, key: key.name, rotated });
    }
  }
  return holders;
}

/** An open job branch already rotated this key (its `_PREVIOUS` keeps the deployed value). */
export function rotatedOnBranch(input: PlanInput, path: string, key: string): boolean {
  const before = input.base?.get(path);
  const now = input.existing.get(path);
  if (!before || !now || isProblem(now) || !before.dataKeys.includes(key)) return false;
  return before.state.keys[key]?.rotated !== now.state.keys[key]?.rotated;
}

/**
 * Shared values due for rotation: they rotate once, for every consumer together. Due when a
 * selected key carries one (`--secret S --key K`: only if K is that key) and its policy (or
 * `--force`) says so, unless an open job branch already rotated it.
 */
export function dueShared(
  input: PlanInput,
  holders: Map<string, Holder>,
  selection: RotateSelection | undefined,
): Map<string, string> {
  const due = new Map<string, string>();
  if (input.job !== 'rotate') return due;
  for (const [group, holder] of holders) {
    const [name] = group.split('@') as [string];
    const spec = input.config.shared.get(name);
    if (!spec) continue;
    const consumers = consumersOf(input.config).get(name) ?? [];
    const carriers = (c: Instance) =>
      c.secret.keys.filter((k) => k.source.kind === 'shared' && k.source.from === name);
    const selected = consumers.some((c) =>
      carriers(c).some((k) => isSelected(selection, c.secret, k.name)),
    );
    if (!selected) continue;
    const env = group.includes('@') ? group.slice(group.indexOf('@') + 1) : undefined;
    const already = consumers.some(
      (c) =>
        c.environment === env && carriers(c).some((k) => rotatedOnBranch(input, c.path, k.name)),
    );
    if (already) continue;
    const reason = dueReason(
      spec.rotateEvery,
      holder.rotated,
      input.now,
      selection?.force ?? false,
    );
    if (reason) due.set(group, reason);
  }
  return due;
}

/**
 * Records that this plan needs a shared value in an environment, and returns what is done
 * about it: reuse a holder's value, generate one, ask a person, or (with `rotateReason`) rotate.
 */
export function needShared(
  ctx: PlanContext,
  name: string,
  environment: string | undefined,
  rotateReason?: string,
): SharedPlan {
  const group = groupOf(name, environment);
  const spec = ctx.input.config.shared.get(name)!;
  const holder = ctx.holders.get(group);
  const from = holder ? { from: { path: holder.path, key: holder.key } } : {};
  const provided = spec.source.kind === 'provided';
  if (rotateReason) {
    ctx.needs.set(group, {
      group,
      name,
      environment,
      action: provided ? 'needs-input' : 'rotate',
      reason: rotateReason,
      source: spec.source,
      ...from,
    });
  } else if (!ctx.needs.has(group)) {
    ctx.needs.set(group, {
      group,
      name,
      environment,
      action: holder ? 'reuse' : provided ? 'needs-input' : 'generate',
      reason: holder ? `same value as ${holder.path}` : 'missing',
      source: spec.source,
      ...from,
    });
  }
  return ctx.needs.get(group)!;
}
