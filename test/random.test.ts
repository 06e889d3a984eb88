/**
 * Random values: exact lengths and alphabets, encodings, UUIDs, uniformity (chi-square), the
 * rejection sampling that avoids modulo bias, and that src/ draws randomness from node:crypto only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import test from 'ava';
import { ALPHABETS } from '../src/config/charsets.js';
import { CHARSETS } from '../src/config/schema.js';
import type { OwnSource } from '../src/config/types.js';
import {
  cryptoRandom,
  generateValue,
  type RandomSource,
  randomString,
} from '../src/model/random.js';
import { ROOT } from './helpers/config-fixtures.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Alphabets beyond the named charsets, as `chars:` declares them. */
const CUSTOM: Record<string, string> = {
  'chars: two': '01',
  'chars: three': 'abc',
  'chars: symbols': '!#$%&*+-=?@^_',
  // 200 CJK characters: a quarter of all bytes are rejected, and every character is 3 bytes in UTF-8.
  'chars: 200 CJK': Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join(
    '',
  ),
  'chars: emoji': '😀😁😂🤣😃😄😅',
  'chars: 256': Array.from({ length: 256 }, (_, i) => String.fromCodePoint(0x100 + i)).join(''),
};
const ALL: [string, string][] = [
  ...CHARSETS.map((c): [string, string] => [c, ALPHABETS[c]]),
  ...Object.entries(CUSTOM),
];

test('each named charset has the documented characters, without repeats', (t) => {
  const sizes = Object.fromEntries(CHARSETS.map((c) => [c, Array.from(ALPHABETS[c]).length]));
  t.deepEqual(sizes, {
    alphanumeric: 62,
    alpha: 52,
    lower: 26,
    upper: 26,
    numeric: 10,
    hex: 16,
    base64url: 64,
    printable: 94,
  });
  for (const c of CHARSETS) t.is(new Set(ALPHABETS[c]).size, ALPHABETS[c].length, c);
  t.regex(ALPHABETS.alphanumeric, /^[A-Za-z0-9]+$/);
  t.regex(ALPHABETS.alpha, /^[A-Za-z]+$/);
  t.regex(ALPHABETS.lower, /^[a-z]+$/);
  t.regex(ALPHABETS.upper, /^[A-Z]+$/);
  t.regex(ALPHABETS.numeric, /^[0-9]+$/);
  t.regex(ALPHABETS.hex, /^[0-9a-f]+$/);
  t.regex(ALPHABETS.base64url, /^[A-Za-z0-9_-]+$/);
  // Printable ASCII without space: survives shells and YAML.
  t.regex(ALPHABETS.printable, /^[\x21-\x7e]+$/);
});

const exactLengthAndAlphabet = test.macro({
  exec(t, name: string, alphabet: string) {
    const allowed = new Set(Array.from(alphabet));
    for (const length of [1, 2, 45, 64, 4096]) {
      const value = randomString(length, alphabet, cryptoRandom);
      const chars = Array.from(value);
      t.is(chars.length, length, `${name} length ${length}`);
      t.true(
        chars.every((c) => allowed.has(c)),
        `${name}: ${chars.find((c) => !allowed.has(c))} is not in the alphabet`,
      );
    }
    const source: OwnSource = { kind: 'random', length: 33, alphabet, charset: 'custom' };
    t.is(Array.from(generateValue(source, cryptoRandom)).length, 33);
  },
  title: (_, name: string) => `exact length and alphabet: ${name}`,
});

for (const [name, alphabet] of ALL) test(exactLengthAndAlphabet, name, alphabet);

test('random bytes: each encoding decodes to exactly the declared number of bytes', (t) => {
  for (const bytes of [1, 2, 3, 16, 32, 33, 4096]) {
    const base64 = generateValue({ kind: 'bytes', bytes, encoding: 'base64' }, cryptoRandom);
    t.regex(base64, /^[A-Za-z0-9+/]*={0,2}$/);
    t.is(base64.length, Math.ceil(bytes / 3) * 4, 'padded base64');
    t.is(Buffer.from(base64, 'base64').length, bytes);
    t.is(Buffer.from(base64, 'base64').toString('base64'), base64, 'canonical base64');

    const url = generateValue({ kind: 'bytes', bytes, encoding: 'base64url' }, cryptoRandom);
    t.regex(url, /^[A-Za-z0-9_-]*$/, 'base64url has no padding, + or /');
    t.is(Buffer.from(url, 'base64url').length, bytes);
    t.is(Buffer.from(url, 'base64url').toString('base64url'), url);

    const hex = generateValue({ kind: 'bytes', bytes, encoding: 'hex' }, cryptoRandom);
    t.regex(hex, /^[0-9a-f]*$/);
    t.is(hex.length, 2 * bytes);
    t.is(Buffer.from(hex, 'hex').length, bytes);
  }
});

