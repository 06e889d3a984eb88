import { ExternalError } from '../errors.js';
import { assertCiphertext } from '../model/ciphertext-guard.js';
import {
  type ManifestInfo,
  type ManifestState,
  renderPlainSecret,
  STATE_ANNOTATION,
  stateToString,
} from '../model/manifest.js';
import { layoutOf } from '../model/manifest-layout.js';
import { generateValue, type RandomSource } from '../model/random.js';
import { metadataDrift } from '../plan/metadata.js';
import type { FilePlan, KeyChange } from '../plan/plan.js';
import type { SopsPort } from '../ports/sops.js';
import { deriveValues } from './derived-values.js';
import { keyState } from './secret-state.js';
import type { WorktreeFiles } from './worktree-files.js';

/** What applying one file needs from the run. */
export interface FileContext {
  sops: SopsPort;
  random: RandomSource;
  /** The worktree. */
  dir: string;
  files: WorktreeFiles;
  now: string;
  /** Runs one sops call in a free slot; rejects at once after the run's first failure. */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The current plaintext values of an existing file (decrypted once per run). */
  valuesOf: (path: string) => Promise<Record<string, string>>;
  /** The value of each shared group this plan writes. */
  shared: Map<string, string>;
  /** Values carried over from the job branch (by path, then key). */
  carried: Map<string, Map<string, string>> | undefined;
  /** Re-encrypt with a new data key (`sops rotate`) instead of re-wrapping it (`updatekeys`). */
  rotateDataKey: boolean;
  /** Told each file's final text and the document the guard parsed (for the memo). */
  remember?: (path: string, text: string, doc: Record<string, unknown>) => void;
}

/**
 * One file's changes; sops writes every value. A new file, or one whose every value is replaced,
 * is encrypted whole from stdin; otherwise each key is changed with `sops set`/`unset`, then the
 * state annotation, then the recipients. Returns false when there was nothing to do.
 */
export async function applyFile(
  ctx: FileContext,
  file: FilePlan,
  info: ManifestInfo | undefined,
): Promise<boolean> {
  const writes = file.changes.filter((c) => c.action !== 'needs-input' && c.action !== 'metadata');
  const metadata = info && file.changes.some((c) => c.action === 'metadata');
  if (writes.length === 0 && !file.reencrypt && !metadata) return false;
  const values = await valuesFor(ctx, file, writes);
  if (!info) {
    const state: ManifestState = { version: 1, keys: {} };
    for (const change of writes)
      if (change.action !== 'remove')
        state.keys[change.key] = keyState(file, change, ctx.now, undefined);
    if (Object.keys(state.keys).length === 0) return false;
    const { text, doc } = await encryptWhole(ctx, file, state, values);
    ctx.files.write(file.path, text);
    ctx.remember?.(file.path, text, doc);
    return true;
  }
  if (metadata) await setMetadata(ctx, file, info);
  if (writes.length > 0) {
    if (!file.reencrypt && !metadata && (await rewriteWhole(ctx, file, info, writes, values)))
      return true;
    await setEach(ctx, file, info, writes, values);
  }
  const change = file.reencrypt;
  if (change) {
    ctx.files.guard(file.path);
    await ctx.limit(() =>
      ctx.sops.updateKeys(file.path, {
        cwd: ctx.dir,
        settings: file.sops,
        ...(ctx.rotateDataKey ? { rotate: change } : {}),
      }),
    );
  }
  guardInPlace(ctx, file, info, writes);
  return true;
}

/** The plaintext value of each key the changes write. */
async function valuesFor(
  ctx: FileContext,
  file: FilePlan,
  writes: KeyChange[],
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const change of writes) {
    if (change.action === 'remove' || change.value?.kind === 'derived') continue;
    const v = change.value;
    if (!v) throw new Error(`no value source for ${file.path} ${change.key}`);
    let value: string | undefined;
    if (v.kind === 'own') value = generateValue(v.source, ctx.random);
    else if (v.kind === 'shared') value = ctx.shared.get(v.group);
    else if (v.kind === 'given') value = v.value;
    else if (v.kind === 'carried') value = ctx.carried?.get(file.path)?.get(change.key);
    else value = (await ctx.valuesOf(file.path))[v.of];
    if (value === undefined) throw missingValue(file, change);
    values.set(change.key, value);
  }
  await deriveValues(() => ctx.valuesOf(file.path), file, writes, values);
  return values;
}

function missingValue(file: FilePlan, change: KeyChange): ExternalError {
  const v = change.value;
  if (v?.kind === 'carried')
    return new ExternalError(
      'git',
      `${file.path}: the value of ${change.key} on the job branch could not be read`,
    );
  if (v?.kind === 'previous')
    return new ExternalError(
      'sops',
      `${file.path}: no current value of ${v.of} to keep as previous`,
    );
  return new ExternalError('sops', `${file.path}: no value for ${change.key}`);
}

/**
 * The whole Secret rendered in memory and encrypted by sops from stdin, then the ciphertext
 * guard: what sops returned holds every value, encrypted, before it is used. Returns the
 * ciphertext and the document the guard parsed.
 */
