import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { parse } from 'yaml';
import { ExternalError } from '../errors.js';
import { assertCiphertext } from '../model/ciphertext-guard.js';
import {
  type KeyState,
  type ManifestInfo,
  type ManifestState,
  readYamlSubset,
  renderPlainSecret,
  STATE_ANNOTATION,
} from '../model/manifest.js';
import { generateValue, type RandomSource } from '../model/random.js';
import { bumpRollout } from '../model/rollout.js';
import type { FilePlan, KeyChange, Plan } from '../plan/plan.js';
import type { SopsPort } from '../ports/sops.js';

export interface ApplyPorts {
  sops: SopsPort;
  random: RandomSource;
}

/** Values carried over from the job branch when the base changed the same file (by path, key). */
export type Carried = Map<string, Map<string, string>>;

export interface ApplyInput {
  plan: Plan;
  /** The worktree: files with changes are checked out there before apply. */
  dir: string;
  /** The current state of each existing file (after anything carried from the branch). */
  existing: Map<string, ManifestInfo>;
  carried?: Carried;
  concurrency?: number;
  /** Re-encrypt with a new data key (`sops rotate`) instead of re-wrapping it (`updatekeys`). */
  rotateDataKey?: boolean;
  /**
   * Resolves once the files to change are in the worktree (they are checked out while the
   * first sops processes encrypt from stdin); nothing on disk is read or written before.
   */
  filesReady?: Promise<void>;
  /** Called once a file is in its final state (nothing in this run writes it again). */
  onWritten?: (path: string) => void;
}

