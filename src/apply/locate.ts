import { ExternalError, UsageError } from '../errors.js';
import type { Job } from '../plan/plan.js';
import { JOB_TRAILER } from '../plan/summary.js';
import type { GitPort } from '../ports/git.js';

export const JOB_BRANCH: Record<Job, string> = {
  sync: 'gitops-secrets/sync',
  rotate: 'gitops-secrets/rotate',
};

export interface LocateOptions {
  job: Job;
  remote: string;
  /** The base branch; undefined: the remote's default branch (the current one without a remote). */
  base: string | undefined;
  push: boolean;
}

/** Where a job starts: the base and the job branch, here and on the remote. */
export interface Located {
  base: string;
  baseSha: string;
  remoteUrl: string | undefined;
  /** The job branch on the remote (the push lease), undefined when it has none. */
  remoteBranchSha: string | undefined;
  /** The job branch to build on: the remote's, or for --no-push a newer local one. */
  branchSha: string | undefined;
}

type Found = Omit<Located, 'remoteUrl'>;

/**
 * Finds the base and the job branch (asking the remote, fetching what is not here), and refuses
 * a job branch that holds someone else's commits.
 */
export async function locateJob(git: GitPort, options: LocateOptions): Promise<Located> {
  const branch = JOB_BRANCH[options.job];
  const remoteUrl = await git.remoteUrl(options.remote);
  const found = remoteUrl
    ? await locateOnRemote(git, options, branch)
    : await locateLocally(git, options, branch);
  if (found.branchSha)
    await assertOnlyOurCommits(git, found.baseSha, found.branchSha, branch, options.job);
  return { ...found, remoteUrl };
}

async function locateOnRemote(
  git: GitPort,
  options: LocateOptions,
  branch: string,
): Promise<Found> {
  const { remote } = options;
  const refs = await git.lsRemote(remote, []);
  const base = options.base ?? refs.defaultBranch ?? (await fallbackBase(git, remote, refs.heads));
  if (!base)
    throw new UsageError(`cannot tell the default branch of ${remote}`, 'pass --base BRANCH');
  const remoteBaseSha = refs.heads.get(base);
  if (!remoteBaseSha)
    throw new UsageError(`branch ${base} does not exist on ${remote}`, 'pass --base BRANCH');
  const remoteBranchSha = refs.heads.get(branch);
  // No fetch when both commits are here already (a CI checkout of the base, the run after a
  // merge).
  let baseSha: string | undefined = remoteBaseSha;
  if (
    !(await git.hasCommits(remoteBranchSha ? [remoteBaseSha, remoteBranchSha] : [remoteBaseSha]))
  ) {
    await git.fetch(remote, remoteBranchSha ? [base, branch] : [base]);
    baseSha = await git.resolve(`refs/remotes/${remote}/${base}`);
  }
  if (!baseSha)
    throw new UsageError(`cannot resolve the base branch ${base}`, 'pass --base BRANCH');
  let branchSha = remoteBranchSha;
  if (!options.push) {
    // A --no-push run builds on its own earlier local commit when that is newer than the remote's.
    const local = await git.resolve(`refs/heads/${branch}`);
    if (
      local &&
      (!remoteBranchSha || (await git.mergeBase(remoteBranchSha, local)) === remoteBranchSha)
    )
      branchSha = local;
  }
  return { base, baseSha, remoteBranchSha, branchSha };
}

/** A repository without the remote: a --no-push run on local branches. */
async function locateLocally(git: GitPort, options: LocateOptions, branch: string): Promise<Found> {
  if (options.push) {
    throw new UsageError(
      `the repository has no remote "${options.remote}"`,
      'pass --remote NAME, or --no-push to commit locally only',
    );
  }
  const base = options.base ?? (await git.currentBranch());
  if (!base)
    throw new UsageError('cannot tell the base branch (detached HEAD)', 'pass --base BRANCH');
  const baseSha = await git.resolve(`refs/heads/${base}`);
  if (!baseSha)
    throw new UsageError(`cannot resolve the base branch ${base}`, 'pass --base BRANCH');
  const branchSha = await git.resolve(`refs/heads/${branch}`);
  return { base, baseSha, remoteBranchSha: undefined, branchSha };
}

/** The remote's HEAD is unset (e.g. a bare repo made by `git init`): try what the clone knows. */
async function fallbackBase(
  git: GitPort,
  remote: string,
  heads: Map<string, string>,
): Promise<string | undefined> {
  const tracked = await git.symbolicRef(`refs/remotes/${remote}/HEAD`);
  const prefix = `refs/remotes/${remote}/`;
  if (tracked?.startsWith(prefix)) return tracked.slice(prefix.length);
  const current = await git.currentBranch();
  if (current && heads.has(current)) return current;
  return ['main', 'master'].find((b) => heads.has(b));
}

/** Someone else's commits on the job branch are never overwritten. */
async function assertOnlyOurCommits(
  git: GitPort,
  baseSha: string,
  branchSha: string,
  branch: string,
  job: Job,
): Promise<void> {
  const commits = await git.commitsBetween(baseSha, branchSha);
  const foreign = commits.filter((c) => !c.body.includes(`${JOB_TRAILER}: ${job}`));
  if (foreign.length === 0) return;
  const list = foreign
    .slice(0, 5)
    .map((c) => `${c.sha.slice(0, 7)} ${c.subject} (${c.author})`)
    .join('; ');
  throw new ExternalError(
    'git',
    `${branch} has ${foreign.length} commit${foreign.length === 1 ? '' : 's'} not made by gitops-secrets: ${list}`,
    `merge or close its pull request, or delete the branch ${branch}, then run again`,
  );
}