test('random bytes are exactly the bytes the source gave', (t) => {
  const fixed: RandomSource = {
    bytes: (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 250) % 256)),
    uuid: () => '',
  };
  t.is(generateValue({ kind: 'bytes', bytes: 4, encoding: 'hex' }, fixed), 'fa1f4469');
  t.is(generateValue({ kind: 'bytes', bytes: 4, encoding: 'base64' }, fixed), '+h9EaQ==');
  t.is(generateValue({ kind: 'bytes', bytes: 4, encoding: 'base64url' }, fixed), '-h9EaQ');
});

test('uuid: version 4, RFC 4122 variant, lowercase, and no repeats', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = generateValue({ kind: 'uuid' }, cryptoRandom);
    t.regex(id, UUID_V4);
    seen.add(id);
  }
  t.is(seen.size, 2000);
});

test('provided values are never generated', (t) => {
  t.throws(() => generateValue({ kind: 'provided', description: 'x' }, cryptoRandom), {
    message: /never generated/,
  });
});

test('alphabets of fewer than 2 or more than 256 characters are refused', (t) => {
  t.throws(() => randomString(8, 'a', cryptoRandom), { instanceOf: RangeError });
  t.throws(() => randomString(8, '', cryptoRandom), { instanceOf: RangeError });
  const big = Array.from({ length: 257 }, (_, i) => String.fromCodePoint(0x100 + i)).join('');
  t.throws(() => randomString(8, big, cryptoRandom), { instanceOf: RangeError });
  // Counted in characters, not UTF-16 units: 7 emoji are 14 units but 7 characters.
  t.is(Array.from(randomString(10, CUSTOM['chars: emoji'] ?? '', cryptoRandom)).length, 10);
});

// --- Uniformity ---------------------------------------------------------------------------

/** Upper 0.001 quantile of the standard normal distribution. */
const Z_999 = 3.090232306167813;

/**
 * The chi-square value exceeded with probability 0.001 for `df` degrees of freedom, by the
 * Wilson–Hilferty approximation: (X/df)^(1/3) is close to normal with mean 1 - 2/(9 df) and
 * variance 2/(9 df).
 */
function chiSquareCritical(df: number, z = Z_999): number {
  const v = 2 / (9 * df);
  return df * (1 - v + z * Math.sqrt(v)) ** 3;
}

function chiSquare(sample: string, alphabet: string): number {
  const chars = Array.from(alphabet);
  const counts = new Map(chars.map((c) => [c, 0]));
  let n = 0;
  for (const c of sample) {
    counts.set(c, (counts.get(c) ?? 0) + 1);
    n++;
  }
  const expected = n / chars.length;
  let stat = 0;
  for (const count of counts.values()) stat += (count - expected) ** 2 / expected;
  return stat;
}

test('the Wilson–Hilferty critical values match chi-square tables (p = 0.001)', (t) => {
  // Published upper 0.001 critical values of the chi-square distribution.
  const table: [number, number][] = [
    [9, 27.877],
    [15, 37.697],
    [20, 45.315],
    [25, 52.62],
    [30, 59.703],
    [50, 86.661],
    [60, 99.607],
    [100, 149.449],
  ];
  for (const [df, value] of table) {
    const approx = chiSquareCritical(df);
    // Within 1% (0.7% at df 9, closer as df grows): well inside what the test needs.
    t.true(Math.abs(approx - value) / value < 0.01, `df ${df}: ${approx} vs ${value}`);
  }
});

const SAMPLE = 200_000;

