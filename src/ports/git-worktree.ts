/**
 * Where a run writes and commits: a temporary directory with an index of its own
 * (GIT_INDEX_FILE, GIT_WORK_TREE), not a registered `git worktree`. Nothing of the run is
 * recorded in .git (no worktree entry, no HEAD) and the user's checkout, index and HEAD are never
 * touched. The index holds the whole tree of the commit; only the files the run touches are
 * written to disk. Whose the directory is, is in its name (run-dirs.ts): a later run removes it
 * when its process is gone, in whatever state a kill left it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExternalError } from '../errors.js';
import { batches, type GitRunner } from './git-run.js';
import { makeRunDir, removeRunDir } from './run-dirs.js';

export interface Worktree {
  dir: string;
  /** Writes these paths of the worktree's commit to disk (the rest stays unchecked-out). */
  checkout(paths: string[]): Promise<void>;
  /** Marks a finished file for the commit (which stages it with the paths it is given). */
  stage(path: string): void;
  /** Stages these paths (additions, changes, deletions) and commits; returns the new commit. */
  commit(message: string, paths: string[]): Promise<string>;
  remove(): Promise<void>;
}

/** A work tree of `commit` in a new run directory. */
export async function addWorktree(
  repo: GitRunner,
  gitDir: string,
  commit: string,
): Promise<Worktree> {
  const tmp = await makeRunDir('wt');
  const dir = join(tmp, 'tree');
  mkdirSync(dir);
  const index = join(tmp, 'index');
  const git = repo.with({ GIT_DIR: gitDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index }, dir);
  return new TempWorktree({ tmp, dir, index, commit, git, identity: commitIdentity(repo) });
}

class TempWorktree implements Worktree {
  readonly dir: string;
  private readonly tmp: string;
  private readonly index: string;
  private readonly commitSha: string;
  private readonly git: GitRunner;
  /** The whole tree in the index; checkout and commit wait for it. */
  private readonly indexed: Promise<unknown>;
  /** The committer, looked up while the run works. */
  private readonly identity: Promise<string[]>;
  private readonly staged = new Set<string>();

  constructor(o: {
    tmp: string;
    dir: string;
    index: string;
    commit: string;
    git: GitRunner;
    identity: Promise<string[]>;
  }) {
    this.tmp = o.tmp;
    this.dir = o.dir;
    this.index = o.index;
    this.commitSha = o.commit;
    this.git = o.git;
    this.identity = o.identity;
    this.indexed = this.git.run(['read-tree', o.commit]);
    // Awaited by checkout, commit and remove; until then a failure is not "unhandled".
    this.indexed.catch(() => undefined);
  }

  async checkout(paths: string[]): Promise<void> {
    await this.indexed;
    // By literal path, from the index: `git checkout -- PATHS` would match every pathspec
    // against every entry. The tree's .gitattributes (in the index) apply.
    for (const batch of batches(paths))
      await this.git.run(['checkout-index', '--force', '--', ...batch]);
  }

  stage(path: string): void {
    this.staged.add(path);
  }

  async commit(message: string, paths: string[]): Promise<string> {
    await this.indexed;
    // Someone removed the directory (or its index) under the run: an empty index would commit
    // a tree without the rest of the repository.
    if (!existsSync(this.index) || !existsSync(this.dir))
      throw new ExternalError(
        'git',
        `the temporary work tree ${this.tmp} was removed while the run worked; nothing was committed`,
        'run the command again (and keep other processes away from the temp directory)',
      );
    // As `git add`: a file on disk is added with its mode and the tree's .gitattributes (read
    // from the index), a path gone from disk is removed. --verbose: git says something (see
    // GitRunner.instance).
    const all = [...new Set([...this.staged, ...paths])];
    for (const batch of batches(all))
      await this.git.run(['update-index', '--add', '--remove', '--verbose', '--', ...batch]);
    const tree = (await this.git.run(['write-tree'])).trim();
    // commit-tree runs no hooks, signs nothing and starts no auto-maintenance; the message is
    // cleaned up as `git commit -m` would, and read from a file (it may be long).
    const file = join(this.tmp, 'message');
    await writeFile(file, cleanMessage(message));
    const identity = await this.identity;
    const args = ['commit-tree', '--no-gpg-sign', '-p', this.commitSha, '-F', file, tree];
    return (await this.git.run([...identity, ...args], 'commit-tree')).trim();
  }

  async remove(): Promise<void> {
    await Promise.allSettled([this.indexed, this.identity]);
    await removeRunDir(this.tmp);
  }
}

/** The committer: the user's git identity if set, else a bot identity (`-c` arguments). */
async function commitIdentity(git: GitRunner): Promise<string[]> {
  // Both settings in one git process (exit 1, no output, when neither is set).
  const out = (await git.attempt(['config', '--get-regexp', '^user\\.(name|email)$'])) ?? '';
  // As `git config --get` would answer: the last value of each wins (a repo's empty user.name
  // overrides a global one), trimmed.
  const values = new Map<string, string>();
  for (const line of out.split('\n')) {
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    if (key) values.set(key, space < 0 ? '' : line.slice(space + 1).trim());
  }
  const { env } = git;
  if (
    (values.get('user.name') || env.GIT_AUTHOR_NAME) &&
    (values.get('user.email') || env.GIT_AUTHOR_EMAIL)
  )
    return [];
  const inActions = env.GITHUB_ACTIONS === 'true';
  return [
    '-c',
    `user.name=${inActions ? 'github-actions[bot]' : 'gitops-secrets'}`,
    '-c',
    `user.email=${inActions ? '41898282+github-actions[bot]@users.noreply.github.com' : 'gitops-secrets@users.noreply.github.com'}`,
  ];
}

/** `git commit -m`'s cleanup ("whitespace"): no trailing spaces, no blank lines at the ends or in a row. */
export function cleanMessage(message: string): string {
  const lines = message.split('\n').map((l) => l.trimEnd());
  const kept = lines.filter((l, i) => l !== '' || (i > 0 && lines[i - 1] !== ''));
  while (kept[0] === '') kept.shift();
  while (kept[kept.length - 1] === '') kept.pop();
  return `${kept.join('\n')}\n`;
}
