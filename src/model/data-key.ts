import { parse } from 'yaml';
import type { ManifestInfo } from './manifest.js';

/**
 * Whether the branch's version of a manifest was encrypted again with a new data key (`sops
 * rotate`, `--rotate-data-key`) rather than re-wrapped for its recipients (`sops updatekeys`,
 * which leaves every value's ciphertext as it was). Told from the values the branch did not
 * write (their state entries are the base's): a new data key changes their ciphertext, nothing
 * else does (sops keeps the ciphertext of a value it does not change). False when no value was
 * left as it was, or a text cannot be read: the change then reads as a plain re-key.
 */
export function newDataKey(
  base: { info: ManifestInfo; text: string },
  branch: { info: ManifestInfo; text: string },
): boolean {
  const before = dataOf(base.text);
  const after = dataOf(branch.text);
  if (!before || !after) return false;
  return branch.info.dataKeys.some((key) => {
    const was = base.info.state.keys[key];
    const is = branch.info.state.keys[key];
    if (!was || !is || JSON.stringify(was) !== JSON.stringify(is)) return false;
    const a = before[key];
    const b = after[key];
    return typeof a === 'string' && typeof b === 'string' && a !== b;
  });
}

function dataOf(text: string): Record<string, unknown> | undefined {
  try {
    const doc = parse(text) as { data?: unknown } | null;
    const data = doc?.data;
    return data && typeof data === 'object' ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