const uniform = test.macro({
  exec(t, name: string, alphabet: string) {
    const df = Array.from(alphabet).length - 1;
    const critical = chiSquareCritical(df);
    // A uniform generator fails one sample in a thousand by construction; across all alphabets
    // a run would then fail about 1% of the time. So a failing sample is drawn again once: a
    // real bias fails both (the modulo-bias test below exceeds the critical value tenfold).
    let stat = chiSquare(randomString(SAMPLE, alphabet, cryptoRandom), alphabet);
    if (stat >= critical) {
      t.log(`${name}: chi-square ${stat.toFixed(1)} >= ${critical.toFixed(1)}, drawing again`);
      stat = chiSquare(randomString(SAMPLE, alphabet, cryptoRandom), alphabet);
    }
    t.true(
      stat < critical,
      `${name}: chi-square ${stat.toFixed(1)} >= ${critical.toFixed(1)} (df ${df})`,
    );
  },
  title: (_, name: string) => `uniform (chi-square, ${SAMPLE} characters, p > 0.001): ${name}`,
});

for (const [name, alphabet] of ALL) test(uniform, name, alphabet);

test('the chi-square test detects modulo bias (so passing it means something)', (t) => {
  // What `byte % n` without rejection would produce.
  const biased = (length: number, alphabet: string) => {
    const chars = Array.from(alphabet);
    return Array.from(cryptoRandom.bytes(length), (b) => chars[b % chars.length]).join('');
  };
  for (const c of ['alphanumeric', 'printable'] as const) {
    const alphabet = ALPHABETS[c];
    const stat = chiSquare(biased(SAMPLE, alphabet), alphabet);
    const critical = chiSquareCritical(Array.from(alphabet).length - 1);
    t.true(stat > 5 * critical, `${c}: ${stat.toFixed(1)} vs ${critical.toFixed(1)}`);
  }
});

// --- Rejection sampling, with an injected source --------------------------------------------

/** A RandomSource that hands out the given bytes in order, and records each request. */
function scripted(bytes: number[]): RandomSource & { requests: number[] } {
  let next = 0;
  const requests: number[] = [];
  return {
    requests,
    bytes(n) {
      requests.push(n);
      if (next + n > bytes.length) throw new Error(`script exhausted: ${n} more bytes asked`);
      const out = Buffer.from(bytes.slice(next, next + n));
      next += n;
      return out;
    },
    uuid: () => '00000000-0000-4000-8000-000000000000',
  };
}

test('bytes at or above the largest multiple of the alphabet size are skipped', (t) => {
  // 62 characters: the limit is 248 (4 × 62); 248..255 would favour A..H.
  const alphabet = ALPHABETS.alphanumeric;
  // 4 characters wanted: randomString asks for ceil(4 × 256 / 248) + 8 = 13 bytes at a time.
  const first = [248, 249, 250, 251, 252, 253, 254, 255, 248, 255, 250, 249, 251]; // all skipped
  const second = [255, 0, 248, 61, 247, 62, 0, 0, 0, 0, 0, 0, 0]; // 0 → A, 61 → 9, 247 → 9, 62 → A
  const source = scripted([...first, ...second]);
  t.is(randomString(4, alphabet, source), 'A99A');
  // The whole first batch was skipped, so it asked again.
  t.deepEqual(source.requests, [13, 13]);
});

test('a three-character alphabet skips only byte 255', (t) => {
  // The limit is 255: 0..254 map to a, b, c by remainder; 7 characters take one batch of 16.
  const script = [255, 0, 1, 2, 255, 3, 254, 253, 255, 128];
  const source = scripted([...script, ...Array<number>(16 - script.length).fill(255)]);
  t.is(randomString(7, 'abc', source), 'abcacbc');
  t.deepEqual(source.requests, [16]);
});

test('every accepted byte value maps to each character equally often', (t) => {
  for (const [name, alphabet] of ALL) {
    const chars = Array.from(alphabet);
    const limit = 256 - (256 % chars.length);
    // Every byte value once, rejected ones included: exactly `limit` characters come out.
    const all = Array.from({ length: 256 }, (_, i) => i);
    const source = scripted([...all, ...all]);
    const value = Array.from(randomString(limit, alphabet, source));
    t.is(value.length, limit);
    const counts = new Map<string, number>();
    for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
    t.is(counts.size, chars.length, name);
    t.deepEqual(new Set(counts.values()), new Set([limit / chars.length]), name);
  }
});

