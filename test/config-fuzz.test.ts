/**
 * Property-based fuzzing of parseConfig: whatever the text, it never throws and returns either
 * a config or at least one well-formed, positioned problem.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/parse.js';
import { configSchema, SOURCE_FIELDS } from '../src/config/schema.js';
import { configLike, validFixtures, YAML_TOKENS } from './helpers/config-fixtures.js';

/**
 * Runs per property: enough to find shallow crashes, fast enough for every `npm test`.
 * FUZZ_RUNS=20000 npx ava test/config-fuzz.test.ts digs deeper.
 */
const RUNS = Number(process.env.FUZZ_RUNS) || 400;
const FILE = 'fuzz.yaml';

/** parseConfig returns its problems; it must never print a process warning either. */
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.message));

/** zod's default messages, written for developers: every problem should be in our words. */
const RAW_ZOD = /Invalid input|Too small|Too big|expected (string|number|array|object)|received/;

interface Tally {
  configs: number;
  rejected: number;
}

/** Parses and checks the result; throws (so fast-check shrinks and reports) on any violation. */
function check(text: string, tally: Tally): void {
  const result = parseConfig(text, FILE);
  if (result.config) {
    if (result.problems.length !== 0) throw new Error('a config came with problems');
    tally.configs++;
    return;
  }
  tally.rejected++;
  if (result.problems.length === 0) throw new Error('no config and no problem');
  const lines = text.split('\n').length;
  for (const p of result.problems) {
    const where = `${p.line}:${p.column} ${p.path} ${JSON.stringify(p.message)}`;
    if (p.file !== FILE) throw new Error(`wrong file: ${where}`);
    if (!Number.isInteger(p.line) || p.line < 1) throw new Error(`bad line: ${where}`);
    if (!Number.isInteger(p.column) || p.column < 1) throw new Error(`bad column: ${where}`);
    if (p.line > lines + 1) throw new Error(`line past the end (${lines} lines): ${where}`);
    if (typeof p.message !== 'string' || p.message.trim() === '')
      throw new Error(`empty message: ${where}`);
    if (p.message.includes('    at ') || p.message.includes('[object Object]'))
      throw new Error(`internal detail in message: ${where}`);
    if (RAW_ZOD.test(p.message)) throw new Error(`zod's own wording in message: ${where}`);
    if (typeof p.path !== 'string') throw new Error(`bad path: ${where}`);
  }
}

