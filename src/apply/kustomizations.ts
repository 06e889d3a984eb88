import { lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readRepoText } from '../config/repo-file.js';
import type { Config } from '../config/types.js';
import { ExternalError, formatProblem, sortProblems, UsageError } from '../errors.js';
import {
  isKustomizationPath,
  kustomizationCandidates,
  nearestKustomization,
} from '../model/kustomization.js';
import {
  generatorFiles,
  type KustomizationEdit,
  kustomizationKind,
  type Upkeep,
  type UpkeepInput,
  upkeep,
} from '../model/kustomize-upkeep.js';
import { isProblem } from '../model/manifest.js';
import { templateMatcher } from '../model/paths.js';
import type { Plan } from '../plan/plan.js';
import type { GitPort } from '../ports/git.js';
import { blobId } from '../ports/git-trees.js';
import type { Located } from './locate.js';
import { outputDirs, type RepoState } from './repo-state.js';

export { kustomizationKind };

/** A kustomization (or ksops generator) the job's commit changes, with the manifests' entries. */
export interface KustomizationFile extends KustomizationEdit {
  /** The job branch holds this text already: writing it again is no new work. */
  proposed: boolean;
}

/**
 * What exists once the plan is applied: the Secrets to list (managed, or declared), every file
 * below the output directories, and the managed paths the run (or the job branch) removes.
 */
function afterRun(plan: Plan, state: RepoState) {
  const exists = new Set([...state.baseListing.keys(), ...state.startBlobs.keys()]);
  for (const p of state.fromBranch) if (!state.startBlobs.has(p)) exists.delete(p);
  const declared = new Set(plan.files.map((f) => f.path));
  const present = new Set(
    [...state.existing].flatMap(([p, m]) =>
      !isProblem(m) && (m.managed || declared.has(p)) ? [p] : [],
    ),
  );
  for (const f of plan.files) {
    const writes = f.changes.some(
      (c) => c.action !== 'needs-input' && c.action !== 'remove' && c.action !== 'metadata',
    );
    if (!f.exists && writes) {
      present.add(f.path);
      exists.add(f.path);
    }
  }
  if (plan.prune)
    for (const o of plan.orphans)
      if (o.keys.length === 0) {
        present.delete(o.path);
        exists.delete(o.path);
      }
  const gone = [...new Set([...state.baseFiles.keys(), ...state.fromBranch])].filter(
    (p) => !exists.has(p),
  );
  return { present, exists, gone };
}

/**
 * `sync`: the kustomizations (read from the base's tree, the one the commit is made on) that
 * must change so that kustomize builds the manifests the run leaves, and no removed one. A
 * kustomization the tool cannot read or edit is refused (exit 2) before anything is written.
 */
export async function kustomizationEdits(
  git: GitPort,
  config: Config,
  where: Located,
  plan: Plan,
  state: RepoState,
): Promise<KustomizationFile[]> {
  if (config.kustomize === 'off') return [];
  const { present, exists: after, gone } = afterRun(plan, state);
  const candidates = [...new Set([...present, ...gone].flatMap(kustomizationCandidates))].sort();
  if (candidates.length === 0) return [];
  const links = (await git.blockers(where.baseSha, candidates)).symlinks.filter((l) =>
    candidates.includes(l),
  );
  refuseSymlinks(links);
  const texts = new Map<string, string>();
  const readInto = async (paths: string[]) => {
    if (paths.length === 0) return;
    const listing = await git.listFiles(where.baseSha, paths);
    const blobs = await git.readBlobs([...new Set(listing.values())]);
    for (const [p, id] of listing) texts.set(p, blobs.get(id) ?? '');
  };
  await readInto(candidates);
  const exists = (p: string) => texts.has(p);
  const matcher = templateMatcher(config.output);
  const input: UpkeepInput = {
    mode: config.kustomize,
    present,
    exists: (p) => after.has(p),
    managed: (p) => matcher.test(p),
    also: gone.flatMap((m) => nearestKustomization(m, exists) ?? []),
    // Those below the output directories, and those above the manifests (up to the root), whose
    // entries list them too: a dangling one there is taken out as well.
    scan: [
      ...new Set([
        ...[...state.baseListing.keys()].filter(isKustomizationPath),
        ...candidates.filter(exists),
      ]),
    ],
    text: (p) => texts.get(p),
  };
  const generators = generatorFiles(input);
  const generatorLinks = new Set(
    generators.length > 0 ? (await git.blockers(where.baseSha, generators)).symlinks : [],
  );
  input.symlink = (p) => generatorLinks.has(p);
  await readInto(generators.filter((p) => !texts.has(p)));
  return proposedOnBranch(git, where, state.mergeBase, refuseProblems(upkeep(input)).edits);
}

