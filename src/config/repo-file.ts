// Files of the working copy the tool reads as input (the config, .sops.yaml): they must be
// files of the repository. A symlink that leads out of it (to another checkout, a home
// directory, /etc) is refused rather than followed; one that stays inside is followed.

import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { decodeUtf8, notUtf8Message } from './utf8.js';

/** `path` (real, absolute) is `root` (real, absolute) or below it. */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Refuses `path` (shown to the user as `shown`) when it resolves, through symlinks or `..`, to
 * a file outside the repository `root`. A path that does not exist is left to the caller (its
 * own "cannot read" message).
 */
export async function refuseOutsideRepo(
  root: string,
  path: string,
  shown: string,
  what: string,
): Promise<void> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
  } catch {
    return;
  }
  if (isInside(realRoot, real)) return;
  throw new UsageError(
    `${what} ${shown} resolves to ${real}, outside the repository ${realRoot}; refusing to read it`,
    `keep ${shown} inside the repository: a regular file, or a symlink to a file in the repository`,
  );
}

/** `bytes` as text, or a UsageError naming `shown` and where its first bad byte is. */
export function utf8Text(bytes: Uint8Array, shown: string): string {
  const r = decodeUtf8(bytes);
  if (r.text !== undefined) return r.text;
  throw new UsageError(`${shown}: ${notUtf8Message(r)}`);
}

/**
 * The text of a file of the working copy (`rel`, repo-relative), or undefined when there is none:
 * refused when it leads outside the repository or is not UTF-8.
 */
export async function readRepoText(
  root: string,
  rel: string,
  what: string,
): Promise<string | undefined> {
  const path = join(root, rel);
  await refuseOutsideRepo(root, path, rel, what);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  return utf8Text(bytes, rel);
}