/** Runs one property, logs how many inputs it tried and how they ended. */
async function fuzz<T>(
  t: ExecutionContext,
  name: string,
  arbitrary: fc.Arbitrary<T>,
  toText: (value: T) => string,
): Promise<Tally> {
  const tally: Tally = { configs: 0, rejected: 0 };
  fc.assert(
    fc.property(arbitrary, (value) => check(toText(value), tally)),
    { numRuns: RUNS },
  );
  // fast-check may run a property more than numRuns times while shrinking; report what ran.
  t.log(
    `${name}: ${tally.configs + tally.rejected} cases (${tally.configs} configs, ${tally.rejected} rejected)`,
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(warnings, [], 'parseConfig emitted process warnings');
  return tally;
}

/** Characters that mean something to YAML, so random text hits the parser's corners. */
const yamlSoup = fc
  .array(fc.oneof(fc.constantFrom(...YAML_TOKENS), fc.string({ maxLength: 3 })), { maxLength: 60 })
  .map((parts) => parts.join(''));

test('arbitrary strings (any code points) never make parseConfig throw', async (t) => {
  await fuzz(t, 'arbitrary strings', fc.string({ unit: 'binary', maxLength: 200 }), (s) => s);
});

test('strings of YAML syntax never make parseConfig throw', async (t) => {
  await fuzz(t, 'YAML token soup', yamlSoup, (s) => s);
});

test('YAML of arbitrary values never makes parseConfig throw', async (t) => {
  const value = fc.oneof(
    fc.anything({ maxDepth: 4 }),
    fc.object({ maxDepth: 4 }),
    fc.jsonValue({ maxDepth: 4 }),
  );
  await fuzz(t, 'YAML of arbitrary values', value, (v) => stringify(v) ?? '');
});

test('YAML of config-shaped objects never makes parseConfig throw, and reaches both outcomes', async (t) => {
  const tally = await fuzz(
    t,
    'YAML of config-shaped objects',
    fc.tuple(configLike, fc.boolean()),
    ([v, flow]) => stringify(v, flow ? { collectionStyle: 'flow' } : {}),
  );
  // The generator is only useful if it produces valid configs and invalid ones.
  t.true(tally.configs > 0, 'no generated config was valid');
  t.true(tally.rejected > 0, 'every generated config was valid');
});

type Mutation =
  | { op: 'delete-line' | 'duplicate-line' | 'swap-chars' | 'delete-char'; at: number }
  | { op: 'insert-char'; at: number; char: string };

function mutate(text: string, m: Mutation): string {
  if (m.op === 'delete-line' || m.op === 'duplicate-line') {
    const lines = text.split('\n');
    const i = m.at % lines.length;
    if (m.op === 'delete-line') lines.splice(i, 1);
    else lines.splice(i, 0, lines[i] ?? '');
    return lines.join('\n');
  }
  if (text.length < 2) return text;
  const i = m.at % (text.length - 1);
  if (m.op === 'swap-chars') return text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
  if (m.op === 'insert-char') return text.slice(0, i) + m.char + text.slice(i);
  return text.slice(0, i) + text.slice(i + 1);
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constantFrom('delete-line', 'duplicate-line', 'swap-chars', 'delete-char'),
    at: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    op: fc.constant('insert-char'),
    at: fc.nat(),
    char: fc.constantFrom(...':-{}[]&*!|>\'"#\t ,?%@`~\n', 'é', '\u0000'),
  }) as fc.Arbitrary<Mutation>,
);

test('mutations of valid fixtures never make parseConfig throw', async (t) => {
  const texts = validFixtures().map((f) => f.text);
  const tally = await fuzz(
    t,
    'mutated valid fixtures',
    fc.tuple(fc.constantFrom(...texts), fc.array(mutation, { minLength: 1, maxLength: 4 })),
    ([text, mutations]) => mutations.reduce(mutate, text),
  );
  t.true(tally.rejected > 0, 'no mutation broke a config');
});

test('found by the fuzzing: a comment glued to a flow collection is a YAML problem at its place', (t) => {
  const text =
    'version: 1\nsecrets:\n  - name: a\n    namespace: b\n    keys:\n      K: { length: 8 }#\n';
  const result = parseConfig(text, FILE);
  t.is(result.config, undefined);
  t.like(result.problems[0], { file: FILE, line: 6 });
  t.regex(result.problems[0]?.message ?? '', /Comments must be separated/);
});

test('parseConfig is deterministic on mutated fixtures', (t) => {
  const texts = validFixtures().map((f) => f.text);
  fc.assert(
    fc.property(
      fc.tuple(fc.constantFrom(...texts), fc.array(mutation, { minLength: 1, maxLength: 3 })),
      ([text, mutations]) => {
        const input = mutations.reduce(mutate, text);
        const a = parseConfig(input, FILE);
        const b = parseConfig(input, FILE);
        if (JSON.stringify(a.problems) !== JSON.stringify(b.problems))
          throw new Error('two runs disagree');
      },
    ),
    { numRuns: 100 },
  );
  t.pass();
});

