import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import { ExternalError } from '../errors.js';
import { createLauncher, type Launch } from './launcher.js';
import { isAlive, makeRunDir, removeRunDir, sweepRunDirs } from './run-dirs.js';
import { runProcess } from './run-process.js';

/** A commit of the tool's branch, as far as the tool must know. */
export interface CommitInfo {
  sha: string;
  subject: string;
  body: string;
  author: string;
}

export interface Worktree {
  dir: string;
  /** Writes these paths of the worktree's commit to disk (the rest stays unchecked-out). */
  checkout(paths: string[]): Promise<void>;
  /**
   * Writes a finished file's blob to the object store now, while the run still works (nothing
   * may write the file afterwards); the commit then only records it.
   */
  stage(path: string): void;
  /** Stages these paths (additions, changes, deletions) and commits; returns the new commit. */
  commit(message: string, paths: string[]): Promise<string>;
  remove(): Promise<void>;
}

/** What the tool needs from git: the user's checkout, index and stash are never touched. */
export interface GitPort {
  readonly root: string;
  remoteUrl(remote: string): Promise<string | undefined>;
  /** The remote's branches (of those asked) and its default branch, in one round trip. */
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
   * Files of a commit below the given directories, with their blob ids. A commit never changes:
   * the same listing asked twice is read once.
   */
  listFiles(commit: string, dirs: string[]): Promise<Map<string, string>>;
  /**
   * What in a commit stands in the way of writing these paths: symlinks among them or their
   * parent directories, files where a parent directory must be, directories where a file must.
   */
  blockers(
    commit: string,
    paths: string[],
  ): Promise<{ symlinks: string[]; files: string[]; dirs: string[] }>;
  /** Reads blobs by id, in one `git cat-file --batch` (less what `prefetchBlobs` read). */
  readBlobs(ids: string[]): Promise<Map<string, string>>;
  /**
   * Reads blobs the run will likely need while it waits for something else; the next
   * `readBlobs` takes them from there (and only reads the rest).
   */
  prefetchBlobs(ids: string[]): void;
  /** The commit checked out when the run started (HEAD), undefined on an unborn branch. */
  head(): Promise<string | undefined>;
  commitsBetween(base: string, head: string): Promise<CommitInfo[]>;
  addWorktree(commit: string): Promise<Worktree>;
  /** Moves a local branch to a commit, unless it is checked out somewhere. */
  updateBranch(branch: string, sha: string): Promise<boolean>;
  /** Pushes a commit to a branch with a lease on what the remote had (undefined: must not exist). */
  push(remote: string, sha: string, branch: string, expected: string | undefined): Promise<void>;
  /** Removes worktrees left behind by runs that crashed. */
  pruneStale(): Promise<void>;
}

/** Per-command HTTP auth for push: never written to a remote URL or git config on disk. */
export interface PushAuth {
  token: string;
}

/** A `git worktree` an earlier version registered for a run: the pid of the run that made it. */
const RUN_DIR_RE = /^gitops-secrets-wt-(\d+)-/;

/**
 * A git command's output; rejects with git's own message (stderr) when it exits non-zero.
 * `input` goes to its stdin (NUL-separated path lists: no pathspec matching, no argv limit).
 */
type Raw = (args: string[], input?: string) => Promise<string>;

/** git is given plenty of time (a fetch of a big repo), but not forever. */
const GIT_TIMEOUT_MS = 15 * 60_000;

/**
 * git run directly (child_process.spawn through runProcess): no shell, the user's environment
 * (their SSH setup, askpass helper and git config) as in their shell. simple-git, used before,
 * waits 50 ms after every command that prints nothing (update-ref, worktree prune, a config
 * miss), about half a second per run.
 */