/** Performs a plan in a worktree: sops writes every value; nothing plaintext touches the disk. */
export async function applyPlan(input: ApplyInput, ports: ApplyPorts): Promise<string[]> {
  const { plan, dir } = input;
  const jobs = pLimit(input.concurrency ?? ports.sops.jobs);
  // After the first failure no further sops process starts: the queued ones reject at once, so
  // the run ends (and its worktree is removed) as soon as the running ones have finished.
  let failed: { error: unknown } | undefined;
  const limit = <T>(fn: () => Promise<T>): Promise<T> =>
    jobs(() => (failed ? Promise.reject(failed.error) : fn()));
  const touched: string[] = [];
  const finished = (path: string) => {
    touched.push(path);
    input.onWritten?.(path);
  };
  const disk = input.filesReady ?? Promise.resolve();
  const guard = symlinkGuard(dir);
  const noSymlink = async (path: string) => {
    await disk;
    guard(path);
  };
  const readText = (path: string): string | undefined => {
    try {
      return readFileSync(join(dir, path), 'utf8');
    } catch {
      return undefined;
    }
  };
  // Each directory is made once per run, not once per secret. The file operations of a run's
  // Secrets are synchronous: a write of a small file costs ~0.1 ms of CPU this way, about half of
  // what the thread-pool round trips of an asynchronous one cost, on the thread that also starts
  // every sops process (measured over 1,000 files).
  const madeDirs = new Set<string>();
  const writeSecret = async (path: string, text: string) => {
    await noSymlink(path);
    const full = join(dir, path);
    const parent = dirname(full);
    if (!madeDirs.has(parent)) {
      mkdirSync(parent, { recursive: true });
      madeDirs.add(parent);
    }
    writeFileSync(full, text, { mode: 0o644 });
  };
  const decrypted = new Map<string, Promise<Record<string, string>>>();
  const valuesOf = (path: string) => {
    let p = decrypted.get(path);
    if (!p) {
      p = disk
        .then(() => limit(() => ports.sops.decrypt(path, { cwd: dir })))
        .then((text) => decodeData(text, path));
      decrypted.set(path, p);
    }
    return p;
  };

  const sharedValues = new Map<string, string>();
  for (const s of plan.shared) {
    if (s.action === 'needs-input') continue;
    if (s.action === 'reuse' && s.from) {
      const values = await valuesOf(s.from.path);
      const v = values[s.from.key];
      if (v === undefined)
        throw new ExternalError(
          'sops',
          `${s.from.path} has no value for ${s.from.key} after decrypting`,
        );
      sharedValues.set(s.group, v);
    } else if (s.source.kind !== 'provided') {
      sharedValues.set(s.group, generateValue(s.source, ports.random));
    }
  }

  /**
   * When every value (two or more) of an existing file is replaced (e.g. rotating all its keys),
   * the Secret is encrypted again, whole, from stdin: one sops process instead of one `sops set`
   * per key plus one for the state annotation (and a new data key, as a rotation should have).
   * The result is kept only if it differs from the current file in values and volatile sops
   * fields alone (same metadata, type, recipients, key groups, encryption settings); otherwise
   * the caller falls back to `sops set`.
   */
  /**
   * The whole Secret rendered in memory and encrypted by sops from stdin. Its values are made
   * and it is rendered when its sops process is about to start, not when it is queued: the
   * first two processes start after two Secrets are ready instead of all of them (a rotation of
   * 100 started its second sops 44 ms after the first), and each plaintext lives only as long
   * as its encryption.
   */
  const encryptWhole = async (
    file: FilePlan,
    state: ManifestState,
    data: () => Promise<Map<string, string>>,
  ): Promise<string> => {
    const ciphertext = await limit(async () =>
      ports.sops.encrypt(
        renderPlainSecret({
          name: file.secret.name,
          namespace: file.secret.namespace,
          type: file.secret.type,
          labels: file.secret.labels,
          annotations: file.secret.annotations,
          state,
          data: await data(),
        }),
        { filename: file.path, cwd: dir, settings: file.sops },
      ),
    );
    // The ciphertext guard: what sops returned holds every value, encrypted, before it is used.
    assertCiphertext(file.path, ciphertext, (await data()).keys());
    return ciphertext;
  };

  /**
   * The ciphertext guard for a file sops changed in place (`set`, `unset`, `rotate`,
   * `updatekeys`): read back before it is staged, with the keys it must hold now.
   */
  const guardInPlace = (file: FilePlan, info: ManifestInfo, writes: KeyChange[]) => {
    const keys = new Set(info.dataKeys);
    for (const change of writes)
      if (change.action === 'remove') keys.delete(change.key);
      else keys.add(change.key);
    const text = readText(file.path);
    if (text === undefined)
      throw new ExternalError('sops', `ciphertext guard: ${file.path} is gone after sops`);
    assertCiphertext(file.path, text, keys);
  };

  const rewriteWhole = async (
    file: FilePlan,
    info: ManifestInfo,
    writes: KeyChange[],
    values: () => Promise<Map<string, string>>,
  ): Promise<boolean> => {
    // A single value keeps the `sops set` path: its PR diff stays one ciphertext (same data key).
    const keys = new Set(writes.map((c) => c.key));
    const whole =
      keys.size >= 2 &&
      writes.every((c) => c.action !== 'remove' && c.value?.kind !== 'previous') &&
      info.dataKeys.every((k) => keys.has(k));
    if (!whole) return false;
    const state: ManifestState = { version: 1, keys: { ...info.state.keys } };
    for (const change of writes)
      state.keys[change.key] = keyState(file, change, plan.now, info.state.keys[change.key]);
    const ciphertext = await encryptWhole(file, state, values);
    await noSymlink(file.path);
    const current = readText(file.path);
    if (current === undefined || !sameButValues(current, ciphertext)) return false;
    await writeSecret(file.path, ciphertext);
    return true;
  };

  /** One file's changes: sops writes every value. */
  const applyFile = async (file: FilePlan): Promise<void> => {
    const writes = file.changes.filter((c) => c.action !== 'needs-input');
    if (writes.length === 0 && !file.reencrypt) return;
    const valueFor = async (change: KeyChange): Promise<string> => {
      const v = change.value;
      if (!v) throw new Error(`no value source for ${file.path} ${change.key}`);
      if (v.kind === 'own') return generateValue(v.source, ports.random);
      if (v.kind === 'shared') return sharedValues.get(v.group)!;
      if (v.kind === 'given') return v.value;
      if (v.kind === 'carried')
        return input.carried?.get(file.path)?.get(change.key) ?? missingCarry(file, change);
      const old = (await valuesOf(file.path))[v.of];
      if (old === undefined)
        throw new ExternalError(
          'sops',
          `${file.path}: no current value of ${v.of} to keep as previous`,
        );
      return old;
    };
    /**
     * The values of the changes, made once, when first asked for: inside the sops slot of a
     * Secret encrypted whole. Values that depend on the current ones (keepPrevious) decrypt,
     * which takes a slot of its own: those are read at once, before anything changes.
     */
    let made: Promise<Map<string, string>> | undefined;
    const values = () => {
      made ??= (async () => {
        const m = new Map<string, string>();
        for (const change of writes)
          if (change.action !== 'remove') m.set(change.key, await valueFor(change));
        return m;
      })();
      return made;
    };
    if (writes.some((c) => c.action !== 'remove' && c.value?.kind === 'previous')) await values();
    const info = input.existing.get(file.path);
    if (!info) {
      const state: ManifestState = { version: 1, keys: {} };
      for (const change of writes) {
        if (change.action === 'remove') continue;
        state.keys[change.key] = keyState(file, change, plan.now, undefined);
      }
      if (Object.keys(state.keys).length === 0) return;
      await writeSecret(file.path, await encryptWhole(file, state, values));
      finished(file.path);
      return;
    }
    if (writes.length > 0) {
      if (!file.reencrypt && (await rewriteWhole(file, info, writes, values))) {
        finished(file.path);
        return;
      }
      await noSymlink(file.path);
      const state: ManifestState = { version: 1, keys: { ...info.state.keys } };
      for (const change of writes) {
        if (change.action === 'remove') {
          await limit(() => ports.sops.unset(file.path, ['data', change.key], { cwd: dir }));
          delete state.keys[change.key];
          continue;
        }
        const encoded = Buffer.from((await values()).get(change.key)!, 'utf8').toString('base64');
        await limit(() =>
          ports.sops.set(file.path, ['data', change.key], JSON.stringify(encoded), { cwd: dir }),
        );
        state.keys[change.key] = keyState(file, change, plan.now, info.state.keys[change.key]);
      }
      await limit(() =>
        ports.sops.set(
          file.path,
          ['metadata', 'annotations', STATE_ANNOTATION],
          JSON.stringify(stateJson(state)),
          { cwd: dir },
        ),
      );
    }
    const reencrypt = file.reencrypt;
    if (reencrypt) {
      await noSymlink(file.path);
      await limit(() =>
        input.rotateDataKey
          ? ports.sops.reencrypt(file.path, reencrypt, { cwd: dir })
          : ports.sops.updateKeys(file.path, file.sops.hasRecipients ? file.sops : undefined, {
              cwd: dir,
            }),
      );
    }
    guardInPlace(file, info, writes);
    finished(file.path);
  };

  // Every file settles before apply returns (the caller then removes the worktree).
  await Promise.allSettled(
    plan.files.map((file) =>
      applyFile(file).catch((error: unknown) => {
        failed ??= { error };
        throw error;
      }),
    ),
  );
  if (failed) throw failed.error;

  // Workloads that mount a Secret whose values changed get a new pod-template annotation, so the
  // GitOps controller restarts them after merge.
  const rollouts = new Map<string, string[]>();
  for (const file of plan.files) {
    if (!file.changes.some((c) => c.action === 'rotate' || c.action === 'set')) continue;
    for (const p of file.secret.rollout) rollouts.set(p, [...(rollouts.get(p) ?? []), file.id]);
  }
  for (const [path, ids] of rollouts) {
    await noSymlink(path);
    const text = readText(path);
    const remedy = 'fix the path under `rollout` in the config, or the manifest';
    if (text === undefined)
      throw new ExternalError(
        'repo',
        `rollout ${path} (of ${ids.join(', ')}) does not exist in the repo`,
        remedy,
      );
    const bumped = bumpRollout(text, plan.now);
    if ('problem' in bumped)
      throw new ExternalError(
        'repo',
        `rollout ${path} (of ${ids.join(', ')}) ${bumped.problem}`,
        remedy,
      );
    await writeFile(join(dir, path), bumped.text);
    finished(path);
  }

  if (plan.prune) {
    for (const orphan of plan.orphans) {
      if (orphan.keys.length > 0) continue;
      await noSymlink(orphan.path);
      await rm(join(dir, orphan.path), { force: true });
      touched.push(orphan.path);
    }
  }
  return touched.sort();
}

