import type { Config } from '../config/types.js';
import type { ManifestInfo, ManifestProblem } from '../model/manifest.js';
import type { Job } from '../plan/plan.js';
import type { GitPort } from '../ports/git.js';
import { type Memo, noMemo } from '../ports/memo.js';
import { JOB_BRANCH } from './locate.js';
import type { PullRequestContext } from './pull-request.js';
import { managedPaths, manifestReader, outputDirs } from './repo-state.js';

type Manifests = Map<string, ManifestInfo | ManifestProblem>;

/** An open job branch: what it proposes (manifests read without decrypting) and its PR. */
export interface ProposedBranch {
  job: Job;
  branch: string;
  /** The open pull request's number; undefined without a GitHub token (or none found). */
  pullRequest: number | undefined;
  manifests: Manifests;
}

export interface ProposedPorts {
  openGit(dir: string): Promise<GitPort>;
  pullRequests: PullRequestContext;
}

/**
 * The job branches of the remote (`gitops-secrets/sync`, `gitops-secrets/rotate`), fetched to
 * the remote-tracking refs, and what they hold; without the remote, the local job branches.
 * Reading them needs no private key; a repository git cannot open has none.
 */
export async function readProposed(
  root: string,
  config: Config,
  remote: string,
  ports: ProposedPorts,
  memo: Memo = noMemo,
): Promise<ProposedBranch[]> {
  let git: GitPort;
  try {
    git = await ports.openGit(root);
  } catch {
    return [];
  }
  const remoteUrl = await git.remoteUrl(remote);
  const shas = remoteUrl ? await remoteBranches(git, remote) : await localBranches(git);
  const out: ProposedBranch[] = [];
  for (const [job, sha] of shas) {
    const branch = JOB_BRANCH[job];
    const files = managedPaths(config, await git.listFiles(sha, outputDirs(config)));
    const manifests = (await manifestReader(git, memo, [files], undefined)).manifests(files);
    const pullRequest = remoteUrl ? await openPullRequest(ports, remoteUrl, branch) : undefined;
    out.push({ job, branch, pullRequest, manifests });
  }
  return out;
}

/**
 * What `check` and `list` show as proposed: the job branches when they can be read (offline, or
 * with no ports, everything is on base or to do; a failure to read them is a warning).
 */
export function proposedFor(
  root: string,
  config: Config,
  remote: string | undefined,
  ports: ProposedPorts | undefined,
  memo?: Memo,
  warn?: (line: string) => void,
): Promise<ProposedBranch[]> {
  if (!ports) return Promise.resolve([]);
  return readProposed(root, config, remote ?? 'origin', ports, memo).catch((e: unknown) => {
    const why = e instanceof Error ? e.message : String(e);
    warn?.(`warning: the job branches could not be read (${why}); nothing is shown as proposed`);
    return [];
  });
}

const JOBS: Job[] = ['sync', 'rotate'];

async function localBranches(git: GitPort): Promise<[Job, string][]> {
  const out: [Job, string][] = [];
  for (const job of JOBS) {
    const sha = await git.resolve(`refs/heads/${JOB_BRANCH[job]}`);
    if (sha) out.push([job, sha]);
  }
  return out;
}

/** The remote's job branches, fetched; offline, the remote-tracking refs the clone has. */
async function remoteBranches(git: GitPort, remote: string): Promise<[Job, string][]> {
  let jobs = JOBS;
  try {
    const { heads } = await git.lsRemote(
      remote,
      JOBS.map((j) => JOB_BRANCH[j]),
    );
    jobs = JOBS.filter((j) => heads.has(JOB_BRANCH[j]));
    if (jobs.length > 0)
      await git.fetch(
        remote,
        jobs.map((j) => JOB_BRANCH[j]),
      );
  } catch {
    // Unreachable remote: what the last fetch brought.
  }
  const out: [Job, string][] = [];
  for (const job of jobs) {
    const sha = await git.resolve(`refs/remotes/${remote}/${JOB_BRANCH[job]}`);
    if (sha) out.push([job, sha]);
  }
  return out;
}

async function openPullRequest(
  ports: ProposedPorts,
  remoteUrl: string,
  branch: string,
): Promise<number | undefined> {
  if (!ports.pullRequests.token) return undefined;
  try {
    const port = await ports.pullRequests.create(remoteUrl);
    const pulls = await port.listForHead(branch);
    return pulls.find((p) => p.state === 'open')?.number;
  } catch {
    return undefined;
  }
}
