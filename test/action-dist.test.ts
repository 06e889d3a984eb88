/**
 * check-dist: the Action runs the committed dist/action/index.js, so a change to src/ that is
 * not rebuilt and committed with it would ship stale code. The bundle is built again in memory
 * from the working tree, with scripts/build.mjs's options, and compared with the commit's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { build } from 'esbuild';
import { execa } from 'execa';
// @ts-expect-error: a plain .mjs script without type declarations
import { actionBundle } from '../scripts/action-bundle.mjs';
import { ROOT } from './helpers/scenario.js';

test('the committed dist/action/index.js is a fresh build of src/ (run node scripts/build.mjs and commit dist/action)', async (t) => {
  const fresh = await build({ ...actionBundle(ROOT), write: false });
  const built = fresh.outputFiles?.[0]?.text ?? '';
  const committed = (
    await execa('git', ['show', 'HEAD:dist/action/index.js'], {
      cwd: ROOT,
      stripFinalNewline: false,
      maxBuffer: 64 * 1024 * 1024,
    })
  ).stdout;
  t.true(built.length > 0);
  t.true(
    committed === built,
    'dist/action/index.js at HEAD differs from a build of src/: run `node scripts/build.mjs` and commit dist/action/index.js with the change',
  );
});

test('git holds the Action from dist/: its bundle, and the package.json that makes it CommonJS', async (t) => {
  t.deepEqual(JSON.parse(await readFile(join(ROOT, 'dist/action/package.json'), 'utf8')), {
    type: 'commonjs',
  });
  const { stdout } = await execa('git', ['ls-files', 'dist'], { cwd: ROOT });
  t.deepEqual(stdout.split('\n').sort(), ['dist/action/index.js', 'dist/action/package.json']);
});
