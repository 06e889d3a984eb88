import { lazyBuiltin } from '../builtin.js';
import { DEFAULT_OUTPUT } from '../config/types.js';
import { templateDirs, templateMatcher, templatePathProblem } from '../model/paths.js';

const threads = lazyBuiltin<typeof import('node:worker_threads')>('node:worker_threads');

/**
 * The manifests of a working tree, read on a worker thread while the main thread parses the
 * config (`check`, `list`). At 10,000 manifests the opens, reads and closes take ~0.25 s of
 * system time that the main thread would otherwise spend before it could parse any of them.
 * Only files are read (encrypted manifests, under the output template's directory, matching
 * it); nothing is written. The template is guessed from the config's text before the config is
 * parsed: the reading is used only when the parsed config has that very template, and a wrong
 * guess costs only the reading.
 */
export interface ManifestPrefetch {
  readonly root: string;
  readonly template: string;
  /**
   * The files in readdir order, in chunks as the worker reads them; undefined when the worker
   * failed (the caller then reads the tree itself).
   */
  entries(): AsyncGenerator<PrefetchedEntry[] | undefined>;
  /** Stops the worker (the reading is not needed). */
  cancel(): void;
}

export type PrefetchedEntry =
  | { path: string; full: string; kind: 'file'; text: string }
  /** A symlink, reported as such; `unreadable`: read again by the caller, which reports it. */
  | { path: string; full: string; kind: 'symlink' | 'unreadable' };

/** The output template a config's text sets, as far as one line tells; the default otherwise. */
export function guessOutput(text: string): string {
  const m = /^output:[ \t]*(.*?)[ \t]*(?:[ \t]#.*)?\r?$/m.exec(text);
  if (!m?.[1]) return DEFAULT_OUTPUT;
  const v = m[1];
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}

/**
 * The prefetch for a config's text: its output template guessed, and read only when that is a
 * path inside the repo (the config is not checked yet: `../..` must not send the worker
 * through the directories above it).
 */
export function prefetchFor(root: string, configText: string): ManifestPrefetch | undefined {
  const template = guessOutput(configText);
  if (templatePathProblem(template)) return undefined;
  return prefetchManifests(root, template);
}

// The worker: plain CommonJS, node built-ins only. It walks each directory as the main thread
// would, keeps the paths the template matches, and packs the files' bytes into 1 MB buffers
// that it transfers (no copy) with the paths, offsets and lengths, 500 files at a time.
const WORKER = `'use strict';
const { closeSync, openSync, readdirSync, readSync } = require('node:fs');
const { join, relative, sep } = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const { root, dirs, pattern } = workerData;
const matcher = new RegExp(pattern);
const prefix = join(root, sep);
const CHUNK = 1 << 20;
let buf = new Uint8Array(CHUNK);
let used = 0;
let files = [];
const flush = () => {
  if (files.length === 0) return;
  parentPort.postMessage({ files, buf: buf.buffer }, [buf.buffer]);
  buf = new Uint8Array(CHUNK);
  used = 0;
  files = [];
};
const readInto = (full) => {
  const fd = openSync(full, 'r');
  if (buf.length - used < 64 * 1024) flush();
  const start = used;
  try {
    for (;;) {
      if (used === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf.subarray(0, used));
        buf = bigger;
      }
      const got = readSync(fd, buf, used, buf.length - used, null);
      if (got === 0) return [start, used - start];
      used += got;
    }
  } catch (e) {
    used = start;
    throw e;
  } finally {
    closeSync(fd);
  }
};
for (const dir of dirs) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { recursive: true, withFileTypes: true });
  } catch {
    continue;
  }
  for (const e of entries) {
    const full = e.parentPath.endsWith(sep) ? e.parentPath + e.name : e.parentPath + sep + e.name;
    const path = (full.startsWith(prefix) ? full.slice(prefix.length) : relative(root, full)).split(sep).join('/');
    if (!matcher.test(path)) continue;
    if (e.isSymbolicLink()) files.push([path, full, -1, 0]);
    else if (e.isFile()) {
      try {
        const [start, length] = readInto(full);
        files.push([path, full, start, length]);
      } catch {
        files.push([path, full, -2, 0]);
      }
    }
    if (files.length >= 500) flush();
  }
}
flush();
parentPort.postMessage({ done: true });
`;

interface Chunk {
  files?: [string, string, number, number][];
  buf?: ArrayBuffer;
  done?: true;
}

/** Starts the worker reading the manifests `template` can put under `root`. */
export function prefetchManifests(root: string, template: string): ManifestPrefetch {
  const worker = new (threads().Worker)(WORKER, {
    eval: true,
    workerData: { root, dirs: templateDirs(template), pattern: templateMatcher(template).source },
    // Its own small heap: it only holds the buffer it fills.
    resourceLimits: { maxOldGenerationSizeMb: 64 },
    stdout: true,
    stderr: true,
  });
  // The run never waits for a reading it does not use (a config error, another template).
  worker.unref();
  const queue: (Chunk | 'failed')[] = [];
  let wake: (() => void) | undefined;
  let over = false;
  const push = (c: Chunk | 'failed') => {
    if (over) return;
    if (c === 'failed' || c.done) over = true;
    queue.push(c);
    wake?.();
  };
  worker.on('message', (m: Chunk) => push(m));
  worker.on('error', () => push('failed'));
  worker.on('exit', () => push('failed'));
  return {
    root,
    template,
    async *entries() {
      worker.ref();
      try {
        for (;;) {
          const c = queue.shift();
          if (c === undefined) {
            await new Promise<void>((res) => {
              wake = res;
            });
            wake = undefined;
            continue;
          }
          if (c === 'failed') {
            yield undefined;
            return;
          }
          if (c.done) return;
          const bytes = Buffer.from(c.buf!);
          yield c.files!.map(
            ([path, full, start, length]): PrefetchedEntry =>
              start >= 0
                ? { path, full, kind: 'file', text: bytes.toString('utf8', start, start + length) }
                : { path, full, kind: start === -1 ? 'symlink' : 'unreadable' },
          );
        }
      } finally {
        void worker.terminate();
      }
    },
    cancel() {
      over = true;
      void worker.terminate();
    },
  };
}
