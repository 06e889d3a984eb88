/**
 * The git port: what the tool needs from git, on simple-git. The user's checkout, index and
 * stash are never touched; the run commits in a work tree of its own (git-worktree.ts) and
 * authenticates to the remote per command (git-remote.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import { ExternalError } from '../errors.js';
import { withoutTokens } from './env.js';
import * as remoteOps from './git-remote.js';
import { type PushAuth, remoteRunner } from './git-remote.js';
import { GitRunner } from './git-run.js';
import { type Blockers, blockers, Listings, readBlobs } from './git-trees.js';
import { addWorktree, type Worktree } from './git-worktree.js';
import { isAlive, LEGACY_RE, sweepRunDirs } from './run-dirs.js';

export type { PushAuth } from './git-remote.js';
export type { Worktree } from './git-worktree.js';
export { cleanMessage } from './git-worktree.js';

/** A commit of the tool's branch, as far as the tool must know. */
export interface CommitInfo {
  sha: string;
  subject: string;
  body: string;
  author: string;
}

/** What the tool needs from git: the user's checkout, index and stash are never touched. */
export interface GitPort {
  readonly root: string;
  remoteUrl(remote: string): Promise<string | undefined>;
  /** The remote's branches (of those asked; all when none are) and its default branch. */
  lsRemote(
    remote: string,
    branches: string[],
  ): Promise<{ heads: Map<string, string>; defaultBranch?: string }>;
  fetch(remote: string, branches: string[]): Promise<void>;
  /** True when every one of these commits is in the local object store (no fetch needed). */
  hasCommits(shas: string[]): Promise<boolean>;
  resolve(ref: string): Promise<string | undefined>;
  currentBranch(): Promise<string | undefined>;
  symbolicRef(ref: string): Promise<string | undefined>;
  mergeBase(a: string, b: string): Promise<string | undefined>;
  /**
   * Files of a commit below the given directories (`.`: all), with their blob ids. A commit never
   * changes: a listing within one asked before is read once.
   */
  listFiles(commit: string, dirs: string[]): Promise<Map<string, string>>;
  /**
   * What in a commit stands in the way of writing these paths: symlinks among them or their
   * parent directories, files where a parent directory must be, directories where a file must.
   */
  blockers(commit: string, paths: string[]): Promise<Blockers>;
  /** Blob contents by id (an id git does not have is left out). */
  readBlobs(ids: string[]): Promise<Map<string, string>>;
  commitsBetween(base: string, head: string): Promise<CommitInfo[]>;
  addWorktree(commit: string): Promise<Worktree>;
  /** Moves a local branch to a commit, unless it is checked out somewhere. */
  updateBranch(branch: string, sha: string): Promise<boolean>;
  /** Pushes a commit to a branch with a lease on what the remote had (undefined: must not exist). */
  push(remote: string, sha: string, branch: string, expected: string | undefined): Promise<void>;
  /** Removes what runs that crashed left behind (their directories, worktrees of old versions). */
  pruneStale(): Promise<void>;
}

/** A `git worktree` an earlier version registered for a run: the pid of the run that made it. */

/**
 * The repository `dir` is in. git runs with the user's environment (their SSH setup, askpass
 * helper and git config), less GITHUB_TOKEN/GH_TOKEN: git gets the token only through `auth`,
 * for the commands that talk to the remote.
 */