async function encryptWhole(
  ctx: FileContext,
  file: FilePlan,
  state: ManifestState,
  data: Map<string, string>,
): Promise<{ text: string; doc: Record<string, unknown> }> {
  const { name, namespace, type, labels, annotations } = file.secret;
  const text = await ctx.limit(() =>
    ctx.sops.encrypt(
      renderPlainSecret({ name, namespace, type, labels, annotations, state, data }),
      { filename: file.path, cwd: ctx.dir, settings: file.sops },
    ),
  );
  return { text, doc: assertCiphertext(file.path, text, data.keys()) };
}

/**
 * When every value (two or more) of an existing file is replaced (e.g. rotating all its keys),
 * the Secret is encrypted again, whole, from stdin: one sops process instead of one `sops set`
 * per key plus one for the state annotation (and a new data key, as a rotation should have).
 * The result is kept only if its layout (model/manifest-layout.ts: metadata, type, any other
 * field, recipients, key groups, encryption settings) is the current file's, as read by
 * readManifest; otherwise false, and the caller uses `sops set`. No text is parsed for it: the
 * new document is the one the ciphertext guard parsed. A single value keeps the `sops set` path:
 * its PR diff stays one ciphertext (same data key).
 */
async function rewriteWhole(
  ctx: FileContext,
  file: FilePlan,
  info: ManifestInfo,
  writes: KeyChange[],
  values: Map<string, string>,
): Promise<boolean> {
  const keys = new Set(writes.map((c) => c.key));
  const whole =
    info.layout !== undefined &&
    keys.size >= 2 &&
    writes.every((c) => c.action !== 'remove' && c.value?.kind !== 'previous') &&
    info.dataKeys.every((k) => keys.has(k));
  if (!whole) return false;
  const state: ManifestState = { version: 1, keys: { ...info.state.keys } };
  for (const change of writes)
    state.keys[change.key] = keyState(file, change, ctx.now, info.state.keys[change.key]);
  const { text, doc } = await encryptWhole(ctx, file, state, values);
  if (layoutOf(doc) !== info.layout) return false;
  ctx.files.write(file.path, text);
  ctx.remember?.(file.path, text, doc);
  return true;
}

/**
 * The labels, annotations and type the config declares that the file lacks (plan/metadata.ts),
 * each with `sops set`: they stay plaintext (sops encrypts only what the file's rules match) and
 * sops computes the MAC again, which covers them. What the file holds besides is left as it is.
 */
async function setMetadata(ctx: FileContext, file: FilePlan, info: ManifestInfo): Promise<void> {
  const drift = info.metadata && metadataDrift(file.secret, info.metadata);
  if (!drift) return;
  ctx.files.guard(file.path);
  const sets: [string[], string][] = [
    ...Object.entries(drift.labels).map(([k, v]): [string[], string] => [
      ['metadata', 'labels', k],
      v,
    ]),
    ...Object.entries(drift.annotations).map(([k, v]): [string[], string] => [
      ['metadata', 'annotations', k],
      v,
    ]),
    ...(drift.type !== undefined ? [[['type'], drift.type] as [string[], string]] : []),
  ];
  for (const [path, value] of sets)
    await ctx.limit(() => ctx.sops.set(file.path, path, JSON.stringify(value), { cwd: ctx.dir }));
}

/** Each change with `sops set` (value on stdin) or `sops unset`, then the state annotation. */
async function setEach(
  ctx: FileContext,
  file: FilePlan,
  info: ManifestInfo,
  writes: KeyChange[],
  values: Map<string, string>,
): Promise<void> {
  ctx.files.guard(file.path);
  const cwd = ctx.dir;
  const state: ManifestState = { version: 1, keys: { ...info.state.keys } };
  for (const change of writes) {
    if (change.action === 'remove') {
      await ctx.limit(() => ctx.sops.unset(file.path, ['data', change.key], { cwd }));
      delete state.keys[change.key];
      continue;
    }
    const encoded = Buffer.from(values.get(change.key)!, 'utf8').toString('base64');
    await ctx.limit(() =>
      ctx.sops.set(file.path, ['data', change.key], JSON.stringify(encoded), { cwd }),
    );
    state.keys[change.key] = keyState(file, change, ctx.now, info.state.keys[change.key]);
  }
  const annotation = ['metadata', 'annotations', STATE_ANNOTATION];
  await ctx.limit(() =>
    ctx.sops.set(file.path, annotation, JSON.stringify(stateToString(state)), { cwd }),
  );
}

/**
 * The ciphertext guard for a file sops changed in place (`set`, `unset`, `rotate`,
 * `updatekeys`): read back before it is staged, with the keys it must hold now.
 */
function guardInPlace(
  ctx: FileContext,
  file: FilePlan,
  info: ManifestInfo,
  writes: KeyChange[],
): void {
  const keys = new Set(info.dataKeys);
  for (const change of writes)
    if (change.action === 'remove') keys.delete(change.key);
    else keys.add(change.key);
  const text = ctx.files.read(file.path);
  if (text === undefined)
    throw new ExternalError('sops', `ciphertext guard: ${file.path} is gone after sops`);
  ctx.remember?.(file.path, text, assertCiphertext(file.path, text, keys));
}
