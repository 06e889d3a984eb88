import type { Report } from './report.js';
import { type KeyDefaults, keySource, ownSource, type SourceContext } from './rules-sources.js';
import { KEY_NAME_RE, type RawConfig, type RawKey, type RawSecret } from './schema.js';
import type { KeySpec, Rotation, SharedSpec } from './types.js';

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `90d` as its text and milliseconds (the schema checked the form). */
function parseRotation(text: string | undefined): Rotation | undefined {
  if (text === undefined) return undefined;
  const unit = text.slice(-1) as keyof typeof UNIT_MS;
  return { text, ms: Number(text.slice(0, -1)) * UNIT_MS[unit] };
}

/** The entries under `shared:` that have a valid name and source. */
export function sharedSpecs(
  raw: RawConfig,
  defaults: KeyDefaults,
  fail: Report,
): Map<string, SharedSpec> {
  const shared = new Map<string, SharedSpec>();
  for (const [name, entry] of Object.entries(raw.shared ?? {})) {
    const path = ['shared', name];
    if (!KEY_NAME_RE.test(name)) {
      fail(path, 'shared value names may use letters, digits, "-", "_" and "."', { key: true });
    }
    const source = ownSource(entry, path, defaults, fail);
    if (source)
      shared.set(name, {
        name,
        source,
        rotateEvery: parseRotation(entry.rotateEvery),
        keepPrevious: entry.keepPrevious ?? false,
        description: entry.description,
      });
  }
  return shared;
}

/** The keys of secret `i` that have a valid name and source; a secret needs at least one. */
export function secretKeys(
  raw: RawConfig,
  secret: RawSecret,
  i: number,
  ctx: SourceContext,
): KeySpec[] {
  const keys: KeySpec[] = [];
  // The keys are read with for-in (own properties of a plain object): no array per entry.
  let declared = false;
  for (const name in secret.keys) {
    declared = true;
    const path = ['secrets', i, 'keys', name];
    const key = secret.keys[name] ?? {};
    checkKeyName(raw, secret, name, key, path, ctx.fail);
    const source = keySource(key, path, ctx);
    if (source)
      keys.push({
        name,
        source,
        rotateEvery: parseRotation(key.rotateEvery),
        keepPrevious: key.keepPrevious ?? false,
        description: key.description,
      });
  }
  if (!declared && !ctx.hints?.partialSecrets.has(i))
    ctx.fail(['secrets', i, 'keys'], 'must declare at least one key');
  return keys;
}

/** A key name Kubernetes takes, with room for `_PREVIOUS` when the old value is kept. */
function checkKeyName(
  raw: RawConfig,
  secret: RawSecret,
  name: string,
  key: RawKey,
  path: (string | number)[],
  fail: Report,
): void {
  // keepPrevious on the shared entry a key takes its value from applies to that key too.
  const sharedKeeps =
    key.from !== undefined &&
    raw.shared !== undefined &&
    Object.hasOwn(raw.shared, key.from) &&
    raw.shared[key.from]?.keepPrevious === true;
  const keeps = key.keepPrevious === true || sharedKeeps;
  const nameProblem = keyNameProblem(name, keeps);
  if (nameProblem) fail(path, nameProblem, { key: true });
  if (keeps && Object.hasOwn(secret.keys, `${name}_PREVIOUS`)) {
    const owner = sharedKeeps ? ` (of shared.${key.from})` : '';
    fail(
      path,
      `keepPrevious${owner} needs the name ${name}_PREVIOUS, which is declared as a key too`,
      { key: true },
    );
  }
}

/**
 * Why Kubernetes would refuse `name` as a key of a Secret's data (apimachinery's
 * IsConfigMapKey), or undefined when it is fine.
 */
function keyNameProblem(name: string, keepPrevious: boolean): string | undefined {
  if (!KEY_NAME_RE.test(name)) return 'key names may use letters, digits, "-", "_" and "."';
  if (name === '.' || name === '..' || name.startsWith('..'))
    return 'key names must not be "." or start with ".." (Kubernetes refuses them)';
  const max = keepPrevious ? 253 - '_PREVIOUS'.length : 253;
  if (name.length > max)
    return `key names may be at most ${max} characters${keepPrevious ? ' (253 with _PREVIOUS)' : ''}`;
  return undefined;
}