function gitIn(
  cwd: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
  run: Launch['run'] = runProcess,
): Raw {
  return async (args, input) => {
    if (signal?.aborted) throw new Error('stopped: the run ended before this git command');
    const r = await run('git', args, {
      cwd,
      env,
      input,
      timeoutMs: GIT_TIMEOUT_MS,
      maxBuffer: 1024 * 1024 * 1024,
      signal,
    });
    if (r.spawnError)
      throw new ExternalError(
        'git',
        r.spawnError === 'ENOENT'
          ? 'git not found on PATH'
          : `could not start git (${r.spawnError})`,
        'install git',
      );
    if (r.exitCode === 0) return r.stdout;
    const said = r.stderr.trim() || r.stdout.trim();
    throw new Error(
      r.timedOut
        ? `timed out after ${GIT_TIMEOUT_MS / 60_000} minutes`
        : said || `exit ${r.exitCode ?? r.signal}`,
    );
  };
}

/**
 * `signal`: aborting it stops the git processes running then and fails later ones (the CLI
 * reads the repository while it parses the config, and stops when the config is wrong).
 */
export async function openRepo(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  auth?: PushAuth,
  signal?: AbortSignal,
): Promise<GitPort> {
  // git gets the token only through the per-command auth below, never as an inherited variable.
  const { GITHUB_TOKEN: _t1, GH_TOKEN: _t2, ...inherited } = env;
  const baseEnv: NodeJS.ProcessEnv = { ...inherited, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  // git commands start from small shells, as sops processes do (see launcher.ts): a fork
  // of this process blocks it for 2-12 ms per command, most of all while sops processes hold
  // both cores. Those with the run's environment share launchers, a worktree's commands have
  // their own (`shell`); those that authenticate to a remote, and one-off ones, start directly.
  // The first command starts directly: its answer comes sooner than through a shell that has
  // yet to start, and the commands that follow it are then sent off before the config's parse
  // holds this thread. The shell for them starts alongside it.
  const shared = createLauncher(baseEnv);
  const make = (baseDir: string, extra?: NodeJS.ProcessEnv, shell = false): Raw => {
    if (!extra) return gitIn(baseDir, baseEnv, signal, shared.run);
    const env = { ...baseEnv, ...extra };
    return gitIn(baseDir, env, signal, shell ? createLauncher(env).run : runProcess);
  };
  let root: string;
  let gitDir: string;
  try {
    const first = gitIn(dir, baseEnv, signal)(['rev-parse', '--show-toplevel', '--git-common-dir']);
    shared.warm(dir, 'git');
    const [top = '', common = '.git'] = (await first).trim().split('\n');
    root = top;
    gitDir = resolvePath(dir, common);
  } catch (err) {
    if (err instanceof ExternalError) throw err;
    throw new ExternalError(
      'git',
      `${dir} is not inside a git repository (${gitMessage(err)})`,
      'pass --repo DIR, the root of your GitOps repo',
    );
  }
  const git = make(root);
  const wrap = async <T>(what: string, fn: () => Promise<T>, remedy?: string): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ExternalError) throw err;
      throw new ExternalError(
        'git',
        `git ${what} failed: ${redact(gitMessage(err), auth?.token)}`,
        remedy,
      );
    }
  };
  const raw = (args: string[]) => wrap(args[0] ?? 'command', () => git(args));
  // Remote operations authenticate with the token (when there is one) per command.
  const remoteGit = async (remote: string) =>
    auth ? make(root, await authEnv(git, remote, auth)) : git;
  /** Commits rev-parse has peeled in this run: they are in the object store. */
  const knownCommits = new Set<string>();
  const listings = new Map<string, Promise<Map<string, string>>>();
  let prefetched: Promise<Map<string, string>> | undefined;
  let blobsRead = false;
  let head: Promise<string | undefined> | undefined;

  const port: GitPort = {
    root,
    async remoteUrl(remote) {
      const out = await raw(['remote', '-v']);
      const urls = new Map<string, string>();
      for (const line of out.split('\n')) {
        const m = /^(\S+)\t(.*) \((fetch|push)\)$/.exec(line);
        if (m && m[1] === remote) urls.set(m[3]!, m[2]!);
      }
      return urls.get('push') || urls.get('fetch') || undefined;
    },
    async lsRemote(remote, branches) {
      const g = await remoteGit(remote);
      const out = await wrap(
        'ls-remote',
        () =>
          g([
            'ls-remote',
            '--symref',
            remote,
            ...(branches.length > 0 ? ['HEAD', ...branches.map((b) => `refs/heads/${b}`)] : []),
          ]),
        `check that the remote "${remote}" exists and is reachable`,
      );
      const heads = new Map<string, string>();
      let defaultBranch: string | undefined;
      for (const line of out.split('\n')) {
        const sym = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
        if (sym) defaultBranch = sym[1];
        const m = /^([0-9a-f]{40,64})\trefs\/heads\/(\S+)$/.exec(line);
        if (m) heads.set(m[2]!, m[1]!);
      }
      return defaultBranch ? { heads, defaultBranch } : { heads };
    },
    async fetch(remote, branches) {
      if (branches.length === 0) return;
      const g = await remoteGit(remote);
      await wrap('fetch', () =>
        g([
          'fetch',
          '--no-tags',
          '--quiet',
          remote,
          ...branches.map((b) => `+refs/heads/${b}:refs/remotes/${remote}/${b}`),
        ]),
      );
    },
    async hasCommits(shas) {
      if (shas.every((x) => knownCommits.has(x))) return true;
      // GIT_NO_LAZY_FETCH (git 2.44+): in a partial clone a missing commit is reported as
      // missing, not fetched behind the tool's back (and without its token).
      const out = await make(root, { GIT_NO_LAZY_FETCH: '1' })(
        ['cat-file', '--batch-check'],
        shas.map((x) => `${x}\n`).join(''),
      ).catch(() => '');
      const lines = out.trim().split('\n');
      return lines.length === shas.length && lines.every((l) => / commit \d+$/.test(l));
    },
    async resolve(ref) {
      try {
        const sha =
          (await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || undefined;
        if (sha) knownCommits.add(sha); // rev-parse peeled it: the commit is here
        return sha;
      } catch {
        return undefined;
      }
    },
    head() {
      head ??= port.resolve('HEAD');
      return head;
    },
    async currentBranch() {
      try {
        return (await git(['symbolic-ref', '--quiet', '--short', 'HEAD'])).trim() || undefined;
      } catch {
        return undefined;
      }
    },
    async symbolicRef(ref) {
      try {
        return (await git(['symbolic-ref', '--quiet', ref])).trim() || undefined;
      } catch {
        return undefined;
      }
    },
    async mergeBase(a, b) {
      try {
        return (await git(['merge-base', a, b])).trim() || undefined;
      } catch {
        return undefined;
      }
    },
    listFiles(commit, dirs) {
      const key = [commit, ...dirs].join('\0');
      let listing = listings.get(key);
      if (!listing) {
        listing = (async () => {
          const out = await raw(['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...dirs]);
          const files = new Map<string, string>();
          for (const entry of out.split('\0')) {
            const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry);
            if (m && m[2] === 'blob' && m[1] !== '120000') files.set(m[4]!, m[3]!);
          }
          return files;
        })();
        listings.set(key, listing);
        listing.catch(() => listings.delete(key));
      }
      // A copy: callers may change what they get.
      return listing.then((files) => new Map(files));
    },
    async blockers(commit, paths) {
      const prefixes = new Set<string>();
      const parents = new Set<string>();
      for (const p of paths) {
        const parts = p.split('/');
        for (let i = 1; i <= parts.length; i++) {
          const prefix = parts.slice(0, i).join('/');
          prefixes.add(prefix);
          if (i < parts.length) parents.add(prefix);
        }
      }
      const found = { symlinks: [] as string[], files: [] as string[], dirs: [] as string[] };
      if (prefixes.size === 0) return found;
      const wanted = new Set(paths);
      const out = await raw(['ls-tree', '-z', '--full-tree', commit, '--', ...prefixes]);
      for (const entry of out.split('\0')) {
        const m = /^(\d+) (\w+) [0-9a-f]+\t(.*)$/s.exec(entry);
        if (!m || !prefixes.has(m[3]!)) continue;
        const [, mode, type, path] = m as unknown as [string, string, string, string];
        if (mode === '120000') found.symlinks.push(path);
        // A file (or a submodule) where a directory must be.
        else if (type !== 'tree' && parents.has(path)) found.files.push(path);
        else if (type === 'tree' && wanted.has(path)) found.dirs.push(path);
      }
      for (const list of Object.values(found)) list.sort();
      return found;
    },
    async readBlobs(ids) {
      blobsRead = true;
      const early = prefetched;
      prefetched = undefined;
      const have = early ? await early.catch(() => new Map<string, string>()) : undefined;
      if (!have) return catFileBatch(root, ids, baseEnv);
      const rest = await catFileBatch(
        root,
        ids.filter((id) => !have.has(id)),
        baseEnv,
      );
      for (const id of ids) {
        const text = have.get(id);
        if (text !== undefined) rest.set(id, text);
      }
      return rest;
    },
    prefetchBlobs(ids) {
      // Too late once the run has read blobs itself: it would hold texts no one takes.
      if (prefetched || blobsRead || ids.length === 0) return;
      prefetched = catFileBatch(root, ids, baseEnv);
      prefetched.catch(() => undefined); // a failed prefetch is read again by readBlobs
    },
    async commitsBetween(base, head) {
      const out = await raw([
        'log',
        '--format=%H%x1f%an <%ae>%x1f%s%x1f%b%x1e',
        `${base}..${head}`,
      ]);
      return out
        .split('\x1e')
        .map((r) => r.trim())
        .filter(Boolean)
        .map((r) => {
          const [sha = '', author = '', subject = '', body = ''] = r.split('\x1f');
          return { sha, author, subject, body };
        });
    },
    async addWorktree(commit) {
      // A temporary directory and an index of its own (GIT_INDEX_FILE, GIT_WORK_TREE), not a
      // registered `git worktree`: nothing of the run is recorded in .git (no worktree entry, no
      // HEAD) and none of `worktree add`'s and `worktree remove`'s processes (three of them,
      // ~40 ms) are started. The user's checkout, index and HEAD are never touched.
      // Whose it is, in its name (src/ports/run-dirs.ts): a later run removes it when its
      // process is gone, in whatever state a kill left it.
      const tmp = await makeRunDir('wt');
      const dir = join(tmp, 'tree');
      mkdirSync(dir);
      const index = join(tmp, 'index');
      const wt = make(root, { GIT_INDEX_FILE: index, GIT_WORK_TREE: dir }, true);
      const wtRaw = (args: string[], input?: string) =>
        wrap(args[0] ?? 'command', () => wt(args, input));
      const pathList = (paths: string[]) => paths.map((p) => `${p}\0`).join('');
      // Both git processes below start once the caller has started its first sops processes
      // (the next turn of the event loop): those are what the run waits for.
      const later = new Promise<void>((resolve) => setImmediate(resolve));
      // The committer is looked up while the run works, not after it.
      const identity = later.then(() => commitIdentity(git, baseEnv));
      identity.catch(() => undefined);
      // The index holds the whole tree; only the files the run touches are written to disk. It
      // is read while the caller starts its work; checkout and commit wait for it.
      const indexed = later.then(() => wtRaw(['read-tree', commit]));
      indexed.catch(() => undefined); // awaited by checkout, commit and remove
      // One `git hash-object -w --stdin-paths` for the run's finished files, fed while sops works
      // on the others: the commit records their ids instead of hashing and writing 1,000 loose
      // objects at the end. hash-object reads attributes from the work tree only (update-index
      // also from the index), so the tree's .gitattributes files are checked out first: the
      // same filters and line endings apply as with `update-index --add`.
      const attributes = indexed.then(async () => {
        const listed = await wtRaw(['ls-files', '-z', '--', ':(glob)**/.gitattributes']);
        const files = listed.split('\0').filter(Boolean);
        if (files.length > 0)
          await wtRaw(['checkout-index', '--force', '-z', '--stdin'], pathList(files));
        attributesDone = true;
      });
      attributes.catch(() => undefined); // awaited by commit and remove
      let attributesDone = false;
      let removed = false;
      let hasher: Hasher | undefined;
      const hashes = new Map<string, Promise<string>>();
      // hash-object reads one path per line (a trailing CR dropped, a leading '"' unquoted):
      // such paths are staged by update-index at the commit instead.
      const hashable = (path: string) => !/[\n\r]/.test(path) && !path.startsWith('"');
      const hash = (path: string): Promise<string> => {
        if (removed) return Promise.reject(new Error('the work tree is gone'));
        hasher ??= startHasher(dir, {
          ...baseEnv,
          GIT_DIR: gitDir,
          GIT_WORK_TREE: dir,
          GIT_INDEX_FILE: index,
        });
        return hasher.hash(path);
      };
      const stage = (path: string) => {
        if (hashes.has(path) || !hashable(path)) return;
        // In order: the paths staged before the attributes were there follow them one by one.
        const id = attributesDone ? hash(path) : attributes.then(() => hash(path));
        id.catch(() => undefined); // awaited by commit
        hashes.set(path, id);
      };
      return {
        dir,
        async checkout(paths) {
          await indexed;
          // From the index read above, by literal path: `git checkout -- PATHS` matches every
          // pathspec against every entry (a second for a thousand paths in a big repo).
          if (paths.length > 0)
            await wtRaw(['checkout-index', '--force', '-z', '--stdin'], pathList(paths));
        },
        stage,
        async commit(message, paths) {
          await attributes;
          // Someone removed the directory (or its index) under the run: an empty index would
          // commit a tree without the rest of the repository.
          if (!existsSync(index) || !existsSync(dir))
            throw new ExternalError(
              'git',
              `the temporary work tree ${tmp} was removed while the run worked; nothing was committed`,
              'run the command again (and keep other processes away from the temp directory)',
            );
          // Every path still on disk gets a blob (most were staged while the run worked); a path
          // gone from disk (prune) is removed from the index.
          const entries: { path: string; mode: string }[] = [];
          const gone: string[] = [];
          const odd = paths.filter((p) => !hashable(p));
          for (const path of paths.filter(hashable)) {
            let mode: number;
            try {
              mode = lstatSync(join(dir, path)).mode;
            } catch {
              gone.push(path);
              continue;
            }
            stage(path);
            // An executable file keeps its bit, as `update-index --add` would record it.
            entries.push({ path, mode: mode & 0o111 ? '100755' : '100644' });
          }
          hasher?.end();
          const records = await Promise.all(
            entries.map(async (e) => `${e.mode} ${await hashes.get(e.path)!}\t${e.path}\0`),
          ).catch((err: unknown) => {
            throw new ExternalError('git', `git hash-object failed: ${gitMessage(err)}`);
          });
          if (records.length > 0)
            await wtRaw(['update-index', '-z', '--add', '--index-info'], records.join(''));
          if (gone.length > 0)
            await wtRaw(['update-index', '--force-remove', '-z', '--stdin'], pathList(gone));
          if (odd.length > 0)
            await wtRaw(['update-index', '--add', '--remove', '-z', '--stdin'], pathList(odd));
          const tree = (await wtRaw(['write-tree'])).trim();
          // commit-tree runs no hooks, signs nothing and starts no auto-maintenance (as the
          // `commit --no-verify --no-gpg-sign` it replaces, with gc and maintenance off); the
          // message goes on stdin, cleaned up as `git commit -m` would.
          return (
            await wtRaw(
              [...(await identity), 'commit-tree', '--no-gpg-sign', '-p', commit, tree],
              cleanMessage(message),
            )
          ).trim();
        },
        async remove() {
          await Promise.allSettled([indexed, attributes, identity]);
          removed = true;
          hasher?.end();
          await hasher?.closed;
          await removeRunDir(tmp);
        },
      };
    },
    async updateBranch(branch, sha) {
      // Checked out somewhere? With no linked worktrees, only the main checkout's HEAD can say
      // (read as a file unless refs are in a reftable, where HEAD is a placeholder).
      const heads =
        existsSync(join(gitDir, 'worktrees')) || existsSync(join(gitDir, 'reftable'))
          ? (await raw(['worktree', 'list', '--porcelain'])).split('\n')
          : [
              readFileSync(join(gitDir, 'HEAD'), 'utf8')
                .trim()
                .replace(/^ref: /, 'branch '),
            ];
      if (heads.includes(`branch refs/heads/${branch}`)) return false;
      await raw(['update-ref', `refs/heads/${branch}`, sha]);
      return true;
    },
    async push(remote, sha, branch, expected) {
      const pusher = await remoteGit(remote);
      try {
        await pusher([
          'push',
          '--quiet',
          '--no-verify',
          `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`,
          remote,
          `${sha}:refs/heads/${branch}`,
        ]);
      } catch (err) {
        const msg = gitMessage(err);
        const full = redact(err instanceof Error ? err.message : String(err), auth?.token);
        // A hook or a branch rule on the remote said no: not a race, and running again won't help.
        const refused = /\[remote rejected\][^\n]*?(?:\(([^)\n]*)\))?\s*$/m.exec(full);
        // ...unless the remote only lost the race for the ref to another push.
        const raced =
          /failed to update ref|cannot lock ref|incorrect old value|reference already exists/i.test(
            full,
          );
        if (refused && !raced) {
          const said = full
            .split('\n')
            .filter((l) => l.startsWith('remote:'))
            .map((l) => l.slice('remote:'.length).trim())
            .filter(Boolean)
            .slice(0, 6);
          throw new ExternalError(
            'git',
            `git push to ${remote} ${branch} was refused by the remote${refused[1] ? ` (${refused[1]})` : ''}${said.length > 0 ? `\n  remote said: ${said.join('\n  ')}` : ''}`,
            `allow pushes to ${branch} on the remote (its hooks or branch rules refused it), then run again`,
          );
        }
        if (raced || /stale info|rejected|fetch first|non-fast-forward/.test(msg)) {
          throw new ExternalError(
            'git',
            `push to ${remote} ${branch} was rejected: the branch changed on the remote while this run worked`,
            'run the command again; it rebuilds the branch from what is on the remote now',
          );
        }
        throw new ExternalError(
          'git',
          `git push failed: ${redact(msg, auth?.token)}`,
          'check that the token (or your git credentials) may push to the repository',
        );
      }
    },
    async pruneStale() {
      // Directories of runs that were killed (their process is gone): sops's ciphertext and an
      // index. Earlier versions registered a `git worktree` for a run; those are pruned too.
      await sweepRunDirs();
      if (!existsSync(join(gitDir, 'worktrees'))) return;
      const out = await git(['worktree', 'list', '--porcelain']).catch(() => '');
      for (const line of out.split('\n')) {
        if (!line.startsWith('worktree ')) continue;
        const path = line.slice('worktree '.length);
        const m = RUN_DIR_RE.exec(basename(path));
        if (!m || isAlive(Number(m[1]))) continue;
        await git(['worktree', 'remove', '--force', path]).catch(() => undefined);
        await rm(path, { recursive: true, force: true }).catch(() => undefined);
      }
      await git(['worktree', 'prune']).catch(() => undefined);
    },
  };
  return port;
}

