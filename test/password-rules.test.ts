/**
 * Password rules (issue 23), table-driven over many draws: every rule is met by every value,
 * and the values are spread as a uniform draw over all valid strings would spread them (the
 * characters of each class equally often, each class as often as expected, the same at every
 * position; on small alphabets, every valid string equally often). Draws come from a seeded,
 * counter-based source built on node:crypto's SHA-256 (seededRandom), so a run is
 * reproducible; the rules and the spread are checked with the real cryptoRandom too. Every
 * bound is set so a correct generator fails it with probability below one in a million.
 */
import test, { type ExecutionContext } from 'ava';
import { ALPHABETS } from '../src/config/charsets.js';
import { parseConfig } from '../src/config/parse.js';
import type { OwnSource } from '../src/config/types.js';
import { MAX_ATTEMPTS, randomPassword } from '../src/model/password.js';
import { acceptance } from '../src/model/password-odds.js';
import { cryptoRandom, generateValue, type RandomSource } from '../src/model/random.js';
import { seededRandom as seeded } from './helpers/fakes.js';

// --- The rules, checked independently of src/ ------------------------------------------------

interface Row {
  name: string;
  /** The key as written in the config (YAML flow mapping). */
  key: string;
  length: number;
  /** The alphabet the rules leave, spelled out here. */
  alphabet: string;
  mins: { lower: number; upper: number; digits: number; symbols: number };
  maxRepeat?: number;
}

const without = (chars: string, drop: string) =>
  Array.from(chars)
    .filter((c) => !drop.includes(c))
    .join('');
const ALNUM = ALPHABETS.alphanumeric;

const ROWS: Row[] = [
  {
    name: 'the issue example: every class, own symbols, ambiguous excluded, maxRepeat 2',
    key: '{ length: 24, charset: alphanumeric, rules: { minLower: 1, minUpper: 1, minDigits: 2, minSymbols: 1, symbols: "!#%+-.=_", exclude: "0O1lI", maxRepeat: 2 } }',
    length: 24,
    alphabet: `${without(ALNUM, '0O1lI')}!#%+-.=_`,
    mins: { lower: 1, upper: 1, digits: 2, symbols: 1 },
    maxRepeat: 2,
  },
  {
    name: 'short and demanding: 2 of each class in 8, default symbols',
    key: '{ length: 8, rules: { minLower: 2, minUpper: 2, minDigits: 2, minSymbols: 2 } }',
    length: 8,
    alphabet: `${ALNUM}-._`,
    mins: { lower: 2, upper: 2, digits: 2, symbols: 2 },
  },
  {
    name: 'long, never the same character twice in a row, 4 digits',
    key: '{ length: 64, rules: { maxRepeat: 1, minDigits: 4 } }',
    length: 64,
    alphabet: ALNUM,
    mins: { lower: 0, upper: 0, digits: 4, symbols: 0 },
    maxRepeat: 1,
  },
  {
    name: 'numeric PIN, no digit three times in a row',
    key: '{ length: 6, charset: numeric, rules: { maxRepeat: 2 } }',
    length: 6,
    alphabet: ALPHABETS.numeric,
    mins: { lower: 0, upper: 0, digits: 0, symbols: 0 },
    maxRepeat: 2,
  },
  {
    name: 'printable without quotes and ambiguous characters, 3 symbols',
    key: `{ length: 16, charset: printable, rules: { minSymbols: 3, exclude: "0O1lI|\`'\\"\\\\" } }`,
    length: 16,
    alphabet: without(ALPHABETS.printable, '0O1lI|`\'"\\'),
    mins: { lower: 0, upper: 0, digits: 0, symbols: 3 },
  },
  {
    name: 'chars with half of them digits required: a skewed class balance',
    key: '{ length: 10, chars: "abcdef0123", rules: { minDigits: 5, minLower: 2 } }',
    length: 10,
    alphabet: 'abcdef0123',
    mins: { lower: 2, upper: 0, digits: 5, symbols: 0 },
  },
];

const CLASS_NAMES = ['lower', 'upper', 'digits', 'symbols'] as const;
const classIndex = (c: string) =>
  /[a-z]/.test(c) ? 0 : /[A-Z]/.test(c) ? 1 : /[0-9]/.test(c) ? 2 : 3;

