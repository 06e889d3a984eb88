/**
 * What a run parses that the next run would parse again, kept between runs: the validated config
 * and the plaintext readings of the manifests (key names, state annotation, recipients). Reading
 * them with the `yaml` package is most of a run that has nothing to do (about 0.45 s of a 0.75 s
 * no-op sync of 1,000 secrets: docs/performance.md), so a later run takes them from here.
 *
 * - Keyed by content: a manifest by its git blob id and path, the config by a hash of its text
 *   and name. A changed file has another key; nothing is ever invalidated by time.
 * - Per build: the file's name carries a hash of the running CLI's own bundle, so a reading made
 *   by other code is never used; files of other builds are removed when this one is written.
 * - Per repository: `$XDG_CACHE_HOME/gitops-secrets/<hash of the repo's path>/` (default
 *   `~/.cache`), mode 0700; one file, written whole (temp file + rename) at the end of a run,
 *   holding only what that run used. Directories of repositories whose memo has not changed
 *   for 30 days are removed when another is written.
 * - No value is ever in it: the config and the manifests' plaintext metadata are already
 *   plaintext in git. `GITOPS_SECRETS_CACHE=off` turns it off.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { blobId } from './git-trees.js';

export type MemoKind = 'config' | 'manifest';

/** Readings by content key; `get` of a missing key gives undefined. */
export interface Memo {
  get<T>(kind: MemoKind, key: string): T | undefined;
  set(kind: MemoKind, key: string, value: unknown): void;
}

type Entries = Record<MemoKind, Map<string, unknown>>;

/** A memo that keeps nothing (the Action, library use, `GITOPS_SECRETS_CACHE=off`). */
export const noMemo: Memo = { get: () => undefined, set() {} };

let build: string | undefined;
const open = new Map<string, { save(): void }>();

/**
 * Turns memos on for this process: `bundle` is the running CLI's file (its hash names the
 * build). Called by the CLI only.
 */
export function enableMemo(bundle: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env.GITOPS_SECRETS_CACHE === 'off') return;
  try {
    build = createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 16);
  } catch {
    build = undefined;
  }
}

/** The memo of the repository at `root` (one per process and root). */
export function openMemo(root: string, env: NodeJS.ProcessEnv = process.env): Memo {
  if (!build) return noMemo;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = join(base, 'gitops-secrets', hashOf(root).slice(0, 16));
  const file = join(dir, `readings-${build}.v8`);
  const loaded = load(file);
  const used: Entries = { config: new Map(), manifest: new Map() };
  let added = false;
  const memo: Memo = {
    get<T>(kind: MemoKind, key: string) {
      const v = loaded[kind].get(key);
      if (v !== undefined) used[kind].set(key, v);
      return v as T | undefined;
    },
    set(kind, key, value) {
      used[kind].set(key, value);
      added = true;
    },
  };
  open.set(root, {
    save() {
      const dropped = (['config', 'manifest'] as const).some((k) => used[k].size < loaded[k].size);
      if (added || dropped) write(dir, file, used);
    },
  });
  return memo;
}

/** Writes every open memo (at the end of a run); a cache that cannot be written is skipped. */
export function saveMemos(): void {
  for (const m of open.values()) m.save();
  open.clear();
}

/** The key of a manifest: git's blob id of its bytes (as `git hash-object` gives), and its path. */
export function blobKey(bytes: Buffer, path: string): string {
  return `${blobId(bytes)}\0${path}`;
}

export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function load(file: string): Entries {
  try {
    const data = deserialize(readFileSync(file)) as Entries;
    if (data.config instanceof Map && data.manifest instanceof Map) return data;
  } catch {
    // none yet, or unreadable: start empty
  }
  return { config: new Map(), manifest: new Map() };
}

function write(dir: string, file: string, entries: Entries): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir))
      if (join(dir, name) !== file) rmSync(join(dir, name), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, serialize(entries), { mode: 0o600 });
    renameSync(tmp, file);
    removeUnused(dirname(dir));
  } catch {
    // a cache is never a reason to fail a run
  }
}

const UNUSED_MS = 30 * 24 * 3600 * 1000;

/** Removes the memos that have not changed for 30 days (repositories moved, deleted, scratch). */
function removeUnused(parent: string): void {
  const now = Date.now();
  for (const name of readdirSync(parent)) {
    const dir = join(parent, name);
    if (now - statSync(dir).mtimeMs > UNUSED_MS) rmSync(dir, { recursive: true, force: true });
  }
}
