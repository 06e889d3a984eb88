import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Config } from '../config/types.js';
import {
  isProblem,
  type ManifestInfo,
  type ManifestProblem,
  readManifest,
} from '../model/manifest.js';
import { templateDirs, templateMatcher } from '../model/paths.js';
import { SOPS_YAML } from '../model/sops-yaml-check.js';
import type { Plan } from '../plan/plan.js';
import type { GitPort } from '../ports/git.js';
import { blobKey, type Memo, noMemo } from '../ports/memo.js';
import type { Carried } from './apply.js';
import type { Located } from './locate.js';
import { refuseNonUtf8SopsYaml, refuseSopsYamlSymlink } from './sops-yaml-file.js';

type Manifests = Map<string, ManifestInfo | ManifestProblem>;

/** The directories below which the output template can put files (its static prefix). */
export function outputDirs(config: Config): string[] {
  return templateDirs(config.output);
}

/** Paths in a git tree listing that the output template can produce. */
export function managedPaths(config: Config, files: Map<string, string>): Map<string, string> {
  const matcher = templateMatcher(config.output);
  return new Map([...files].filter(([path]) => matcher.test(path)));
}

/** The manifests read without decrypting, keeping those that could be read. */
export function infos(map: Manifests): Map<string, ManifestInfo> {
  return new Map([...map].filter((e): e is [string, ManifestInfo] => !isProblem(e[1])));
}

/**
 * What a job starts from: the base, plus what earlier runs left on the job branch (paths by
 * blob id, manifests read without decrypting).
 */
export interface RepoState {
  /** The base's files below the output directories, and its `.sops.yaml`. */
  baseListing: Map<string, string>;
  /** The base's managed manifests. */
  baseFiles: Map<string, string>;
  /** The blob each managed path starts from: the base's, or the job branch's (below). */
  startBlobs: Map<string, string>;
  /** Paths the job branch changed (or removed: prune) and the base did not since: kept. */
  fromBranch: Set<string>;
  /** Paths both changed: the job branch's blob (its generated keys are carried over). */
  conflicted: Map<string, string>;
  /** Workload manifests an earlier rotation on the job branch bumped: kept. */
  rolloutFromBranch: Map<string, string>;
  /** The start state of each managed path the run looks at. */
  existing: Manifests;
  /** The base's manifests (for the PR's table, and rotations the branch already made). */
  base: Map<string, ManifestInfo>;
  /** The job branch's version of each conflicted path the run looks at. */
  onBranch: Manifests;
  /** The base's `.sops.yaml`, when the config names no recipients. */
  sopsYamlText: string | undefined;
  /** The merge base of the base and the job branch (none without a branch). */
  mergeBase: string | undefined;
}

/**
 * Reads the state a job plans from. `scope` (the paths a `rotate --secret` can touch) limits
 * what is read; what an earlier run changed on the job branch is added to it.
 */
export async function readRepoState(
  git: GitPort,
  config: Config,
  where: Located,
  scope: Set<string> | undefined,
  /** Other paths of the base listed with it (the config: compared with the working copy's). */
  alsoList: string[] = [],
  memo: Memo = noMemo,
): Promise<RepoState> {
  const { base, baseSha, branchSha } = where;
  const dirs = outputDirs(config);
  const baseListing = await git.listFiles(baseSha, [...dirs, SOPS_YAML, ...alsoList]);
  await refuseSopsYamlSymlink(git, baseSha, base, baseListing);
  const baseFiles = managedPaths(config, baseListing);
  const mb = branchSha ? await git.mergeBase(baseSha, branchSha) : undefined;
  const listManaged = async (commit: string | undefined) =>
    commit ? managedPaths(config, await git.listFiles(commit, dirs)) : new Map<string, string>();
  const start = startFrom(baseFiles, await listManaged(branchSha), await listManaged(mb), {
    onBranch: branchSha !== undefined,
  });
  const rolloutFromBranch = await rolloutCarried(git, config, where, mb);
  if (scope) for (const path of [...start.fromBranch, ...start.conflicted.keys()]) scope.add(path);
  const inScope = <T>(m: Map<string, T>) =>
    scope ? new Map([...m].filter(([path]) => scope.has(path))) : m;
  const sopsYamlBlob = config.sops.hasRecipients ? undefined : baseListing.get(SOPS_YAML);
  const read = await manifestReader(
    git,
    memo,
    [inScope(baseFiles), inScope(start.startBlobs), inScope(start.conflicted)],
    sopsYamlBlob,
  );
  const sopsYamlText = sopsYamlBlob ? read.text(sopsYamlBlob) : undefined;
  refuseNonUtf8SopsYaml(sopsYamlText, base);
  return {
    baseListing,
    baseFiles,
    ...start,
    rolloutFromBranch,
    existing: read.manifests(inScope(start.startBlobs)),
    base: infos(read.manifests(inScope(baseFiles))),
    onBranch: read.manifests(inScope(start.conflicted)),
    sopsYamlText,
    mergeBase: mb,
  };
}

/**
 * Which blob each path starts from, from the base's, the job branch's and their merge base's
 * listings: a change only the branch made is kept; one both made is the base's, and the
 * branch's version is remembered (`conflicted`).
 */