/** Every way `value` breaks the row's rules (empty when it meets them). */
function violations(value: string, row: Row): string[] {
  const chars = Array.from(value);
  const out: string[] = [];
  if (chars.length !== row.length) out.push(`length ${chars.length}`);
  const stray = chars.filter((c) => !row.alphabet.includes(c));
  if (stray.length > 0) out.push(`characters outside the alphabet: ${stray.join('')}`);
  const count = {
    lower: (value.match(/[a-z]/g) ?? []).length,
    upper: (value.match(/[A-Z]/g) ?? []).length,
    digits: (value.match(/[0-9]/g) ?? []).length,
    symbols: chars.filter((c) => !/[A-Za-z0-9]/.test(c)).length,
  };
  for (const k of CLASS_NAMES)
    if (count[k] < row.mins[k]) out.push(`${count[k]} ${k}, fewer than ${row.mins[k]}`);
  if (row.maxRepeat !== undefined) {
    const run = new RegExp(`(.)\\1{${row.maxRepeat}}`, 'su');
    if (run.test(value)) out.push(`a run longer than ${row.maxRepeat}`);
  }
  return out;
}

/** The row's key source, through the config loader (so the rules are resolved as users get them). */
function sourceOf(row: Row): OwnSource {
  const text = `version: 1\nsecrets:\n  - name: app\n    namespace: default\n    keys:\n      pw: ${row.key}\n`;
  const parsed = parseConfig(text, 'rules.yaml');
  if (!parsed.config) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.config.secrets[0]!.keys[0]!.source as OwnSource;
}

function draw(row: Row, random: RandomSource, n: number): string[] {
  const source = sourceOf(row);
  return Array.from({ length: n }, () => generateValue(source, random));
}

// --- Statistics ------------------------------------------------------------------------------

/** Upper 10^-6 quantile of the standard normal distribution. */
const Z_6 = 4.753424308822899;

/** The chi-square value exceeded with probability 10^-6 (Wilson–Hilferty). */
function chiSquareCritical(df: number): number {
  const v = 2 / (9 * df);
  return df * (1 - v + Z_6 * Math.sqrt(v)) ** 3;
}

/** Pearson's statistic of observed counts against expected ones (cells expecting 0 skipped). */
function pearson(observed: number[], expected: number[]): number {
  let stat = 0;
  observed.forEach((o, i) => {
    const e = expected[i]!;
    if (e > 0) stat += (o - e) ** 2 / e;
  });
  return stat;
}

/**
 * Mean and variance of each class count for a string drawn uniformly among the strings that
 * meet the minimums (runs ignored), by enumerating every class-count vector with its number of
 * strings: L! / (n0! n1! n2! n3!) × Π size_c^n_c.
 */
function exactClassMoments(row: Row): { mean: number[]; variance: number[]; odds: number } {
  const sizes = [0, 0, 0, 0];
  for (const c of Array.from(row.alphabet)) sizes[classIndex(c)]!++;
  const mins = CLASS_NAMES.map((k) => row.mins[k]);
  const L = row.length;
  const logFact = [0];
  for (let i = 1; i <= L; i++) logFact.push(logFact[i - 1]! + Math.log(i));
  const terms: { logW: number; n: number[] }[] = [];
  for (let a = 0; a <= L; a++)
    for (let b = 0; a + b <= L; b++)
      for (let c = 0; a + b + c <= L; c++) {
        const n = [a, b, c, L - a - b - c];
        if (n.some((x, i) => x < mins[i]! || (x > 0 && sizes[i] === 0))) continue;
        let logW = logFact[L]!;
        n.forEach((x, i) => {
          logW += x > 0 ? x * Math.log(sizes[i]!) - logFact[x]! : 0;
        });
        terms.push({ logW, n });
      }
  const logAll = L * Math.log(sizes.reduce((a, b) => a + b, 0));
  const max = Math.max(...terms.map((t) => t.logW));
  let total = 0;
  const s1 = [0, 0, 0, 0];
  const s2 = [0, 0, 0, 0];
  for (const { logW, n } of terms) {
    const w = Math.exp(logW - max);
    total += w;
    n.forEach((x, i) => {
      s1[i]! += w * x;
      s2[i]! += w * x * x;
    });
  }
  const mean = s1.map((s) => s / total);
  return {
    mean,
    variance: s2.map((s, i) => s / total - mean[i]! ** 2),
    // The share of all strings that meet the minimums.
    odds: total * Math.exp(max - logAll),
  };
}

const DRAWS = 2000;

// --- Every rule, every time ------------------------------------------------------------------

const meetsEveryRule = test.macro({
  exec(t, row: Row, random: () => RandomSource) {
    const values = draw(row, random(), DRAWS);
    const broken = values.flatMap((v, i) => violations(v, row).map((p) => `draw ${i}: ${p}`));
    t.deepEqual(broken.slice(0, 5), []);
    // Values repeat only where the space is small (a 6-digit PIN has a million).
    t.true(new Set(values).size > DRAWS * 0.99, 'values repeat');
  },
  title: (label = '', row: Row) => `every rule met in ${DRAWS} draws${label}: ${row.name}`,
});