test('alphabets whose size divides 256 reject nothing', (t) => {
  for (const alphabet of [ALPHABETS.hex, ALPHABETS.base64url, CUSTOM['chars: 256'] ?? '']) {
    const size = Array.from(alphabet).length;
    const source = scripted(Array.from({ length: 300 }, (_, i) => (255 - i) & 0xff));
    const value = Array.from(randomString(16, alphabet, source));
    t.is(value.length, 16);
    t.is(value[0], Array.from(alphabet)[255 % size]);
    t.is(source.requests.length, 1);
  }
});

test('uuid comes from the source', (t) => {
  t.is(generateValue({ kind: 'uuid' }, scripted([])), '00000000-0000-4000-8000-000000000000');
});

// --- Static check: randomness only from node:crypto -----------------------------------------

/** Third-party modules that produce random values, or a bare `crypto` not spelled node:crypto. */
const RANDOM_MODULE =
  /^(crypto|crypto-js|crypto-random-string|random.*|.*-random|seedrandom|uuid|nanoid|shortid|cuid2?|ulid|chance|@faker-js\/.*|faker|generate-password|randomstring|secure-random|random-js)$/;
const RANDOM_FUNCTIONS =
  /\b(randomBytes|randomFill|randomFillSync|randomInt|randomUUID|getRandomValues)\b/;

/** Problems with how a source file gets its randomness. */
function randomnessProblems(source: string): string[] {
  const problems: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  if (/\bMath\s*\.\s*random\b/.test(code)) problems.push('uses Math.random');
  if (/\b(globalThis|window|self)\s*\.\s*crypto\b/.test(code))
    problems.push('uses the global Web Crypto object');
  const specifiers = [
    ...code.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...code.matchAll(/\bimport\s+['"]([^'"]+)['"]/g),
    ...code.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] ?? '');
  for (const s of specifiers) {
    if (RANDOM_MODULE.test(s)) problems.push(`imports ${s}`);
  }
  for (const m of code.matchAll(/\bimport\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g)) {
    if (m[2] !== 'node:crypto' && RANDOM_FUNCTIONS.test(m[1] ?? ''))
      problems.push(`imports a random function from ${m[2]}`);
  }
  return problems;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

test('src/ draws randomness from node:crypto only', (t) => {
  const files = sourceFiles(join(ROOT, 'src'));
  t.true(files.length > 10);
  const found = files.flatMap((file) =>
    randomnessProblems(readFileSync(file, 'utf8')).map((p) => `${relative(ROOT, file)}: ${p}`),
  );
  t.deepEqual(found, []);
  // The generator itself uses node:crypto.
  const source = readFileSync(join(ROOT, 'src/model/random.ts'), 'utf8');
  t.regex(source, /import \{ randomBytes, randomUUID \} from 'node:crypto';/);
  t.regex(source, /bytes: \(n\) => randomBytes\(n\)/);
  t.regex(source, /uuid: \(\) => randomUUID\(\)/);
});

test('no dependency is a random-number library', (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  t.deepEqual(
    Object.keys(pkg.dependencies ?? {}).filter((name) => RANDOM_MODULE.test(name)),
    [],
  );
});

test('the static check catches what it looks for', (t) => {
  t.deepEqual(randomnessProblems('const x = Math.random();'), ['uses Math.random']);
  t.deepEqual(randomnessProblems("import { v4 } from 'uuid';"), ['imports uuid']);
  t.deepEqual(randomnessProblems("import { nanoid } from 'nanoid';"), ['imports nanoid']);
  t.deepEqual(randomnessProblems("const r = require('seedrandom');"), ['imports seedrandom']);
  t.deepEqual(randomnessProblems("import { randomBytes } from 'crypto';"), [
    'imports crypto',
    'imports a random function from crypto',
  ]);
  t.deepEqual(randomnessProblems('globalThis.crypto.getRandomValues(buf);'), [
    'uses the global Web Crypto object',
  ]);
  t.deepEqual(randomnessProblems("import { randomBytes } from 'node:crypto';"), []);
  t.deepEqual(randomnessProblems("import { createHash } from 'node:crypto';"), []);
  t.deepEqual(randomnessProblems('// Math.random is never used here'), []);
});
