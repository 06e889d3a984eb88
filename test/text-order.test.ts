import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import fc from 'fast-check';
import { compareText } from '../src/plan/summary.js';

const icu = new Intl.Collator('en').compare;
const SUMMARY = fileURLToPath(new URL('../src/plan/summary.ts', import.meta.url));
const sign = (n: number) => Math.sign(n);

const printable = fc.string({
  unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)),
  maxLength: 8,
});
// Names as they come: letters, digits and the separators of keys and paths, mostly.
const nameLike = fc.string({ unit: fc.constantFrom(...'aAbBzZ09_-./ '), maxLength: 8 });
const anything = fc.string({ unit: 'grapheme', maxLength: 6 });

test('printable ASCII is ordered as ICU orders it for "en"', (t) => {
  for (const gen of [printable, nameLike]) {
    fc.assert(
      fc.property(gen, gen, (a, b) => sign(compareText(a, b)) === sign(icu(a, b))),
      { numRuns: 20_000 },
    );
  }
  t.pass();
});

test('other text is left to the collator', (t) => {
  fc.assert(
    fc.property(fc.oneof(anything, printable), anything, (a, b) => {
      return (
        sign(compareText(a, b)) === sign(icu(a, b)) && sign(compareText(b, a)) === sign(icu(b, a))
      );
    }),
    { numRuns: 5_000 },
  );
  t.deepEqual(['Zeta', 'alpha', 'Älpha', 'beta', 'a_b', 'a-b', 'A', 'a'].sort(compareText), [
    'a',
    'A',
    'a_b',
    'a-b',
    'alpha',
    'Älpha',
    'beta',
    'Zeta',
  ]);
});

test('the order does not follow the machine locale', async (t) => {
  // Danish collation puts "aa" after "z"; Lithuanian puts "y" between "i" and "j".
  const sorted = async (locale: string, words: string[]) => {
    const r = await execa(
      process.execPath,
      [
        '--import=tsx',
        '--input-type=module',
        '-e',
        `const { compareText } = await import(${JSON.stringify(SUMMARY)});
         console.log(JSON.stringify([new Intl.Collator().resolvedOptions().locale, process.argv.slice(1).sort(compareText)]));`,
        ...words,
      ],
      { env: { LC_ALL: locale, LANG: locale } },
    );
    return JSON.parse(r.stdout) as [string, string[]];
  };
  t.deepEqual(await sorted('da_DK.UTF-8', ['z', 'aa', 'ab', 'Æ']), [
    'da-DK',
    ['aa', 'ab', 'Æ', 'z'],
  ]);
  t.deepEqual(await sorted('lt_LT.UTF-8', ['y', 'j', 'i']), ['lt-LT', ['i', 'j', 'y']]);
});