for (const row of ROWS) {
  test(meetsEveryRule, row, () => seeded(`rules:${row.name}`));
  test(` (cryptoRandom)`, meetsEveryRule, row, () => cryptoRandom);
}

// --- The distribution ------------------------------------------------------------------------

/** Each class's characters equally often, pooled over every position of every draw. */
function withinClassUniform(t: ExecutionContext, row: Row, values: string[]) {
  const counts = new Map<string, number>(Array.from(row.alphabet, (c) => [c, 0]));
  for (const v of values) for (const c of v) counts.set(c, (counts.get(c) ?? 0) + 1);
  for (let k = 0; k < 4; k++) {
    const chars = Array.from(row.alphabet).filter((c) => classIndex(c) === k);
    if (chars.length < 2) continue;
    const observed = chars.map((c) => counts.get(c)!);
    const total = observed.reduce((a, b) => a + b, 0);
    const stat = pearson(
      observed,
      chars.map(() => total / chars.length),
    );
    const critical = chiSquareCritical(chars.length - 1);
    t.true(
      stat < critical,
      `${CLASS_NAMES[k]}: chi-square ${stat.toFixed(1)} ≥ ${critical.toFixed(1)}`,
    );
  }
}

/** The class of the character at each position: the same distribution everywhere. */
function positionsAlike(t: ExecutionContext, row: Row, values: string[]) {
  const table = Array.from({ length: row.length }, () => [0, 0, 0, 0]);
  for (const v of values)
    Array.from(v).forEach((c, i) => {
      table[i]![classIndex(c)]!++;
    });
  const classTotals = [0, 1, 2, 3].map((k) => table.reduce((a, r) => a + r[k]!, 0));
  const used = classTotals.filter((x) => x > 0).length;
  if (used < 2) return;
  const n = values.length * row.length;
  let stat = 0;
  for (const r of table)
    r.forEach((o, k) => {
      const e = (values.length * classTotals[k]!) / n;
      if (e > 0) stat += (o - e) ** 2 / e;
    });
  const critical = chiSquareCritical((row.length - 1) * (used - 1));
  t.true(
    stat < critical,
    `position × class chi-square ${stat.toFixed(1)} ≥ ${critical.toFixed(1)}`,
  );
}

/** The mean count of each class within 5 standard errors of its exact value. */
function classCountsAsExpected(t: ExecutionContext, row: Row, values: string[]) {
  const { mean, variance } = exactClassMoments(row);
  for (let k = 0; k < 4; k++) {
    const observed =
      values.reduce((a, v) => a + Array.from(v).filter((c) => classIndex(c) === k).length, 0) /
      values.length;
    const se = Math.sqrt(variance[k]! / values.length);
    t.true(
      Math.abs(observed - mean[k]!) <= 5 * se + 1e-9,
      `${CLASS_NAMES[k]}: mean ${observed.toFixed(3)}, expected ${mean[k]!.toFixed(3)} ± ${(5 * se).toFixed(3)}`,
    );
  }
}

for (const row of ROWS) {
  test(`distribution over ${DRAWS} draws: ${row.name}`, (t) => {
    const values = draw(row, seeded(`spread:${row.name}`), DRAWS);
    withinClassUniform(t, row, values);
    positionsAlike(t, row, values);
    // Exact expectations ignore runs: checked where maxRepeat does not apply.
    if (row.maxRepeat === undefined) classCountsAsExpected(t, row, values);
  });
}

test('with the real cryptoRandom, the spread is the same', (t) => {
  for (const row of ROWS) {
    const values = draw(row, cryptoRandom, DRAWS);
    withinClassUniform(t, row, values);
    if (row.maxRepeat === undefined) classCountsAsExpected(t, row, values);
  }
});

// --- Small alphabets: every valid string equally often ---------------------------------------

/** Every string of `length` over `alphabet`. */
function allStrings(alphabet: string, length: number): string[] {
  let out = [''];
  for (let i = 0; i < length; i++) out = out.flatMap((s) => Array.from(alphabet, (c) => s + c));
  return out;
}

