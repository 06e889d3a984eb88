import { isAbsolute, relative, sep } from 'node:path';
import { readRepoText } from '../config/repo-file.js';
import { UsageError } from '../errors.js';
import { SOPS_YAML } from '../model/sops-yaml-check.js';
import type { GitPort } from '../ports/git.js';
import { blobId } from '../ports/git-trees.js';
import type { Located } from './locate.js';

/** How a carried file differs from the base's. */
export type CarriedKind =
  | 'config added'
  | 'config changed'
  | 'recipients added'
  | 'recipients changed';

/** A file of the working copy (the config, `.sops.yaml`) the job's commit carries to the base. */
export interface CarriedFile {
  path: string;
  kind: CarriedKind;
  text: string;
  /** The job branch holds this text already: carrying it again is no new work. */
  proposed: boolean;
}

/** The config's path relative to the repository root, or undefined when it is outside. */
export function repoRelative(root: string, configPath: string): string | undefined {
  const rel = relative(root, configPath);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * The working copy's config and `.sops.yaml` where they differ from the base's: the run plans
 * with them and its commit carries them ("one view"). A file the base changed since the commit
 * the working copy is on (their merge base) is refused: the working copy is behind or has
 * diverged, and carrying its version would silently undo the base's change.
 */
export async function workingCopyFiles(
  git: GitPort,
  where: Located,
  /** The config's repo-relative path, and its text when the caller read it already. */
  config: { path: string; text?: string | undefined } | undefined,
  remote: string,
): Promise<CarriedFile[]> {
  const wanted = [
    ...(config ? [{ path: config.path, what: 'config' as const }] : []),
    { path: SOPS_YAML, what: 'recipients' as const },
  ];
  const texts = new Map<string, string>();
  if (config?.text !== undefined) texts.set(config.path, config.text);
  for (const w of wanted) {
    if (texts.has(w.path)) continue;
    const text = await readRepoText(
      git.root,
      w.path,
      w.what === 'config' ? 'config' : 'sops config',
    );
    if (text !== undefined) texts.set(w.path, text);
  }
  if (texts.size === 0) return [];
  const paths = [...texts.keys()];
  // Compared by blob id, hashed here: no git process when nothing differs (the listing of the
  // base is the one the run made already).
  const onBase = await git.listFiles(where.baseSha, paths);
  const sha256 = [...onBase.values()].some((id) => id.length === 64);
  const ids = new Map(paths.map((p) => [p, blobId(texts.get(p) ?? '', sha256)]));
  const differ = paths.filter((p) => onBase.get(p) !== ids.get(p));
  if (differ.length === 0) return [];
  await refuseBehind(git, where, differ, onBase, remote);
  const onBranch = where.branchSha
    ? await git.listFiles(where.branchSha, differ)
    : new Map<string, string>();
  return wanted
    .filter((w) => differ.includes(w.path))
    .map((w) => ({
      path: w.path,
      kind: `${w.what} ${onBase.has(w.path) ? 'changed' : 'added'}` as CarriedKind,
      text: texts.get(w.path) ?? '',
      proposed: onBranch.get(w.path) === ids.get(w.path),
    }));
}

/** Exit 2 when the base changed one of these files since the working copy's merge base. */
async function refuseBehind(
  git: GitPort,
  where: Located,
  paths: string[],
  onBase: Map<string, string>,
  remote: string,
): Promise<void> {
  const head = await git.resolve('HEAD');
  const mb = head ? await git.mergeBase(head, where.baseSha) : undefined;
  const atMb = mb ? await git.listFiles(mb, paths) : new Map<string, string>();
  const newer = paths.filter((p) => onBase.get(p) !== atMb.get(p));
  if (newer.length === 0) return;
  const lines = newer.map(
    (p) =>
      `  ${p}: ${where.base} ${!onBase.has(p) ? 'removed' : atMb.has(p) ? 'changed' : 'added'} it since ${mb ? `the commit your working copy is on (${mb.slice(0, 7)})` : 'your working copy (no common commit)'}, and your working copy's differs`,
  );
  throw new UsageError(
    `the working copy is behind or has diverged from ${where.base}:\n${lines.join('\n')}`,
    `pull first (git pull ${remote} ${where.base}), merge your edits of ${newer.join(', ')} into ${where.base}'s, then run again`,
  );
}
