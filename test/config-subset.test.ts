/**
 * readConfigSubset (src/config/subset.ts) stands in for js-yaml on the fast path: whatever it
 * returns must be what js-yaml (core schema, duplicate keys refused) returns for the same text.
 * Returning undefined is always allowed (js-yaml then reads the text).
 */
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import jsYaml from 'js-yaml';
import { stringify } from 'yaml';
import { benchSecret, configText } from '../bench/workload.js';
import { fastPathTakes } from '../src/config/fast.js';
import { readConfigSubset } from '../src/config/subset.js';
import { configLike, validFixtures, YAML_TOKENS } from './helpers/config-fixtures.js';

const RUNS = Number(process.env.FUZZ_RUNS) || 600;

function jsYamlLoad(text: string): { value: unknown } | { error: true } {
  try {
    return { value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, json: false }) };
  } catch {
    return { error: true };
  }
}

interface Tally {
  read: number;
  left: number;
}

/** Throws (so fast-check shrinks and reports) when the subset reader and js-yaml disagree. */
function agrees(text: string, tally: Tally): void {
  const mine = readConfigSubset(text);
  if (mine === undefined) {
    tally.left++;
    return;
  }
  tally.read++;
  const theirs = jsYamlLoad(text);
  if ('error' in theirs) throw new Error('read a text that js-yaml refuses');
  if (!isDeepStrictEqual(mine, theirs.value))
    throw new Error(
      `differs from js-yaml:\n${JSON.stringify(mine)}\n${JSON.stringify(theirs.value)}`,
    );
}

/** The fuzz test's YAML tokens, plus numbers and words the subset reader treats specially. */
const soup = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ...YAML_TOKENS,
        ', ',
        "''",
        ' #',
        '\n  ',
        '\n- ',
        '\n  - ',
        'Null',
        'False',
        '0',
        '-0',
        '007',
        '1_000',
        '0o7',
        '1.5',
        '1e3',
        '30d',
        'x.y',
        'a/b',
        'http://x',
        '\u0085',
        '\u0001',
        'é',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** Shapes configs are written in: keys, nested blocks, flow collections, sequences. */
const scalar = fc.oneof(
  fc.constantFrom(
    '~',
    'null',
    'true',
    'FALSE',
    '0',
    '12',
    '-3',
    '30d',
    'a b',
    'x.y',
    "'q'",
    '"d"',
    '',
  ),
  fc.stringMatching(/^[a-z][a-z0-9 ._/-]{0,8}$/),
);
/** Flow collections of the fast path hold no quotes (fast.ts leaves those to the full parser). */
const flowScalar = scalar.filter((x) => !/['"]/.test(x));
const flow: fc.Arbitrary<string> = fc.letrec<{ flow: string }>((tie) => ({
  flow: fc.oneof(
    { depthSize: 'small' },
    fc
      .array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/), fc.oneof(scalar, tie('flow'))), {
        maxLength: 4,
      })
      .map((es) => `{${es.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
    fc.array(fc.oneof(flowScalar, tie('flow')), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
  ),
})).flow;
type Node = { scalar: string } | { map: [string, Node][] } | { seq: Node[] };
const key = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{1,5}$/), weight: 40 },
  {
    arbitrary: fc.constantFrom('$schema', '.docker', 'a.b', 'a/b', 'x-y', '.5', 'true', '1'),
    weight: 1,
  },
);
const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(scalar, flow).map((x) => ({ scalar: x })),
    fc
      .uniqueArray(fc.tuple(key, tie('node')), { minLength: 1, maxLength: 4, selector: ([k]) => k })
      .map((map) => ({ map })),
    // Sequences of sequences (`- - x`, `-` alone) are left to js-yaml: not generated here.
    fc
      .array(
        tie('node').filter((x) => !('seq' in x)),
        { minLength: 1, maxLength: 3 },
      )
      .map((seq) => ({ seq })),
  ),
})).node;

/** Renders a tree in block style; `style` picks sequence indentation, comments and spacing. */
function render(n: Node, col: number, style: number, out: string[]): void {
  const pad = ' '.repeat(col);
  const comment = (i: number, line = '') =>
    style & 4 && i % 3 === 0 && !/['"]/.test(line) ? ' # note' : '';
  if ('map' in n) {
    n.map.forEach(([k, v], i) => {
      if ('scalar' in v) out.push(`${pad}${k}: ${v.scalar}${comment(i, v.scalar)}`);
      else {
        out.push(`${pad}${k}:${comment(i)}`);
        render(v, 'seq' in v && style & 1 ? col : col + (style & 2 ? 4 : 2), style, out);
      }
      if (style & 8 && i === 0) out.push(i % 2 ? '' : `${pad}# a comment line`);
    });
  } else if ('seq' in n) {
    for (const item of n.seq) {
      if ('scalar' in item) out.push(`${pad}- ${item.scalar}`);
      else if ('map' in item) {
        const lines: string[] = [];
        render(item, col + 2, style, lines);
        out.push(`${pad}- ${lines[0]!.slice(col + 2)}`, ...lines.slice(1));
      } else throw new Error('not generated: a sequence in a sequence');
    }
  } else out.push(`${pad}${n.scalar}`);
}

const blockText = fc
  .tuple(
    fc.uniqueArray(fc.tuple(key, node), { minLength: 1, maxLength: 4, selector: ([k]) => k }),
    fc.nat(15),
  )
  .map(([map, style]) => {
    const lines: string[] = [];
    render({ map }, 0, style, lines);
    return `${lines.join('\n')}\n`;
  });

