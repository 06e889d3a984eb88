import { writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkpoint } from '../checkpoint.js';
import type { KustomizationEdit } from '../model/kustomize-upkeep.js';
import { cryptoRandom } from '../model/random.js';
import { SOPS_YAML } from '../model/sops-yaml-check.js';
import type { Job, Plan } from '../plan/plan.js';
import { type ChangeRow, commitMessage } from '../plan/summary.js';
import type { GitPort, Worktree } from '../ports/git.js';
import type { Memo } from '../ports/memo.js';
import type { SopsPort } from '../ports/sops.js';
import { applyPlan, type Carried } from './apply.js';
import type { CarriedFile } from './carried-files.js';
import type { Located } from './locate.js';
import { infos, type RepoState } from './repo-state.js';
import { decodeData } from './secret-state.js';
import { worktreeFiles } from './worktree-files.js';

export interface CommitInput {
  job: Job;
  branch: string;
  remote: string;
  push: boolean;
  rotateDataKey: boolean;
  where: Located;
  state: RepoState;
  plan: Plan;
  rows: ChangeRow[];
  carried: Carried;
  /** The working copy's config and `.sops.yaml`, where they differ from the base's. */
  files: CarriedFile[];
  /** Kustomizations (and ksops generators) changed to list the manifests the commit leaves. */
  kustomizations?: KustomizationEdit[];
}

export interface CommitPorts {
  git: GitPort;
  sops: SopsPort;
  log: (line: string) => void;
  memo?: Memo;
}

/**
 * Applies the plan in a work tree of the base, commits it, pushes the commit to the job branch
 * with a lease on what the remote had, and only then moves the local job branch to it: a run
 * that lost the push race (or whose push was refused) leaves no local branch on values that
 * never reached the remote.
 */
export async function commitAndPush(
  input: CommitInput,
  ports: CommitPorts,
): Promise<{ commit: string; pushed: boolean }> {
  const { git, log } = ports;
  const { branch, remote } = input;
  const commit = await commitInWorktree(input, ports);
  log(`committed ${commit.slice(0, 7)} on ${branch}`);
  let pushed = false;
  if (input.push) {
    await git.push(remote, commit, branch, input.where.remoteBranchSha);
    pushed = true;
    log(`pushed ${branch} to ${remote}`);
  }
  await git.updateBranch(branch, commit);
  if (input.push) checkpoint('pushed');
  return { commit, pushed };
}

async function commitInWorktree(input: CommitInput, ports: CommitPorts): Promise<string> {
  const { state } = input;
  // sops's version check starts now, while git sets up the work tree; awaited below.
  ports.sops.ensureReady().catch(() => undefined);
  const wt = await ports.git.addWorktree(input.where.baseSha);
  try {
    const [applied] = await Promise.allSettled([fillWorktree(wt, input, ports)]);
    // The sops version check: nothing is committed before it passed. A failed run checks too,
    // and a sops too old (or missing) is what it reports, since that fails the other calls too.
    await ports.sops.ensureReady();
    if (applied.status === 'rejected') throw applied.reason;
    checkpoint('applied');
    const paths = new Set([
      ...applied.value,
      ...state.fromBranch,
      ...state.rolloutFromBranch.keys(),
    ]);
    const kustomizations = (input.kustomizations ?? []).map((k) => k.path);
    const message = commitMessage(input.job, input.rows, kustomizations, input.files);
    const commit = await wt.commit(message, [...paths]);
    checkpoint('committed');
    return commit;
  } finally {
    await wt.remove();
  }
}

/** Puts the files the plan needs into the work tree, then applies the plan there. */
async function fillWorktree(wt: Worktree, input: CommitInput, ports: CommitPorts) {
  const { plan, state, carried } = input;
  await checkOutNeeded(wt, input, ports.git);
  await writeFromBranch(wt, state, ports.git);
  for (const f of input.files) {
    await mkdir(dirname(join(wt.dir, f.path)), { recursive: true });
    await writeFile(join(wt.dir, f.path), f.text);
    wt.stage(f.path);
  }
  // Never through a symlink (refused before, from the base's tree; checked again on disk).
  const tree = worktreeFiles(wt.dir);
  for (const k of input.kustomizations ?? []) {
    tree.write(k.path, k.text);
    wt.stage(k.path);
  }
  // Keys an earlier run generated on the branch, in a file the base has changed since.
  const conflicted = [...state.conflicted].filter(([path]) => carried.has(path));
  const texts = await ports.git.readBlobs(conflicted.map(([, blob]) => blob));
  for (const [path, blob] of conflicted) {
    const values = carried.get(path);
    if (!values) continue;
    const text = texts.get(blob) ?? '';
    const plain = decodeData(
      await ports.sops.decrypt(path, { cwd: wt.dir, ciphertext: text }),
      path,
    );
    for (const k of values.keys()) values.set(k, plain[k] ?? '');
  }
  return applyPlan(
    {
      plan,
      dir: wt.dir,
      existing: infos(state.existing),
      carried,
      rotateDataKey: input.rotateDataKey,
      onWritten: (path) => wt.stage(path),
    },
    { sops: ports.sops, random: cryptoRandom, memo: ports.memo },
  );
}

/**
 * Checks out the base's files the run reads or changes (the work tree starts empty), and its
 * `.sops.yaml`: sops reads the creation rules from the work tree.
 */
async function checkOutNeeded(wt: Worktree, input: CommitInput, git: GitPort): Promise<void> {
  const { plan, state } = input;
  const kept = state.fromBranch;
  const needed = new Set<string>(state.conflicted.keys());
  for (const f of plan.files)
    if (
      f.exists &&
      !kept.has(f.path) &&
      (f.reencrypt || f.changes.some((c) => c.action !== 'needs-input'))
    )
      needed.add(f.path);
  for (const s of plan.shared) if (s.from && !kept.has(s.from.path)) needed.add(s.from.path);
  const files = [...needed].filter((p) => state.baseFiles.has(p));
  const rollout = plan.files
    .filter((f) => f.changes.some((c) => c.action === 'rotate' || c.action === 'set'))
    .flatMap((f) => f.secret.rollout)
    .filter((p) => !state.rolloutFromBranch.has(p));
  files.push(...(await existingPaths(git, input.where.baseSha, [...new Set(rollout)])));
  if (state.baseListing.has(SOPS_YAML)) {
    // Its text was read with the manifests when the rules come from it.
    if (state.sopsYamlText !== undefined)
      writeFileSync(join(wt.dir, SOPS_YAML), state.sopsYamlText);
    else files.push(SOPS_YAML);
  }
  if (files.length > 0) await wt.checkout([...new Set(files)]);
}

/** Writes what an earlier run left on the job branch (manifests, bumped workloads). */
async function writeFromBranch(wt: Worktree, state: RepoState, git: GitPort): Promise<void> {
  const blobs = new Map(state.rolloutFromBranch);
  for (const path of state.fromBranch) {
    const blob = state.startBlobs.get(path);
    if (blob) blobs.set(path, blob); // none: removed on the branch
  }
  if (blobs.size === 0) return;
  const texts = await git.readBlobs([...new Set(blobs.values())]);
  for (const [path, blob] of blobs) {
    await mkdir(dirname(join(wt.dir, path)), { recursive: true });
    await writeFile(join(wt.dir, path), texts.get(blob) ?? '');
  }
}

async function existingPaths(git: GitPort, commit: string, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return []; // no pathspec would list the whole tree
  const files = await git.listFiles(commit, paths);
  return paths.filter((p) => files.has(p));
}
