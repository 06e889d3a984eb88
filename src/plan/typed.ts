import { REQUIRED_KEYS } from '../config/rules-typed.js';
import type { SecretSpec } from '../config/types.js';
import type { KeyChange } from './types.js';

const WRITES: ReadonlySet<KeyChange['action']> = new Set(['generate', 'rotate', 'set']);

/**
 * Kubernetes refuses a typed Secret (issue 23) without a key its type requires. While such a key
 * of a Secret not written yet waits for a value (needs input), the Secret is not written at all:
 * each of its other changes waits too, and says for what (kept under `held`, for `set` filling
 * the key). A file that exists is left to its changes (it was written with the key).
 */
export function holdTyped(secret: SecretSpec, given: KeyChange[], exists: boolean): KeyChange[] {
  // What an earlier call held back counts again (`set` may have filled the key since).
  const changes = given.map((c) => c.held ?? c);
  const required = secret.type === undefined ? undefined : REQUIRED_KEYS[secret.type];
  if (!required || exists) return changes;
  const waiting = required.filter(
    (k) => changes.find((c) => c.key === k)?.action === 'needs-input',
  );
  if (waiting.length === 0) return changes;
  const reason = `waits for ${waiting.join(' and ')}: Kubernetes refuses a ${secret.type} Secret without ${waiting.length > 1 ? 'them' : 'it'}`;
  return changes.map((c) =>
    WRITES.has(c.action) ? { key: c.key, action: 'needs-input', reason, held: c } : c,
  );
}