test('the subset reader agrees with js-yaml on YAML syntax soup', (t) => {
  const tally = { read: 0, left: 0 };
  fc.assert(
    fc.property(soup, (s) => agrees(s, tally)),
    { numRuns: RUNS * 4 },
  );
  t.log(`soup: ${tally.read} read, ${tally.left} left to js-yaml`);
  t.true(tally.read > 0);
});

test('the subset reader agrees with js-yaml on block and flow lines', (t) => {
  const tally = { read: 0, left: 0 };
  fc.assert(
    fc.property(blockText, (s) => agrees(s, tally)),
    { numRuns: RUNS * 4 },
  );
  t.log(`block and flow lines: ${tally.read} read, ${tally.left} left to js-yaml`);
  t.true(tally.read * 3 > tally.left, 'most generated texts fell outside the subset');
});

test('the subset reader agrees with js-yaml on config-shaped objects in every style', (t) => {
  const tally = { read: 0, left: 0 };
  fc.assert(
    fc.property(configLike, fc.integer({ min: 0, max: 5 }), (v, style) => {
      const text =
        style < 3
          ? stringify(v, {
              collectionStyle: style === 0 ? 'block' : 'any',
              indentSeq: style !== 2,
            })
          : jsYaml.dump(v, { flowLevel: style === 3 ? -1 : style - 2, indent: 2 });
      agrees(text, tally);
    }),
    { numRuns: RUNS },
  );
  t.log(`config-shaped: ${tally.read} read, ${tally.left} left to js-yaml`);
  t.true(tally.read > 0);
});

test('the subset reader agrees with js-yaml on mutated valid fixtures', (t) => {
  const texts = validFixtures().map((f) => f.text);
  const tally = { read: 0, left: 0 };
  const mutation = fc.record({
    at: fc.nat(),
    op: fc.constantFrom('delete', 'insert', 'swap', 'dup-line'),
    char: fc.constantFrom(...':-{}[]#\'" ,~\n0.', 'é', '\u00a0'),
  });
  fc.assert(
    fc.property(fc.constantFrom(...texts), fc.array(mutation, { maxLength: 3 }), (text, ms) => {
      let s = text;
      for (const m of ms) {
        const i = m.at % Math.max(1, s.length);
        if (m.op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
        else if (m.op === 'insert') s = s.slice(0, i) + m.char + s.slice(i);
        else if (m.op === 'swap') s = s.slice(0, i) + s.slice(i + 1, i + 2) + s[i] + s.slice(i + 2);
        else {
          const lines = s.split('\n');
          const j = m.at % lines.length;
          lines.splice(j, 0, lines[j]!);
          s = lines.join('\n');
        }
      }
      agrees(s, tally);
    }),
    { numRuns: RUNS * 2 },
  );
  t.log(`mutated fixtures: ${tally.read} read, ${tally.left} left to js-yaml`);
  t.true(tally.read > 0);
});

test('the subset reader reads the fixtures, the starter config and the benchmark configs itself', (t) => {
  const texts = [
    ...validFixtures().map((f) => ({ name: f.file, text: f.text })),
    {
      name: 'benchmark config',
      text: configText(Array.from({ length: 50 }, (_, i) => benchSecret(i))),
    },
    {
      name: 'benchmark config at 10×N',
      text: configText(
        Array.from({ length: 50 }, (_, i) => benchSecret(i, 3)),
        true,
      ),
    },
  ];
  // Fixtures that use what the fast path leaves to the full parser (anchors, quotes in flow
  // collections, quoted keys) never reach the subset reader.
  const taken = texts.filter((x) => fastPathTakes(x.text));
  t.true(taken.length >= 7, `only ${taken.length} texts for the fast path`);
  const left = taken.filter((x) => readConfigSubset(x.text) === undefined).map((x) => x.name);
  for (const { text } of taken) agrees(text, { read: 0, left: 0 });
  t.deepEqual(left, [], 'texts the fast path takes but the subset reader left to js-yaml');
});

test('the subset reader: cases written out', (t) => {
  const cases: [string, unknown][] = [
    ['a: 1\n', { a: 1 }],
    ['a: -0\n', undefined],
    ['a: 0\n', { a: 0 }],
    ['a: 007\n', undefined],
    ['a: 30d\n', { a: '30d' }],
    ['a: ~\nb:\nc: null\n', { a: null, b: null, c: null }],
    ['a: true\nb: False\n', { a: true, b: false }],
    ['a: x # note\n', { a: 'x' }],
    ['a: x#y\n', undefined],
    ["a: 'it''s'\n", { a: "it's" }],
    ['a: "q"\n', { a: 'q' }],
    ['a: "q\\n"\n', undefined],
    ['a:\n- x\n- y\nb: 2\n', { a: ['x', 'y'], b: 2 }],
    ['a:\n  - x\n  - k: v\n    j: w\n', { a: ['x', { k: 'v', j: 'w' }] }],
    ['a: {b: 1, c: [x, y z], d: {}}\n', { a: { b: 1, c: ['x', 'y z'], d: {} } }],
    ['a: {b: }\n', { a: { b: null } }],
    ['a: [x, ]\n', undefined],
    ['a: {b:1}\n', undefined],
    ['a: 1\na: 2\n', undefined],
    ['a: x\u00a0\n', { a: 'x\u00a0' }],
    ['a: b\n  c\n', undefined],
    ['- a\n', undefined],
    ['a: |\n  x\n', undefined],
    ['a: &x 1\n', undefined],
    ['1: x\n', undefined],
    ['a: x\n---\n', undefined],
  ];
  for (const [text, expected] of cases) {
    t.deepEqual(readConfigSubset(text), expected, JSON.stringify(text));
    if (expected !== undefined) agrees(text, { read: 0, left: 0 });
  }
});
