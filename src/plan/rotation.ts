import type { KeySpec } from '../config/types.js';

/** Why a value is due now, or undefined when it is not. */
export function dueReason(
  rotateEvery: KeySpec['rotateEvery'],
  rotated: string,
  now: Date,
  force: boolean,
): string | undefined {
  const last = rotated ? rotated.slice(0, 10) : 'never';
  if (force) return `forced; last rotated ${last}`;
  if (!rotateEvery) return undefined;
  const at = Date.parse(rotated);
  if (Number.isNaN(at)) return `no rotation date recorded, policy ${rotateEvery.text}`;
  if (now.getTime() - at >= rotateEvery.ms)
    return `last rotated ${last}, policy ${rotateEvery.text}`;
  return undefined;
}

/** When a key is next due, as an ISO date, or undefined without a policy. */
export function nextDue(
  rotateEvery: KeySpec['rotateEvery'],
  rotated: string | undefined,
): string | undefined {
  if (!rotateEvery || !rotated) return undefined;
  const at = Date.parse(rotated);
  return Number.isNaN(at) ? undefined : new Date(at + rotateEvery.ms).toISOString();
}
