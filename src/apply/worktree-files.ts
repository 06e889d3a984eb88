import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExternalError } from '../errors.js';

/** The files of a run's worktree, as apply reads and writes them: never through a symlink. */
export interface WorktreeFiles {
  /** Refuses a path that runs through a symlink (waits until the files are checked out). */
  guard(path: string): Promise<void>;
  /** A file's text, undefined when it does not exist. */
  read(path: string): string | undefined;
  write(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
}

/**
 * `ready` resolves once the files to change are in the worktree: nothing is read or written
 * before. The files are small and few per Secret; synchronous calls keep this simple.
 */
export function worktreeFiles(dir: string, ready: Promise<void>): WorktreeFiles {
  const check = symlinkGuard(dir);
  const guard = async (path: string) => {
    await ready;
    check(path);
  };
  return {
    guard,
    read(path) {
      try {
        return readFileSync(join(dir, path), 'utf8');
      } catch {
        return undefined;
      }
    },
    async write(path, text) {
      await guard(path);
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text, { mode: 0o644 });
    },
    async remove(path) {
      await guard(path);
      rmSync(join(dir, path), { force: true });
    },
  };
}

/**
 * Refuses to write through a symlink anywhere along a repo-relative path. Nothing but this run
 * writes in its worktree, and it writes no symlinks: each path is looked at once per guard.
 */
export function symlinkGuard(root: string): (path: string) => void {
  type Kind = 'absent' | 'link' | 'other';
  const seen = new Map<string, Kind>();
  const look = (rel: string): Kind => {
    let kind = seen.get(rel);
    if (!kind) {
      try {
        kind = lstatSync(join(root, rel)).isSymbolicLink() ? 'link' : 'other';
      } catch {
        kind = 'absent';
      }
      seen.set(rel, kind);
    }
    return kind;
  };
  return (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      const found = look(rel);
      if (found === 'absent') return;
      if (found === 'link')
        throw new ExternalError(
          'repo',
          `refusing to write ${path}: ${rel} is a symlink`,
          'replace the symlink with a directory, or change `output` in the config',
        );
    }
  };
}
