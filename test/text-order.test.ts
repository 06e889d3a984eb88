import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import fc from 'fast-check';
import { compareText } from '../src/plan/text-order.js';

const MODULE = fileURLToPath(new URL('../src/plan/text-order.ts', import.meta.url));

test('English collation: case and accents after the letter, separators before letters', (t) => {
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

test('a total order: only equal texts compare equal, and swapping flips the sign', (t) => {
  const text = fc.string({ unit: 'grapheme', maxLength: 6 });
  fc.assert(
    fc.property(text, text, (a, b) => {
      const ab = Math.sign(compareText(a, b));
      return ab === -Math.sign(compareText(b, a)) && (ab === 0) === (a === b);
    }),
    { numRuns: 5_000 },
  );
  t.pass();
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
        `const { compareText } = await import(${JSON.stringify(MODULE)});
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
