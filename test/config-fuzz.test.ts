/**
 * Property-based fuzzing of parseConfig: whatever the text, it never throws and returns either
 * a config or at least one well-formed, positioned problem.
 */
import { isDeepStrictEqual } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { configLike, validFixtures } from './helpers/config-fixtures.js';

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
  // The fast path may only ever agree with the full one: same config, or the same problems.
  if (!isDeepStrictEqual(result, parseConfig(text, FILE, { fast: false })))
    throw new Error('the fast and the full parse disagree');
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
  .array(
    fc.oneof(
      fc.constantFrom(
        ':',
        ': ',
        '-',
        '- ',
        '{',
        '}',
        '[',
        ']',
        ',',
        '&a',
        '*a',
        '&b ',
        '*b',
        '!',
        '!!str ',
        '!!binary ',
        '|',
        '>',
        "'",
        '"',
        '#',
        '%YAML 1.2',
        '---',
        '...',
        '?',
        '@',
        '`',
        '\t',
        ' ',
        '  ',
        '\n',
        '\r\n',
        '\\',
        '~',
        'null',
        'true',
        '1',
        '-1',
        '0x1F',
        '.inf',
        '.nan',
        'version',
        'secrets',
        'keys',
        'name',
        'namespace',
        'length',
        'from',
        'shared',
        '<<',
        '\u00a0',
        '\ufeff',
        '\u2028',
        '\0',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 60 },
  )
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