/** The committer: the user's git identity if set, else a bot identity. */
async function commitIdentity(git: Raw, env: NodeJS.ProcessEnv): Promise<string[]> {
  // Both settings in one git process (exit 1, no output, when neither is set).
  const out = await git(['config', '--get-regexp', '^user\\.(name|email)$']).catch(() => '');
  // As `git config --get` would answer: the last value of each wins (a repo's empty user.name
  // overrides a global one), trimmed.
  const values = new Map<string, string>();
  for (const line of out.split('\n')) {
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    if (key) values.set(key, space < 0 ? '' : line.slice(space + 1).trim());
  }
  const name = values.get('user.name');
  const email = values.get('user.email');
  if ((name || env.GIT_AUTHOR_NAME) && (email || env.GIT_AUTHOR_EMAIL)) return [];
  const inActions = env.GITHUB_ACTIONS === 'true';
  return [
    '-c',
    `user.name=${inActions ? 'github-actions[bot]' : 'gitops-secrets'}`,
    '-c',
    `user.email=${inActions ? '41898282+github-actions[bot]@users.noreply.github.com' : 'gitops-secrets@users.noreply.github.com'}`,
  ];
}

/**
 * Auth for one push through GIT_CONFIG_* environment variables (not argv, not disk). An empty
 * value first clears any extraheader actions/checkout persisted, so only one header is sent.
 */