export async function openRepo(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  auth?: PushAuth,
): Promise<GitPort> {
  const remedy = 'pass --repo DIR, the root of your GitOps repo';
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new ExternalError('git', `${dir} is not a directory`, remedy);
  const inherited = withoutTokens(env);
  const git = new GitRunner(
    dir,
    { ...inherited, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
    auth ? [auth.token] : [],
  );
  let out: string;
  try {
    out = await git.raw(['rev-parse', '--show-toplevel', '--git-common-dir']);
  } catch (err) {
    if (!git.ran(err)) throw git.failure(err, 'rev-parse');
    throw new ExternalError(
      'git',
      `${dir} is not inside a git repository (${git.said(err)})`,
      remedy,
    );
  }
  const [top = '', common = '.git'] = out.trim().split('\n');
  return new Repo(git.with({}, top), resolvePath(dir, common), auth);
}

class Repo implements GitPort {
  readonly root: string;
  /** Commits rev-parse has peeled in this run: they are in the object store. */
  private readonly knownCommits = new Set<string>();
  /** Blob sizes from the listings: readBlobs splits `git show`'s output by them. */
  private readonly sizes = new Map<string, number>();
  private readonly listings: Listings;
  private readonly remotes = new Map<string, Promise<GitRunner>>();
  private readonly urls = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly git: GitRunner,
    private readonly gitDir: string,
    private readonly auth: PushAuth | undefined,
  ) {
    this.root = git.cwd;
    this.listings = new Listings(git, this.sizes);
  }

  /** The runner for commands that talk to `remote` (with the token, if any). */
  private remote(remote: string): Promise<GitRunner> {
    let runner = this.remotes.get(remote);
    if (!runner) {
      runner = this.remoteUrl(remote).then((url) => remoteRunner(this.git, url ?? '', this.auth));
      this.remotes.set(remote, runner);
    }
    return runner;
  }

  /** The URL git pushes `remote` to (its pushurl, else its url; insteadOf applied); asked once. */
  remoteUrl(remote: string): Promise<string | undefined> {
    let url = this.urls.get(remote);
    if (!url) {
      url = this.git
        .attempt(['remote', 'get-url', '--push', remote])
        .then((out) => out?.split('\n')[0]?.trim() || undefined);
      this.urls.set(remote, url);
    }
    return url;
  }

  async lsRemote(remote: string, branches: string[]) {
    return remoteOps.lsRemote(await this.remote(remote), remote, branches);
  }

  async fetch(remote: string, branches: string[]): Promise<void> {
    await remoteOps.fetch(await this.remote(remote), remote, branches);
  }

  async push(remote: string, sha: string, branch: string, expected: string | undefined) {
    await remoteOps.push(await this.remote(remote), remote, sha, branch, expected);
  }

  async hasCommits(shas: string[]): Promise<boolean> {
    // GIT_NO_LAZY_FETCH (git 2.44+): in a partial clone a missing commit is reported as
    // missing, not fetched behind the tool's back (and without its token).
    const strict = this.git.with({ GIT_NO_LAZY_FETCH: '1' });
    const unknown = [...new Set(shas)].filter((sha) => !this.knownCommits.has(sha));
    const found = await Promise.all(
      unknown.map(async (sha) => {
        const here = await strict.attempt(['rev-parse', '--verify', `${sha}^{commit}`]);
        if (here !== undefined) this.knownCommits.add(sha);
        return here !== undefined;
      }),
    );
    return found.every(Boolean);
  }

  async resolve(ref: string): Promise<string | undefined> {
    // No --quiet: git says why on stderr instead of nothing (see GitRunner.instance).
    const sha = (await this.git.attempt(['rev-parse', '--verify', `${ref}^{commit}`]))?.trim();
    if (sha) this.knownCommits.add(sha); // rev-parse peeled it: the commit is here
    return sha || undefined;
  }

  async currentBranch(): Promise<string | undefined> {
    return (await this.git.attempt(['symbolic-ref', '--short', 'HEAD']))?.trim() || undefined;
  }

  async symbolicRef(ref: string): Promise<string | undefined> {
    return (await this.git.attempt(['symbolic-ref', ref]))?.trim() || undefined;
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    return (await this.git.attempt(['merge-base', a, b]))?.trim() || undefined;
  }

  listFiles(commit: string, dirs: string[]): Promise<Map<string, string>> {
    return this.listings.get(commit, dirs);
  }

  blockers(commit: string, paths: string[]): Promise<Blockers> {
    return blockers(this.git, commit, paths);
  }

  readBlobs(ids: string[]): Promise<Map<string, string>> {
    return readBlobs(this.git, ids, this.sizes);
  }

  async commitsBetween(base: string, head: string): Promise<CommitInfo[]> {
    // None (and git would print nothing: see GitRunner.instance).
    if (base === head) return [];
    const format = '--format=%H%x1f%an <%ae>%x1f%s%x1f%b%x1e';
    const out = await this.git.run(['log', format, `${base}..${head}`]);
    return out
      .split('\x1e')
      .map((r) => r.trim())
      .filter(Boolean)
      .map((r) => {
        const [sha = '', author = '', subject = '', body = ''] = r.split('\x1f');
        return { sha, author, subject, body };
      });
  }

  addWorktree(commit: string): Promise<Worktree> {
    return addWorktree(this.git, this.gitDir, commit);
  }

  async updateBranch(branch: string, sha: string): Promise<boolean> {
    // Checked out somewhere? With no linked worktrees, only the main checkout's HEAD can say
    // (read as a file unless refs are in a reftable, where HEAD is a placeholder).
    const { gitDir } = this;
    const heads =
      existsSync(join(gitDir, 'worktrees')) || existsSync(join(gitDir, 'reftable'))
        ? (await this.git.run(['worktree', 'list', '--porcelain'])).split('\n')
        : [
            readFileSync(join(gitDir, 'HEAD'), 'utf8')
              .trim()
              .replace(/^ref: /, 'branch '),
          ];
    if (heads.includes(`branch refs/heads/${branch}`)) return false;
    await this.git.run(['update-ref', `refs/heads/${branch}`, sha]);
    return true;
  }

  async pruneStale(): Promise<void> {
    // Directories of runs that were killed (their process is gone): sops's ciphertext and an
    // index. Earlier versions registered a `git worktree` for a run; those are pruned too.
    await sweepRunDirs();
    if (!existsSync(join(this.gitDir, 'worktrees'))) return;
    const out = (await this.git.attempt(['worktree', 'list', '--porcelain'])) ?? '';
    for (const line of out.split('\n')) {
      if (!line.startsWith('worktree ')) continue;
      const path = line.slice('worktree '.length);
      const m = LEGACY_RE.exec(basename(path));
      if (!m || isAlive(Number(m[1]))) continue;
      await this.git.attempt(['worktree', 'remove', '--force', path]);
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
    await this.git.attempt(['worktree', 'prune']);
  }
}
