import type { KeySpec, SecretSpec } from '../config/types.js';
import type { DerivedSource } from '../config/types-derived.js';
import type { KeyState } from '../model/state.js';
import type { Job, KeyChange } from './types.js';

/** What a file holds, read without decrypting. */
export interface Held {
  dataKeys: string[];
  state: { keys: Record<string, KeyState> };
}

const WRITES: ReadonlySet<KeyChange['action']> = new Set(['generate', 'rotate', 'set']);

type DerivedKey = KeySpec & { source: DerivedSource };

function isDerived(key: KeySpec): key is DerivedKey {
  return key.source.kind === 'derived';
}

/**
 * The changes of one Secret's derived keys (issue 23), after the changes of the keys they are
 * made from: a derived key is written in the same commit as any of its inputs (generated,
 * rotated, forced or `set`), never alone. `held`: the file as it is; without it (`set` changing a
 * plan), a key counts as present unless the plan generates it or waits for it. In a sync, a
 * derived key is also made again when its definition changed in the config (the fingerprint in
 * the state annotation) or an input was written after it: both read without decrypting.
 */
export function followInputs(
  secret: SecretSpec,
  changes: KeyChange[],
  job: Job,
  held: Held | undefined,
): KeyChange[] {
  const derived = secret.keys.filter(isDerived);
  if (derived.length === 0) return changes;
  const names = new Set(derived.map((k) => k.name));
  const before = new Map(changes.filter((c) => names.has(c.key)).map((c) => [c.key, c]));
  const out = changes.filter((c) => !names.has(c.key));
  const changeOf = (key: string) => out.find((c) => c.key === key);
  for (const key of derived) {
    const was = before.get(key.name);
    const present = held
      ? held.dataKeys.includes(key.name)
      : was?.action !== 'generate' && was?.action !== 'needs-input';
    const inputs = key.source.inputs;
    const written = inputs.filter((i) => WRITES.has(changeOf(i)?.action ?? 'metadata'));
    // Inputs with no value yet: neither written now nor held by the file.
    const waiting = inputs.filter(
      (i) => !written.includes(i) && !(held?.dataKeys.includes(i) ?? !changeOf(i)),
    );
    if (!present) {
      if (job === 'rotate') continue;
      out.push(
        waiting.length > 0
          ? { key: key.name, action: 'needs-input', reason: `made from ${waiting.join(', ')}` }
          : { key: key.name, action: 'generate', reason: 'missing', value: { kind: 'derived' } },
      );
      continue;
    }
    const stale = written.length > 0 ? undefined : staleReason(key, job, held);
    if (written.length === 0 && !stale) {
      if (was) out.push(was);
      continue;
    }
    if (waiting.length > 0) {
      // It would be made again, but an input has no value yet: it waits, its value stays.
      const them = waiting.length > 1 ? 'they have' : 'it has';
      out.push({
        key: key.name,
        action: 'needs-input',
        reason: `made from ${waiting.join(', ')}; ${them} no value yet (the current value stays)`,
      });
      continue;
    }
    const forced = written.some((i) => changeOf(i)?.forced);
    out.push({
      key: key.name,
      action: 'rotate',
      reason:
        stale ??
        `made from ${written.join(', ')}, which change${written.length > 1 ? '' : 's'} too`,
      ...(forced ? { forced } : {}),
      value: { kind: 'derived' },
    });
  }
  return out;
}

/** Why a sync makes a present derived key again though no input changes now. */
function staleReason(key: DerivedKey, job: Job, held: Held | undefined): string | undefined {
  if (job !== 'sync' || !held) return undefined;
  const own = held.state.keys[key.name];
  if (!own) return undefined;
  if (own.derived !== key.source.fingerprint) return 'its definition in the config changed';
  const newer = key.source.inputs.filter((i) => (held.state.keys[i]?.rotated ?? '') > own.rotated);
  return newer.length > 0 ? `${newer.join(', ')} changed after it was made` : undefined;
}
