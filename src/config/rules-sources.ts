import { ALPHABETS } from './charsets.js';
import type { FieldPath, Report } from './report.js';
import { derivedKeySource, hasDerivedField } from './rules-derived.js';
import { applyRules } from './rules-password.js';
import type { SalvageHints } from './salvage.js';
import { type Charset, type RawKey, type RawShared, SOURCE_FIELDS } from './schema.js';
import type { RawPasswordRules } from './schema-rules.js';
import type { KeySource, OwnSource, SharedSpec } from './types.js';

/** The config's `defaults:` with their own defaults applied. */
export interface KeyDefaults {
  length: number;
  charset: Charset;
  /** `defaults.rules`, for random strings without `rules` of their own. */
  rules?: RawPasswordRules;
  /** `defaults.rules` cannot be met with the default length and charset (reported there). */
  rulesBroken?: boolean;
}

/** What a key's source is checked against: the shared values that parsed, and the defaults. */
export interface SourceContext {
  defaults: KeyDefaults;
  shared: Map<string, SharedSpec>;
  /** The config has a `shared:` section (for the message about a dangling `from`). */
  hasSharedSection: boolean;
  fail: Report;
  hints: SalvageHints | undefined;
}

/** A key's source: a shared value (`from`) or its own; undefined (reported) when it has none. */
export function keySource(key: RawKey, path: FieldPath, ctx: SourceContext): KeySource | undefined {
  if (hasDerivedField(key)) return derivedKeySource(key, path, ctx.fail);
  if (key.from === undefined) return ownSource(key, path, ctx.defaults, ctx.fail);
  const { from } = key;
  // Every source field but the ones a `from` key may carry (description) or must not (rotation).
  const others = SOURCE_FIELDS.filter(
    (f) =>
      f !== 'description' && f !== 'rotateEvery' && f !== 'keepPrevious' && key[f] !== undefined,
  );
  if (others.length > 0) {
    ctx.fail(
      [...path, others[0]!],
      `a key with \`from\` takes its value from shared.${from}; remove ${others.join(', ')}`,
    );
    return undefined;
  }
  for (const field of ['rotateEvery', 'keepPrevious'] as const) {
    if (key[field] !== undefined) {
      ctx.fail([...path, field], `set ${field} on shared.${from}, which owns the value`);
      return undefined;
    }
  }
  if (ctx.hints?.brokenShared.has(from)) return undefined;
  if (!ctx.shared.has(from)) {
    const known = [...ctx.shared.keys(), ...(ctx.hints?.brokenShared ?? [])];
    const where = ctx.hasSharedSection
      ? `; declared under shared: ${known.join(', ') || '(none)'}`
      : '; declare it under `shared:`';
    ctx.fail([...path, 'from'], `no shared value "${from}"${where}`);
    return undefined;
  }
  return { kind: 'shared', from };
}

/** The source of a key without `from` (or of a shared value): exactly one kind. */
export function ownSource(
  key: RawShared,
  path: FieldPath,
  defaults: KeyDefaults,
  fail: Report,
): OwnSource | undefined {
  const kinds: string[] = [];
  if (key.length !== undefined || key.charset !== undefined || key.chars !== undefined)
    kinds.push('length/charset/chars');
  if (key.bytes !== undefined) kinds.push('bytes');
  if (key.uuid) kinds.push('uuid');
  if (key.provided) kinds.push('provided');
  if (kinds.length > 1) {
    fail(path, `has more than one source (${kinds.join(' and ')}); a key takes exactly one`);
    return undefined;
  }
  if (key.encoding !== undefined && key.bytes === undefined) {
    fail([...path, 'encoding'], '`encoding` goes with `bytes: N`');
    return undefined;
  }
  if ((key.pattern !== undefined || key.minLength !== undefined) && !key.provided) {
    fail(
      [...path, key.pattern !== undefined ? 'pattern' : 'minLength'],
      'pattern and minLength go with `provided: true`',
    );
    return undefined;
  }
  if (key.rules !== undefined && (key.bytes !== undefined || key.uuid || key.provided)) {
    fail([...path, 'rules'], '`rules` go with a random string (length, charset or chars)');
    return undefined;
  }
  if (key.provided) return providedSource(key, path, fail);
  if (key.uuid) return { kind: 'uuid' };
  if (key.bytes !== undefined)
    return { kind: 'bytes', bytes: key.bytes, encoding: key.encoding ?? 'base64' };
  return randomSource(key, path, defaults, fail);
}

function providedSource(key: RawShared, path: FieldPath, fail: Report): OwnSource | undefined {
  if (!key.description) {
    fail(path, 'a provided slot needs a `description` that tells a person what value to give');
    return undefined;
  }
  if (key.pattern !== undefined) {
    try {
      new RegExp(key.pattern, 'u');
    } catch {
      fail([...path, 'pattern'], 'is not a valid regular expression');
      return undefined;
    }
  }
  return {
    kind: 'provided',
    description: key.description,
    ...(key.pattern !== undefined ? { pattern: key.pattern } : {}),
    ...(key.minLength !== undefined ? { minLength: key.minLength } : {}),
  };
}

function randomSource(
  key: RawShared,
  path: FieldPath,
  defaults: KeyDefaults,
  fail: Report,
): OwnSource | undefined {
  if (key.charset !== undefined && key.chars !== undefined) {
    fail([...path, 'chars'], 'use either `charset` or `chars`, not both');
    return undefined;
  }
  const length = key.length ?? defaults.length;
  if (key.chars === undefined) {
    const charset = key.charset ?? defaults.charset;
    return withRules(key, path, defaults, fail, {
      kind: 'random',
      length,
      alphabet: ALPHABETS[charset],
      charset,
    });
  }
  const chars = Array.from(key.chars);
  if (new Set(chars).size !== chars.length) {
    fail(
      [...path, 'chars'],
      'must not repeat a character (a repeat makes it likelier, lowering entropy)',
    );
    return undefined;
  }
  if (chars.length > 256) {
    fail([...path, 'chars'], 'may list at most 256 characters');
    return undefined;
  }
  return withRules(key, path, defaults, fail, {
    kind: 'random',
    length,
    alphabet: key.chars,
    charset: 'custom',
  });
}

type RandomKind = Extract<OwnSource, { kind: 'random' }>;

/** The random source with the key's password rules (or those of `defaults:`) applied. */
function withRules(
  key: RawShared,
  path: FieldPath,
  defaults: KeyDefaults,
  fail: Report,
  source: RandomKind,
): RandomKind | undefined {
  const own = key.rules !== undefined;
  const rules = key.rules ?? defaults.rules;
  if (rules === undefined) return source;
  // Defaults that fail with the default length and charset were reported at `defaults.rules`.
  const asDefaults = source.length === defaults.length && source.charset === defaults.charset;
  if (!own && asDefaults && defaults.rulesBroken) return undefined;
  const name = source.charset === 'custom' ? 'chars' : `charset ${source.charset}`;
  const ruled = applyRules({ rules, path, own }, source.length, source.alphabet, name, fail);
  if (!ruled) return undefined;
  return ruled.rules
    ? { ...source, alphabet: ruled.alphabet, rules: ruled.rules }
    : { ...source, alphabet: ruled.alphabet };
}