function startFrom(
  baseFiles: Map<string, string>,
  branchFiles: Map<string, string>,
  mbFiles: Map<string, string>,
  { onBranch }: { onBranch: boolean },
) {
  const startBlobs = new Map<string, string>();
  const fromBranch = new Set<string>();
  const conflicted = new Map<string, string>();
  for (const path of new Set([...baseFiles.keys(), ...branchFiles.keys()])) {
    const b = baseFiles.get(path);
    const s = branchFiles.get(path);
    const m = mbFiles.get(path);
    if (s !== undefined && s !== b && b === m) {
      startBlobs.set(path, s);
      fromBranch.add(path);
    } else if (s === undefined && b !== undefined && b === m && onBranch) {
      fromBranch.add(path); // removed on the branch (prune)
    } else if (b !== undefined) {
      startBlobs.set(path, b);
      if (s !== undefined && s !== b && s !== m) conflicted.set(path, s);
    }
  }
  return { startBlobs, fromBranch, conflicted };
}

/** Workload manifests bumped by an earlier rotation on the branch, the base unchanged since. */
async function rolloutCarried(
  git: GitPort,
  config: Config,
  where: Located,
  mb: string | undefined,
): Promise<Map<string, string>> {
  const paths = [...new Set(config.secrets.flatMap((x) => x.rollout))];
  const carried = new Map<string, string>();
  if (paths.length === 0 || !where.branchSha) return carried;
  const b = await git.listFiles(where.baseSha, paths);
  const s = await git.listFiles(where.branchSha, paths);
  const m = mb ? await git.listFiles(mb, paths) : new Map<string, string>();
  for (const [p, blob] of s) if (blob !== b.get(p) && b.get(p) === m.get(p)) carried.set(p, blob);
  return carried;
}

/**
 * The manifests at these paths (each blob read and parsed once per path, or taken from the memo
 * of earlier runs), and the text of one more blob (`.sops.yaml`).
 */
export async function manifestReader(
  git: GitPort,
  memo: Memo,
  wanted: Map<string, string>[],
  extraBlob: string | undefined,
) {
  const known = new Map<string, ManifestInfo | ManifestProblem>();
  const toRead = new Set(extraBlob ? [extraBlob] : []);
  for (const blobs of wanted)
    for (const [path, id] of blobs) {
      const key = `${id}\0${path}`;
      const m = known.get(key) ?? memo.get<ManifestInfo | ManifestProblem>('manifest', key);
      if (m) known.set(key, m);
      else toRead.add(id);
    }
  const texts = await git.readBlobs([...toRead]);
  const byBlob = (id: string, path: string) => {
    const key = `${id}\0${path}`;
    let m = known.get(key);
    if (!m) {
      const text = texts.get(id);
      m = readManifest(path, text ?? '');
      known.set(key, m);
      if (text !== undefined) memo.set('manifest', key, m);
    }
    return m;
  };
  return {
    text: (id: string) => texts.get(id),
    manifests: (blobs: Map<string, string>): Manifests =>
      new Map([...blobs].map(([path, id]) => [path, byBlob(id, path)])),
  };
}

/**
 * Keys an earlier run generated on the job branch, in a file the base has changed since: the
 * plan takes their state from the branch, and the values (decrypted when the run applies) are
 * carried over instead of generated again. Derived keys (issue 23) are never carried: the base
 * may have changed their inputs since (a rotation merged meanwhile), so they are made again
 * from the inputs this run writes or carries, or that the file holds.
 */
export function carryValues(plan: Plan, state: RepoState): Carried {
  const carried: Carried = new Map();
  for (const [path, onBranch] of state.onBranch) {
    const now = state.existing.get(path);
    const file = plan.files.find((f) => f.path === path);
    if (isProblem(onBranch) || !now || isProblem(now) || !file) continue;
    const keys = file.changes
      .filter(
        (c) =>
          c.action === 'generate' &&
          c.value?.kind !== 'derived' &&
          onBranch.dataKeys.includes(c.key),
      )
      .map((c) => c.key);
    if (keys.length === 0) continue;
    carried.set(path, new Map(keys.map((k) => [k, ''])));
    for (const c of file.changes) {
      const st = onBranch.state.keys[c.key];
      if (keys.includes(c.key) && st) c.value = { kind: 'carried', state: st };
    }
  }
  return carried;
}

const SYMLINK: Omit<ManifestProblem, 'path'> = {
  problem: 'is a symlink',
  remedy: 'replace it with the file itself',
};

/**
 * Reads the manifests of a working tree (`check`, `list`) without decrypting: the files below
 * the output template's directory at a path it can render; a symlink there is a problem.
 */
export function readWorkingTree(root: string, config: Config, memo: Memo = noMemo): Manifests {
  const matcher = templateMatcher(config.output);
  const out: Manifests = new Map();
  for (const dir of outputDirs(config)) {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
    } catch {
      continue; // no such directory: no manifests yet
    }
    for (const e of entries) {
      const full = join(e.parentPath, e.name);
      const path = relative(root, full).split(sep).join('/');
      if (!matcher.test(path)) continue;
      if (e.isSymbolicLink()) out.set(path, { path, ...SYMLINK });
      else if (e.isFile()) out.set(path, readCached(path, readFileSync(full), memo));
    }
  }
  return out;
}

/** A manifest's reading: the memo's, for bytes read before; else parsed (and remembered). */
function readCached(path: string, bytes: Buffer, memo: Memo): ManifestInfo | ManifestProblem {
  const key = blobKey(bytes, path);
  const known = memo.get<ManifestInfo | ManifestProblem>('manifest', key);
  if (known) return known;
  const m = readManifest(path, bytes.toString('utf8'));
  memo.set('manifest', key, m);
  return m;
}