/** Fields of the `sops` section that change on every encryption. */
const VOLATILE_SOPS = new Set(['lastmodified', 'mac', 'version', 'enc', 'created_at']);

/**
 * True when two encrypted Secrets differ only in their values, their state annotation and the
 * sops fields that change on every encryption: same metadata, type, recipients, key groups and
 * encryption settings.
 */
export function sameButValues(before: string, after: string): boolean {
  const shape = (text: string): string | undefined => {
    let doc: unknown;
    try {
      doc = readYamlSubset(text) ?? parse(text);
    } catch {
      return undefined;
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
    const { data: _data, sops, metadata, ...rest } = doc as Record<string, unknown>;
    const meta = { ...(metadata as Record<string, unknown> | undefined) };
    const annotations = { ...(meta.annotations as Record<string, unknown> | undefined) };
    delete annotations[STATE_ANNOTATION];
    meta.annotations = annotations;
    return canonical({ ...rest, metadata: meta, sops: stripVolatile(sops) });
  };
  const a = shape(before);
  return a !== undefined && a === shape(after);
}

function stripVolatile(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripVolatile);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => !VOLATILE_SOPS.has(k))
      .map(([k, v]) => [k, stripVolatile(v)]),
  );
}

/** JSON with object keys sorted, so that key order does not matter. */
function canonical(node: unknown): string {
  if (Array.isArray(node)) return `[${node.map(canonical).join(',')}]`;
  if (node && typeof node === 'object') {
    const entries = Object.entries(node).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(node) ?? 'undefined';
}

function stateJson(state: ManifestState): string {
  const keys: Record<string, KeyState> = {};
  for (const k of Object.keys(state.keys).sort()) keys[k] = state.keys[k]!;
  return JSON.stringify({ version: 1, keys });
}

function keyState(
  file: FilePlan,
  change: KeyChange,
  now: string,
  before: KeyState | undefined,
): KeyState {
  const spec = file.secret.keys.find((k) => k.name === change.key);
  const shared = spec?.source.kind === 'shared' ? spec.source.from : undefined;
  const previousOf = change.value?.kind === 'previous' ? change.value.of : undefined;
  const carried = change.value?.kind === 'carried' ? change.value.state : undefined;
  if (carried) return carried;
  return {
    generated:
      (change.action === 'rotate' || change.action === 'set') && before ? before.generated : now,
    rotated: now,
    ...(shared ? { shared } : {}),
    ...(spec?.source.kind === 'provided' ? { provided: true } : {}),
    ...(previousOf ? { previousOf } : {}),
  };
}

function missingCarry(file: FilePlan, change: KeyChange): never {
  throw new ExternalError(
    'git',
    `${file.path}: the value of ${change.key} on the job branch could not be read`,
  );
}

/** Plaintext values of a decrypted manifest, decoded from base64; kept in memory only. */
export function decodeData(text: string, path: string): Record<string, string> {
  const doc = parse(text) as { data?: Record<string, unknown> } | null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc?.data ?? {})) {
    if (typeof v !== 'string')
      throw new ExternalError('sops', `${path}: data.${k} is not a string after decrypting`);
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return out;
}

/**
 * Refuses to write through a symlink anywhere along a repo-relative path. Each path (directory or
 * file) is looked at once per guard: a thousand Secrets share a few dozen directories.
 */
export function symlinkGuard(root: string): (path: string) => void {
  type Kind = 'absent' | 'link' | 'other';
  // Nothing but this run writes in its worktree, and it writes no symlinks: each path is looked
  // at once (synchronously: ~10 µs, against ~40 µs for a thread-pool round trip).
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