/** Exit 1 for a kustomization that is a symlink, in sync and check alike. */
function refuseSymlinks(links: string[]): void {
  if (links.length > 0)
    throw new ExternalError(
      'repo',
      `refusing to read or write a kustomization that is a symlink: ${links.join(', ')}`,
      'replace the symlink with the file itself, or set `kustomize: off` in the config',
    );
}

/** Exit 2, naming each file:line:col, when a kustomization cannot be read or edited. */
function refuseProblems(result: Upkeep): Upkeep {
  if (result.problems.length === 0) return result;
  throw new UsageError(
    `cannot keep the kustomizations listing the manifests:\n${sortProblems(result.problems)
      .map((p) => `  ${formatProblem(p)}`)
      .join('\n')}`,
    'fix the kustomization (or the ksops generator) there, or set `kustomize: off` in the config; nothing was written',
  );
}

/**
 * `check`: what `sync` would change in the working tree's kustomizations: `manifests` (the
 * Secrets to list) no kustomization lists, and entries that name a managed path with no file.
 */
export async function workingTreeKustomizations(
  root: string,
  config: Config,
  manifests: string[],
  /** The paths of the Secrets the config declares: their kustomizations must be readable. */
  declared: string[] = [],
): Promise<KustomizationEdit[]> {
  if (config.kustomize === 'off') return [];
  const texts = new Map<string, string>();
  const readInto = async (paths: string[]) => {
    for (const p of paths) {
      if (texts.has(p) || !isRegularFile(join(root, p))) continue;
      const text = await readRepoText(root, p, 'kustomization');
      if (text !== undefined) texts.set(p, text);
    }
  };
  const below = outputDirs(config).flatMap((d) => kustomizationsBelow(root, d));
  const near = [...new Set([...manifests, ...declared].flatMap(kustomizationCandidates))].sort();
  // As sync refuses it (exit 1): a kustomization that is a symlink, where one is looked for.
  refuseSymlinks(near.filter((p) => isSymlink(join(root, p))));
  await readInto([...new Set([...near, ...below])]);
  const found = (p: string) => texts.has(p);
  const matcher = templateMatcher(config.output);
  const input: UpkeepInput = {
    mode: config.kustomize,
    present: new Set(manifests),
    // What the working tree holds, tracked by git or not (as for the manifests check reads): a
    // file or a symlink, as a git tree holds them; a directory is no file.
    exists: (p) => {
      const st = lstatSync(join(root, p), { throwIfNoEntry: false });
      return st !== undefined && !st.isDirectory();
    },
    managed: (p) => matcher.test(p),
    also: declared.flatMap((m) => nearestKustomization(m, found) ?? []),
    scan: [...new Set([...below, ...near.filter(found)])],
    text: (p) => texts.get(p),
    symlink: (p) => isSymlink(join(root, p)),
  };
  await readInto(generatorFiles(input));
  return refuseProblems(upkeep(input)).edits;
}

function isSymlink(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** The kustomization files below a directory of the working tree (symlinks left out). */
function kustomizationsBelow(root: string, dir: string): string[] {
  try {
    return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && isKustomizationPath(e.name))
      .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'));
  } catch {
    return [];
  }
}

async function proposedOnBranch(
  git: GitPort,
  where: Located,
  mb: string | undefined,
  edits: KustomizationEdit[],
): Promise<KustomizationFile[]> {
  if (edits.length === 0) return [];
  const paths = edits.map((e) => e.path);
  const none = new Map<string, string>();
  const onBranch = where.branchSha ? await git.listFiles(where.branchSha, paths) : none;
  // Proposed: a change the job branch made (a branch merged since, or behind, made none).
  const atMb = mb ? await git.listFiles(mb, paths) : none;
  const sha256 = [...onBranch.values()].some((id) => id.length === 64);
  return edits.map((e) => {
    const blob = onBranch.get(e.path);
    return { ...e, proposed: blob === blobId(e.text, sha256) && atMb.get(e.path) !== blob };
  });
}
