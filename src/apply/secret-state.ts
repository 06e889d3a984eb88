import { parse } from 'yaml';
import { ExternalError } from '../errors.js';
import type { KeyState } from '../model/manifest.js';
import type { FilePlan, KeyChange } from '../plan/plan.js';
import { sshKind } from '../plan/ssh-drift.js';

/** The state annotation's entry for a key a change writes. */
export function keyState(
  file: FilePlan,
  change: KeyChange,
  now: string,
  before: KeyState | undefined,
): KeyState {
  if (change.value?.kind === 'carried') return change.value.state;
  const spec = file.secret.keys.find((k) => k.name === change.key);
  const shared = spec?.source.kind === 'shared' ? spec.source.from : undefined;
  const previousOf = change.value?.kind === 'previous' ? change.value.of : undefined;
  return {
    generated:
      (change.action === 'rotate' || change.action === 'set') && before ? before.generated : now,
    rotated: now,
    ...(shared ? { shared } : {}),
    ...(spec?.source.kind === 'provided' ? { provided: true } : {}),
    ...(previousOf ? { previousOf } : {}),
    ...(spec?.source.kind === 'derived' ? { derived: spec.source.fingerprint } : {}),
    ...(spec?.source.kind === 'ssh' ? { ssh: sshKind(spec.source) } : {}),
    // A forced rotation reads as forced on a rerun even when the key was due (branch-rows.ts).
    ...(change.action === 'rotate' && change.forced ? { forced: true as const } : {}),
  };
}

/** Plaintext values of a decrypted manifest, decoded from base64; kept in memory only. */
export function decodeData(text: string, path: string): Record<string, string> {
  const doc = parse(text) as { data?: Record<string, unknown> } | null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc?.data ?? {})) {
    if (typeof v !== 'string')
      throw new ExternalError('sops', `${path}: data.${k} is not a string after decrypting`);
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return out;
}