async function authEnv(git: Raw, remote: string, auth: PushAuth): Promise<NodeJS.ProcessEnv> {
  const url = (await git(['remote', 'get-url', '--push', remote]).catch(() => '')).trim();
  const m = /^(https?:\/\/[^/]+)\//.exec(url);
  if (!m) return {};
  const key = `http.${m[1]}/.extraheader`;
  const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: key,
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: key,
    GIT_CONFIG_VALUE_1: `AUTHORIZATION: basic ${basic}`,
  };
}

function redact(text: string, token: string | undefined): string {
  if (!token) return text;
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return text.split(token).join('***').split(basic).join('***');
}

interface Hasher {
  /** The blob id of a file of the work tree (relative path), once git has written it. */
  hash(path: string): Promise<string>;
  /** No more paths: git exits once it has answered the ones it has. */
  end(): void;
  closed: Promise<void>;
}

/** `git hash-object -w --stdin-paths`: one path per line in, one object id per line out. */
function startHasher(cwd: string, env: NodeJS.ProcessEnv): Hasher {
  const child = spawn('git', ['hash-object', '-w', '--stdin-paths'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const waiting: { resolve: (id: string) => void; reject: (e: Error) => void }[] = [];
  let buffered = '';
  let stderr = '';
  let ended = false;
  let exited: string | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      waiting.shift()?.resolve(buffered.slice(0, nl).trim());
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString();
  });
  child.stdin.on('error', () => undefined); // a git that died: reported by 'close'
  const closed = new Promise<void>((resolve) => {
    const fail = (why: string) => {
      exited = why;
      for (const w of waiting.splice(0)) w.reject(new Error(why));
      resolve();
    };
    child.on('error', (e) => fail(`could not start git (${e.message})`));
    child.on('close', (code) => fail(stderr.trim() || `git hash-object exited with ${code}`));
  });
  return {
    hash(path) {
      if (exited !== undefined) return Promise.reject(new Error(exited));
      if (ended || /[\n\r]/.test(path)) return Promise.reject(new Error(`cannot hash ${path}`));
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${path}\n`);
      });
    },
    end() {
      if (ended) return;
      ended = true;
      child.stdin.end();
    },
    closed,
  };
}

/** `git commit -m`'s cleanup ("whitespace"): no trailing spaces, no blank lines at the ends or in a row. */
export function cleanMessage(message: string): string {
  const lines = message.split('\n').map((l) => l.trimEnd());
  const kept = lines.filter((l, i) => l !== '' || (i > 0 && lines[i - 1] !== ''));
  while (kept[0] === '') kept.shift();
  while (kept[kept.length - 1] === '') kept.pop();
  return `${kept.join('\n')}\n`;
}

function gitMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.trim().split('\n').slice(0, 4).join('; ');
}

/** `git cat-file --batch`: every blob in one process. */
function catFileBatch(
  root: string,
  ids: string[],
  env: NodeJS.ProcessEnv,
): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return Promise.resolve(new Map());
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', (err) =>
      reject(new ExternalError('git', `git cat-file failed: ${err.message}`)),
    );
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new ExternalError('git', `git cat-file failed: ${stderr.trim()}`));
      const buf = Buffer.concat(chunks);
      const out = new Map<string, string>();
      let pos = 0;
      while (pos < buf.length) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) break;
        const header = buf.subarray(pos, nl).toString();
        const [id = '', type, size] = header.split(' ');
        if (type === 'missing' || size === undefined) {
          pos = nl + 1;
          continue;
        }
        const len = Number(size);
        out.set(id, buf.subarray(nl + 1, nl + 1 + len).toString('utf8'));
        pos = nl + 1 + len + 1;
      }
      resolve(out);
    });
    child.stdin.end(`${unique.join('\n')}\n`);
  });
}