test('every field a key can carry loads with a valid value, and each wrong field is a positioned problem', (t) => {
  const base = {
    version: 1,
    secrets: [{ name: 'app', namespace: 'web', keys: { a: null, b: { length: 8 } } }],
  };
  const loads = (value: unknown) => parseConfig(stringify(value), FILE);
  t.deepEqual(loads(base).problems, []);
  // Each field a key can have, with a valid value, alone on a key (or a shared value).
  const everyField: Record<string, unknown> = {
    length: 8,
    charset: 'hex',
    chars: 'ab',
    rules: { minLower: 1, maxRepeat: 2 },
    bytes: 16,
    encoding: 'hex',
    uuid: true,
    provided: true,
    description: 'd',
    pattern: 'p',
    minLength: 2,
    rotateEvery: '30d',
    keepPrevious: true,
  };
  t.deepEqual(Object.keys(everyField).sort(), [...SOURCE_FIELDS].sort());
  for (const [field, value] of [...Object.entries(everyField), ['from', 'db']] as const) {
    const c = structuredClone(base) as { secrets: { keys: Record<string, unknown> }[] };
    c.secrets[0]!.keys.b = { [field]: value };
    t.true(configSchema.safeParse(c).success, `zod: ${field}`);
    if (field === 'from') continue;
    t.true(configSchema.safeParse({ ...base, shared: { db: { [field]: value } } }).success, field);
  }
  t.deepEqual(
    loads({ ...base, shared: { db: { bytes: 16, encoding: 'hex', rotateEvery: '30d' } } }).problems,
    [],
  );
  // biome-ignore lint/suspicious/noExplicitAny: each change breaks the config's type on purpose
  const wrong: Array<(c: any) => void> = [
    (c) => (c.version = 2),
    (c) => (c.extra = 1),
    (c) => (c.output = ''),
    (c) => (c.sops = { age: [''] }),
    (c) => (c.sops = { age: 'age1x' }),
    (c) => (c.sops = null),
    (c) => (c.pullRequest = { labels: [1] }),
    (c) => (c.defaults = { length: 0 }),
    (c) => (c.defaults = { charset: 'emoji' }),
    (c) => (c.environments = ['Prod']),
    (c) => (c.environments = [{ name: 'prod', extra: 1 }]),
    (c) => (c.shared = { db: null }),
    (c) => (c.shared = { db: { from: 'x' } }),
    (c) => (c.secrets[0].name = 'App'),
    (c) => (c.secrets[0].name = 'a'.repeat(254)),
    (c) => (c.secrets[0].namespace = 'a'.repeat(64)),
    (c) => (c.secrets[0].labels = { a: 1 }),
    (c) => (c.secrets[0].rollout = ['']),
    (c) => (c.secrets[0].environments = [1]),
    (c) => (c.secrets[0].keys = null),
    (c) => delete c.secrets[0].keys,
    (c) => (c.secrets[0].keys.b = { length: 4097 }),
    (c) => (c.secrets[0].keys.b = { length: 1.5 }),
    (c) => (c.secrets[0].keys.b = { chars: 'a' }),
    (c) => (c.secrets[0].keys.b = { chars: '😀' }), // one character, two UTF-16 units
    (c) => (c.secrets[0].keys.b = { encoding: 'base32' }),
    (c) => (c.secrets[0].keys.b = { uuid: false }),
    (c) => (c.secrets[0].keys.b = { provided: 'yes' }),
    (c) => (c.secrets[0].keys.b = { rotateEvery: '30m' }),
    (c) => (c.secrets[0].keys.b = { keepPrevious: 'no' }),
    (c) => (c.secrets[0].keys.b = { from: '' }),
    (c) => (c.secrets[0].keys.b = { lenght: 8 }),
    (c) => (c.secrets[0].keys.b = { rules: { minDigit: 1 } }),
    (c) => (c.secrets[0].keys.b = { rules: { maxRepeat: 0 } }),
    (c) => (c.secrets[0].keys.b = { rules: { symbols: 'ab' } }),
    (c) => (c.defaults = { rules: { minLower: -1 } }),
  ];
  for (const change of wrong) {
    const c = structuredClone(base);
    change(c);
    t.false(configSchema.safeParse(c).success, `zod: ${change.toString()}`);
    const result = loads(c);
    t.is(result.config, undefined, change.toString());
    t.true(result.problems.length > 0, change.toString());
    // Each names its line, column and field.
    for (const p of result.problems)
      t.true(p.line >= 1 && p.column >= 1 && p.path !== '', `${change.toString()}: ${p.path}`);
  }
});
