import type { KeySpec } from '../config/types.js';
import type { ManifestInfo } from '../model/manifest.js';
import { consumersOf, declaredKeys, groupOf, type Instance, isSelected } from './instances.js';
import { dueReason } from './rotation.js';
import { needShared, type PlanContext, rotatedOnBranch } from './shared.js';
import type { KeyChange } from './types.js';

/** What happens to each key of one Secret's file (`info`: the file as it is, if it exists). */
export function keyChanges(
  ctx: PlanContext,
  inst: Instance,
  info: ManifestInfo | undefined,
): KeyChange[] {
  const job = ctx.input.job;
  const present = new Set(info?.dataKeys ?? []);
  const changes: KeyChange[] = [];
  for (const key of inst.secret.keys) {
    // Derived keys follow their inputs (derived.ts).
    if (key.source.kind === 'derived') continue;
    if (!present.has(key.name)) {
      if (job !== 'rotate') changes.push(missingKey(ctx, inst, key));
    } else if (job === 'rotate') {
      // A shared value that is due rotates in every secret that uses it, selected or not: they
      // must keep holding the same value.
      changes.push(
        ...(key.source.kind === 'shared'
          ? dueSharedKey(ctx, inst, key, key.source.from, present)
          : dueOwnKey(ctx, inst, key, info!, present)),
      );
    }
  }
  // Keys in the file that the config no longer declares.
  if (info && job === 'sync') {
    const declared = declaredKeys(ctx.input.config, inst.secret);
    for (const k of info.dataKeys)
      if (!declared.has(k))
        changes.push({ key: k, action: 'remove', reason: 'no longer in the config' });
  }
  return changes;
}

/** A key the file does not hold yet. */
function missingKey(ctx: PlanContext, inst: Instance, key: KeySpec): KeyChange {
  const src = key.source;
  if (src.kind === 'provided')
    return { key: key.name, action: 'needs-input', reason: src.description };
  if (src.kind === 'derived') throw new Error('derived keys follow their inputs (derived.ts)');
  if (src.kind !== 'shared')
    return {
      key: key.name,
      action: 'generate',
      reason: 'missing',
      value: { kind: 'own', source: src },
    };
  const need = needShared(ctx, src.from, inst.environment);
  if (need.action === 'needs-input')
    return {
      key: key.name,
      action: 'needs-input',
      reason: `shared value ${src.from}: ${need.reason}`,
    };
  return {
    key: key.name,
    action: 'generate',
    reason:
      need.action === 'reuse' && heldOnBase(ctx, src.from, inst.environment)
        ? `shared value ${src.from}, already in use`
        : `shared value ${src.from}`,
    value: { kind: 'shared', group: need.group },
  };
}

/**
 * The base already holds the shared value `name` in the environment. A value only an open job
 * branch holds is new to the base: its consumers read `shared value X` on every run
 * (plan/branch-rows.ts describes the branch against the base the same way).
 */
function heldOnBase(ctx: PlanContext, name: string, environment: string | undefined): boolean {
  const base = ctx.input.base;
  if (!base) return true;
  return (consumersOf(ctx.input.config).get(name) ?? []).some(
    (c) =>
      c.environment === environment &&
      c.secret.keys.some(
        (k) =>
          k.source.kind === 'shared' &&
          k.source.from === name &&
          base.get(c.path)?.dataKeys.includes(k.name),
      ),
  );
}

/** A key that carries the shared value `name`: it rotates when that value is due. */
function dueSharedKey(
  ctx: PlanContext,
  inst: Instance,
  key: KeySpec,
  name: string,
  present: Set<string>,
): KeyChange[] {
  const due = ctx.due.get(groupOf(name, inst.environment));
  if (!due) return [];
  const need = needShared(ctx, name, inst.environment, due);
  if (need.action === 'needs-input')
    return [
      {
        key: key.name,
        action: 'needs-input',
        reason: `shared value ${name} is due (${due}): needs a new value from a person`,
      },
    ];
  const forced = ctx.selection?.force ?? false;
  const rotate: KeyChange = {
    key: key.name,
    action: 'rotate',
    reason: `shared value ${name}: ${due}`,
    ...(forced ? { forced } : {}),
    value: { kind: 'shared', group: need.group },
  };
  const keep = ctx.input.config.shared.get(name)?.keepPrevious;
  return keep ? [rotate, previous(key.name, present, forced)] : [rotate];
}

/** A key with its own value: it rotates when selected and due. */
function dueOwnKey(
  ctx: PlanContext,
  inst: Instance,
  key: KeySpec,
  info: ManifestInfo,
  present: Set<string>,
): KeyChange[] {
  const src = key.source;
  if (
    src.kind === 'shared' ||
    src.kind === 'derived' ||
    !isSelected(ctx.selection, inst.secret, key.name)
  )
    return [];
  if (rotatedOnBranch(ctx.input, inst.path, key.name)) return [];
  const state = info.state.keys[key.name];
  const rotated = state?.rotated ?? state?.generated ?? '';
  const force = ctx.selection?.force ?? false;
  const reason = dueReason(key.rotateEvery, rotated, ctx.input.now, force);
  if (!reason) return [];
  if (src.kind === 'provided')
    return [
      {
        key: key.name,
        action: 'needs-input',
        reason: `${reason}: needs a new value from a person`,
      },
    ];
  const rotate: KeyChange = {
    key: key.name,
    action: 'rotate',
    reason,
    ...(force ? { forced: true } : {}),
    value: { kind: 'own', source: src },
  };
  return key.keepPrevious ? [rotate, previous(key.name, present, force)] : [rotate];
}

/** The `_PREVIOUS` companion of a rotated key: it keeps the value before the rotation. */
function previous(key: string, present: Set<string>, forced: boolean): KeyChange {
  const name = `${key}_PREVIOUS`;
  return {
    key: name,
    action: present.has(name) ? 'rotate' : 'generate',
    reason: `value of ${key} before this rotation`,
    ...(forced && present.has(name) ? { forced } : {}),
    value: { kind: 'previous', of: key },
  };
}
