import { closeSync, type Dirent, openSync, readdirSync, readSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Config } from '../config/types.js';
import type { ManifestPrefetch } from '../core/manifest-prefetch.js';
import { type ManifestInfo, type ManifestProblem, readManifest } from '../model/manifest.js';
import { templateDirs, templateMatcher } from '../model/paths.js';
import type { GitPort } from '../ports/git.js';

/** The directories below which the output template can put files (its static prefix). */
export function outputDirs(config: Config): string[] {
  return templateDirs(config.output);
}

/** Paths in a git tree listing that the output template can produce. */
export function managedPaths(config: Config, files: Map<string, string>): Map<string, string> {
  const matcher = templateMatcher(config.output);
  return new Map([...files].filter(([path]) => matcher.test(path)));
}

/** Reads manifests by blob id (one `git cat-file --batch`) and parses their plaintext parts. */
export async function readManifestsFromGit(
  git: GitPort,
  blobs: Map<string, string>,
): Promise<Map<string, ManifestInfo | ManifestProblem>> {
  const texts = await git.readBlobs([...blobs.values()]);
  const out = new Map<string, ManifestInfo | ManifestProblem>();
  for (const [path, id] of blobs) out.set(path, readManifest(path, texts.get(id) ?? ''));
  return out;
}

let readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A small file's text, read into one buffer reused for every file: `readFileSync(path, 'utf8')`
 * also takes an fstat and a buffer per call, about a fifth of the reading time over 10,000
 * manifests of 2 KB.
 */
function readText(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (;;) {
      const got = readSync(fd, readBuffer, n, readBuffer.length - n, null);
      if (got === 0) return readBuffer.toString('utf8', 0, n);
      n += got;
      if (n === readBuffer.length) {
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger);
        readBuffer = bigger;
      }
    }
  } finally {
    closeSync(fd);
  }
}

const SYMLINK: Omit<ManifestProblem, 'path'> = {
  problem: 'is a symlink',
  remedy: 'replace it with the file itself',
};

/**
 * Reads the manifests of a working tree (used by `check` and `list`), without decrypting: those
 * a prefetch read on a worker thread when it read this tree for this template, else here.
 */
export async function readManifestsFromDisk(
  root: string,
  config: Config,
  prefetch?: ManifestPrefetch,
): Promise<Map<string, ManifestInfo | ManifestProblem>> {
  if (prefetch && prefetch.root === root && prefetch.template === config.output) {
    const out = new Map<string, ManifestInfo | ManifestProblem>();
    for await (const chunk of prefetch.entries()) {
      if (!chunk) return readTree(root, config); // the worker failed: read it all here
      for (const e of chunk) {
        if (e.kind === 'symlink') out.set(e.path, { path: e.path, ...SYMLINK });
        else out.set(e.path, readManifest(e.path, e.kind === 'file' ? e.text : readText(e.full)));
      }
    }
    return out;
  }
  prefetch?.cancel();
  return readTree(root, config);
}

function readTree(root: string, config: Config): Map<string, ManifestInfo | ManifestProblem> {
  const matcher = templateMatcher(config.output);
  const out = new Map<string, ManifestInfo | ManifestProblem>();
  const prefix = join(root, sep);
  for (const dir of outputDirs(config)) {
    const start = join(root, dir);
    // The order of readdirSync, which the prefetch's worker walks in too.
    let entries: Dirent[];
    try {
      entries = readdirSync(start, { recursive: true, withFileTypes: true });
    } catch {
      continue;
    }
    // Read one at a time, synchronously: for thousands of small files this is several times
    // faster than as many concurrent fs.promises reads, and each text is dropped once parsed.
    for (const e of entries) {
      const full = e.parentPath.endsWith(sep)
        ? `${e.parentPath}${e.name}`
        : `${e.parentPath}${sep}${e.name}`;
      // readdir's parentPath starts with `start`, itself under `root`: the repo-relative path is
      // a slice (path.relative normalizes both sides, ~4 µs a file).
      const path = (full.startsWith(prefix) ? full.slice(prefix.length) : relative(root, full))
        .split(sep)
        .join('/');
      if (!matcher.test(path)) continue;
      if (e.isSymbolicLink()) {
        out.set(path, { path, ...SYMLINK });
        continue;
      }
      if (!e.isFile()) continue;
      out.set(path, readManifest(path, readText(full)));
    }
  }
  return out;
}