const SMALL: Row[] = [
  {
    name: 'chars abA1, one of each class, no repeats (the maxRepeat 1 path)',
    key: '{ length: 4, chars: "abA1", rules: { minLower: 1, minUpper: 1, minDigits: 1, maxRepeat: 1 } }',
    length: 4,
    alphabet: 'abA1',
    mins: { lower: 1, upper: 1, digits: 1, symbols: 0 },
    maxRepeat: 1,
  },
  {
    name: 'chars ab1 and symbol #, a digit and a symbol, runs of 2',
    key: '{ length: 5, chars: "ab1", rules: { minDigits: 1, minSymbols: 1, symbols: "#", maxRepeat: 2 } }',
    length: 5,
    alphabet: 'ab1#',
    mins: { lower: 0, upper: 0, digits: 1, symbols: 1 },
    maxRepeat: 2,
  },
  {
    name: 'chars aAb1 minus b, two digits',
    key: '{ length: 5, chars: "aAb1", rules: { minDigits: 2, exclude: "b" } }',
    length: 5,
    alphabet: 'aA1',
    mins: { lower: 0, upper: 0, digits: 2, symbols: 0 },
  },
];

/** Chi-square of how often each valid string came, against equal counts. */
function uniformOverValid(
  row: Row,
  values: string[],
): { stat: number; critical: number; valid: number } {
  const valid = allStrings(row.alphabet, row.length).filter((s) => violations(s, row).length === 0);
  const index = new Map(valid.map((s, i) => [s, i]));
  const observed = valid.map(() => 0);
  for (const v of values) observed[index.get(v)!]!++;
  const stat = pearson(
    observed,
    valid.map(() => values.length / valid.length),
  );
  return { stat, critical: chiSquareCritical(valid.length - 1), valid: valid.length };
}

for (const row of SMALL) {
  test(`uniform over every valid string: ${row.name}`, (t) => {
    const n = 20_000;
    const values = draw(row, seeded(`small:${row.name}`), n);
    t.deepEqual(values.flatMap((v) => violations(v, row)).slice(0, 5), []);
    const { stat, critical, valid } = uniformOverValid(row, values);
    t.log(
      `${valid} valid strings, chi-square ${stat.toFixed(1)} (critical ${critical.toFixed(1)})`,
    );
    t.true(valid >= 20);
    t.true(stat < critical, `chi-square ${stat.toFixed(1)} ≥ ${critical.toFixed(1)}`);
  });
}

test('the tests catch the usual biased method: place the required characters, fill, shuffle', (t) => {
  const row = SMALL[2]!;
  const random = seeded('biased');
  // Each character itself drawn without bias: only the method is at fault.
  const below = (n: number): number => {
    const b = random.bytes(1)[0]!;
    return b < 256 - (256 % n) ? b % n : below(n);
  };
  const pick = (chars: string) => chars[below(chars.length)]!;
  const biased = () => {
    const chars = [pick('1'), pick('1'), pick('aA1'), pick('aA1'), pick('aA1')];
    for (let i = chars.length - 1; i > 0; i--) {
      const j = below(i + 1);
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
    }
    return chars.join('');
  };
  const values = Array.from({ length: 20_000 }, biased);
  t.deepEqual(
    values.flatMap((v) => violations(v, row)),
    [],
    'it does meet the rules',
  );
  const { stat, critical } = uniformOverValid(row, values);
  t.true(stat > 5 * critical, `chi-square ${stat.toFixed(1)} vs ${critical.toFixed(1)}`);
  // And the class counts stray from the exact expectation.
  const expected = exactClassMoments(row).mean[2]!;
  const mean = values.reduce((a, v) => a + (v.match(/1/g) ?? []).length, 0) / values.length;
  t.true(mean - expected > 0.1, `digits: ${mean.toFixed(3)} vs ${expected.toFixed(3)}`);
});

// --- The odds the config checks, and the safety stop -----------------------------------------

test('the estimated acceptance is exact where it claims to be (minimums alone; runs alone)', (t) => {
  const cases: { alphabet: string; length: number; mins: number[]; maxRepeat?: number }[] = [
    { alphabet: 'abA1#', length: 5, mins: [1, 1, 1, 1] },
    { alphabet: 'abcAB12', length: 6, mins: [0, 2, 3, 0] },
    { alphabet: 'ab1', length: 7, mins: [0, 0, 0, 0], maxRepeat: 2 },
    { alphabet: 'abcd', length: 6, mins: [0, 0, 0, 0], maxRepeat: 3 },
  ];
  for (const c of cases) {
    const all = allStrings(c.alphabet, c.length);
    const ok = all.filter((s) => {
      const counts = [0, 0, 0, 0];
      for (const ch of s) counts[classIndex(ch)]!++;
      if (counts.some((n, k) => n < c.mins[k]!)) return false;
      return c.maxRepeat === undefined || !new RegExp(`(.)\\1{${c.maxRepeat}}`).test(s);
    }).length;
    const sizes = [0, 0, 0, 0];
    for (const ch of c.alphabet) sizes[classIndex(ch)]!++;
    const estimate = acceptance(c.length, sizes, c.mins, c.maxRepeat);
    t.true(
      Math.abs(estimate - ok / all.length) < 1e-9,
      `${c.alphabet}: ${estimate} vs ${ok / all.length}`,
    );
  }
});

