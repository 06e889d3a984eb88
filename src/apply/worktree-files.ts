import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExternalError } from '../errors.js';

/**
 * The files of a run's worktree, as apply reads and writes them: never through a symlink. They
 * are small and few per Secret: synchronous calls keep this simple.
 */
export interface WorktreeFiles {
  /** Refuses a path that runs through a symlink. */
  guard(path: string): void;
  /** A file's text, undefined when it does not exist. */
  read(path: string): string | undefined;
  write(path: string, text: string): void;
  remove(path: string): void;
}

export function worktreeFiles(dir: string): WorktreeFiles {
  const guard = symlinkGuard(dir);
  return {
    guard,
    read(path) {
      try {
        return readFileSync(join(dir, path), 'utf8');
      } catch {
        return undefined;
      }
    },
    write(path, text) {
      guard(path);
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text, { mode: 0o644 });
    },
    remove(path) {
      guard(path);
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
