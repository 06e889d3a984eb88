import { CLASSES, classOf, type PasswordRules } from '../model/password.js';
import { acceptance, MAX_EXPECTED_DRAWS } from '../model/password-odds.js';
import { ALPHABETS } from './charsets.js';
import type { FieldPath, Report } from './report.js';
import type { Charset } from './schema.js';
import { DEFAULT_SYMBOLS, type RawPasswordRules } from './schema-rules.js';

/** A random string's alphabet with its rules applied, and the rules left to check per value. */
export interface RuledAlphabet {
  alphabet: string;
  rules: PasswordRules | undefined;
}

/** Where the rules of a key come from: its own `rules:`, or `defaults.rules`. */
export interface RulesOrigin {
  rules: RawPasswordRules;
  /** The key's (or shared value's) path; `rules` fields are under it when they are its own. */
  path: FieldPath;
  own: boolean;
}

/** Checks `defaults.rules` with the default length and charset; true when they fail there. */
export function defaultRulesBroken(
  defaults: { length: number; charset: Charset; rules?: RawPasswordRules },
  fail: Report,
): boolean {
  if (defaults.rules === undefined) return false;
  const origin = { rules: defaults.rules, path: ['defaults'], own: true };
  const base = ALPHABETS[defaults.charset];
  return (
    applyRules(origin, defaults.length, base, `charset ${defaults.charset}`, fail) === undefined
  );
}

const CLASS_FIELDS = ['minLower', 'minUpper', 'minDigits', 'minSymbols'] as const;
const CLASS_WORDS = ['lower-case letters', 'upper-case letters', 'digits', 'symbols'];

/**
 * Applies password rules to the alphabet of a random string of `length`, and checks that they
 * can be met, often enough to draw without bias (password-odds.ts). `source` names the
 * alphabet for messages (`charset lower`, `chars`). Reports and returns undefined when not.
 */
export function applyRules(
  origin: RulesOrigin,
  length: number,
  base: string,
  source: string,
  fail: Report,
): RuledAlphabet | undefined {
  const raw = origin.rules;
  const at = (field: string | undefined, message: string) => {
    if (origin.own) fail([...origin.path, 'rules', ...(field ? [field] : [])], message);
    else
      fail(
        origin.path,
        `defaults.rules${field ? `.${field}` : ''}: ${message} (for this key; \`rules: {}\` on it draws without rules)`,
      );
  };
  const mins = CLASS_FIELDS.map((f) => raw[f] ?? 0);
  const addSymbols = mins[3]! > 0 || raw.symbols !== undefined;
  const excluded = new Set(Array.from(raw.exclude ?? ''));
  const chars = [
    ...new Set([
      ...Array.from(base),
      ...Array.from(addSymbols ? (raw.symbols ?? DEFAULT_SYMBOLS) : ''),
    ]),
  ].filter((c) => !excluded.has(c));
  if (chars.length > 256) {
    at('symbols', `the alphabet with these symbols has ${chars.length} characters; at most 256`);
    return undefined;
  }
  if (chars.length < 2) {
    at(
      raw.exclude !== undefined ? 'exclude' : undefined,
      `leaves ${chars.length} character${chars.length === 1 ? '' : 's'} of ${source} to draw from; at least 2 are needed`,
    );
    return undefined;
  }
  const sizes = [0, 0, 0, 0];
  for (const c of chars) sizes[classOf(c)]!++;
  const alphabet = chars.join('');
  if (!feasible(raw, mins, sizes, chars, length, source, at)) return undefined;
  const maxRepeat =
    raw.maxRepeat !== undefined && raw.maxRepeat < length ? raw.maxRepeat : undefined;
  // `rules: {}` opts out of defaults.rules: no rules at all.
  if (Object.values(raw).every((v) => v === undefined)) return { alphabet, rules: undefined };
  const odds = acceptance(length, sizes, mins, maxRepeat);
  if (odds < 1 / MAX_EXPECTED_DRAWS) {
    at(
      undefined,
      `too tight to draw without bias: about 1 in ${oneIn(odds)} random strings of ${length} characters meets them (at most 1 in ${MAX_EXPECTED_DRAWS.toLocaleString('en-US')} allowed); lower the minimums, raise maxRepeat or the length`,
    );
    return undefined;
  }
  const [minLower, minUpper, minDigits, minSymbols] = mins as [number, number, number, number];
  return {
    alphabet,
    rules: {
      minLower,
      minUpper,
      minDigits,
      minSymbols,
      maxRepeat,
      summary: summary(raw, mins, addSymbols),
    },
  };
}

/** The checks that rules can be met at all: each one reported at its field. */
function feasible(
  raw: RawPasswordRules,
  mins: number[],
  sizes: number[],
  chars: string[],
  length: number,
  source: string,
  at: (field: string | undefined, message: string) => void,
): boolean {
  let ok = true;
  const less =
    raw.exclude !== undefined ? ` once exclude removes ${JSON.stringify(raw.exclude)}` : '';
  for (let c = 0; c < 4; c++) {
    if (mins[c]! > 0 && sizes[c] === 0) {
      at(
        CLASS_FIELDS[c],
        `needs ${CLASS_WORDS[c]}, but ${c === 3 ? 'the symbols' : source} ha${c === 3 ? 've' : 's'} none${less}; allowed: 0, or ${c === 3 ? 'symbols that exclude leaves' : `a charset or chars with ${CLASS_WORDS[c]}`}`,
      );
      ok = false;
    }
  }
  const sum = mins.reduce((a, b) => a + b, 0);
  if (sum > length) {
    at(
      undefined,
      `the minimums add up to ${sum}, more than the length ${length}; allowed: at most ${length} in all`,
    );
    ok = false;
  }
  if (!ok || raw.maxRepeat === undefined) return ok;
  // A class of one character needs its minimum of that one character, runs of at most
  // maxRepeat separated by other characters: m <= maxRepeat × (length - m + 1).
  const r = raw.maxRepeat;
  for (let c = 0; c < 4; c++) {
    const m = mins[c]!;
    if (m === 0 || sizes[c] !== 1 || m <= r * (length - m + 1)) continue;
    const only = chars.find((x) => classOf(x) === c)!;
    const needed = m + Math.ceil(m / r) - 1;
    at(
      'maxRepeat',
      `cannot be met: ${CLASS_FIELDS[c]} ${m} must all be ${JSON.stringify(only)} (the only one of the ${CLASSES[c]} left), in runs of at most ${r}, which takes ${needed} characters; the length is ${length}`,
    );
    return false;
  }
  return true;
}

function oneIn(odds: number): string {
  if (odds <= 0 || 1 / odds > 1e15) return 'more than 10^15';
  return Math.round(1 / odds).toLocaleString('en-US');
}

/** The rules in words: config only. */
function summary(raw: RawPasswordRules, mins: number[], addSymbols: boolean): string {
  const parts: string[] = [];
  const words = ['lower-case letter', 'upper-case letter', 'digit', 'symbol'];
  const at = mins.flatMap((m, c) => (m > 0 ? [`${m} ${words[c]}${m > 1 ? 's' : ''}`] : []));
  if (at.length > 0) parts.push(`at least ${at.join(', ')}`);
  if (addSymbols) parts.push(`symbols ${raw.symbols ?? DEFAULT_SYMBOLS}`);
  if (raw.exclude !== undefined) parts.push(`without ${raw.exclude}`);
  if (raw.maxRepeat !== undefined) parts.push(`at most ${raw.maxRepeat} in a row`);
  return parts.join('; ');
}