test('the estimated acceptance of the minimums matches the exact count on the long rows', (t) => {
  const long: Row = {
    name: '300 characters, minimums near their means',
    key: '',
    length: 300,
    alphabet: `${ALNUM}-._`,
    mins: { lower: 115, upper: 115, digits: 45, symbols: 12 },
  };
  for (const row of [...ROWS, long]) {
    const sizes = [0, 0, 0, 0];
    for (const c of Array.from(row.alphabet)) sizes[classIndex(c)]!++;
    const mins = CLASS_NAMES.map((k) => row.mins[k]);
    const { odds } = exactClassMoments(row);
    const estimate = acceptance(row.length, sizes, mins, undefined);
    t.true(
      Math.abs(estimate - odds) < 1e-9 * Math.max(odds, 1e-6),
      `${row.name}: ${estimate} vs ${odds}`,
    );
  }
});

test('a source that never yields a valid string ends in an error, not an endless loop', (t) => {
  const zeros: RandomSource = { bytes: (n) => Buffer.alloc(n), uuid: () => '' };
  const rules = {
    minLower: 0,
    minUpper: 1,
    minDigits: 0,
    minSymbols: 0,
    maxRepeat: undefined,
    summary: '',
  };
  t.throws(() => randomPassword(2, 'aB', rules, zeros), {
    message: `no random string met the password rules in ${MAX_ATTEMPTS} draws`,
  });
});

// --- How the config resolves rules -----------------------------------------------------------

test('the config resolves rules: charset + symbols - exclude; defaults.rules unless a key has its own; rules: {} opts out', (t) => {
  const text = `version: 1
defaults: { length: 12, rules: { minDigits: 1 } }
shared:
  db: { length: 16 }
secrets:
  - name: app
    namespace: default
    keys:
      plain: {}
      own: { charset: hex, rules: { minSymbols: 1, exclude: "0-" } }
      chosen: { rules: { symbols: "!" } }
      out: { rules: {} }
      shared: { from: db }
`;
  const parsed = parseConfig(text, 'c.yaml');
  t.deepEqual(parsed.problems, []);
  const sources = Object.fromEntries(
    parsed.config!.secrets[0]!.keys.map((k) => [k.name, k.source as Record<string, unknown>]),
  );
  const rulesOf = (s: Record<string, unknown> | undefined) =>
    s?.rules as { minDigits: number; minSymbols: number } | undefined;
  t.is(sources.plain?.alphabet, ALNUM);
  t.is(rulesOf(sources.plain)?.minDigits, 1, 'defaults.rules apply');
  t.is(sources.own?.alphabet, '123456789abcdef._', 'hex + default symbols -._ minus 0 and -');
  t.is(rulesOf(sources.own)?.minDigits, 0, 'own rules replace defaults.rules, not merge');
  t.is(sources.chosen?.alphabet, `${ALNUM}!`, 'a written symbols set joins without minSymbols');
  t.is(sources.out?.alphabet, ALNUM);
  t.is(sources.out?.rules, undefined, 'rules: {} opts out');
  const db = parsed.config!.shared.get('db')!.source as Record<string, unknown>;
  t.is(rulesOf(db)?.minDigits, 1, 'shared values take defaults.rules too');
});

test('impossible defaults.rules are reported once at defaults.rules, and at keys they fit worse', (t) => {
  const text = `version: 1
defaults: { length: 4, rules: { minLower: 2, minUpper: 2, minDigits: 1 } }
secrets:
  - name: app
    namespace: default
    keys:
      a: {}
      b: { length: 4 }
      c: { length: 3, charset: alpha }
      d: { length: 12 }
`;
  const problems = parseConfig(text, 'c.yaml').problems.map(
    (p) => `${p.line}:${p.column} ${p.path}: ${p.message}`,
  );
  t.is(problems.length, 3, problems.join('\n'));
  t.true(problems[0]!.startsWith('2:31 defaults.rules: the minimums add up to 5'), problems[0]);
  t.true(
    problems[1]!.startsWith('9:10 secrets[0].keys.c: defaults.rules.minDigits: needs digits'),
    problems[1],
  );
  t.true(problems[2]!.includes('the minimums add up to 5, more than the length 3'), problems[2]);
  t.true(problems[2]!.includes('`rules: {}` on it draws without rules'), problems[2]);
});
