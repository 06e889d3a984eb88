/**
 * dist/cli.js, the loader the test command builds: it runs the bundle from V8's code cache only
 * when the cache belongs to that bundle. V8 itself checks only the source's length, so a bundle
 * patched in place (same length) or rebuilt without its cache must never run the old bytecode.
 */
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT } from './helpers/scenario.js';

/** Part of sync's description in `--help` (a line of its own there, and once in the bundle). */
const DESCRIPTION = 'open or update the PR';
const PATCHED = DESCRIPTION.toUpperCase(); // same length: V8's own check cannot tell

/** A copy of dist/ (and the package.json it reads its version from) in a temp dir. */
function copyOfDist(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'gitops-secrets-build-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const bundle = join(dir, 'dist/gitops-secrets.cjs');
  const cache = `${bundle}.cache`;
  return { dir, bundle, cache, cli: join(dir, 'dist/cli.js') };
}

const help = async (cli: string) => (await execa(process.execPath, [cli, '--help'])).stdout;

test('dist/ is CommonJS, its cache starts with the build id the bundle ends with', (t) => {
  t.deepEqual(JSON.parse(readFileSync(join(ROOT, 'dist/package.json'), 'utf8')), {
    type: 'commonjs',
  });
  const bundle = readFileSync(join(ROOT, 'dist/gitops-secrets.cjs'), 'utf8');
  const id = readFileSync(join(ROOT, 'dist/gitops-secrets.cjs.cache')).subarray(0, 40).toString();
  t.regex(id, /^[0-9a-f]{40}$/);
  t.true(bundle.endsWith(`\n//# gitops-secrets build ${id}\n`));
});

test('a bundle patched after the build runs the patched code, not the cached bytecode', async (t) => {
  const d = copyOfDist(t);
  t.true((await help(d.cli)).includes(DESCRIPTION));
  const text = readFileSync(d.bundle, 'utf8');
  t.is(text.split(DESCRIPTION).length, 2);
  writeFileSync(d.bundle, text.replace(DESCRIPTION, PATCHED));
  t.is(statSync(d.bundle).size, Buffer.byteLength(text));
  const out = await help(d.cli);
  t.true(out.includes(PATCHED), out);
});

test('a bundle rebuilt without its cache (another build id) runs its own code, even with an older mtime', async (t) => {
  const d = copyOfDist(t);
  const text = readFileSync(d.bundle, 'utf8');
  const id = readFileSync(d.cache).subarray(0, 40).toString();
  // Same length, another id, and a timestamp no newer than the cache's: only the id tells.
  writeFileSync(
    d.bundle,
    text.replace(DESCRIPTION, PATCHED).replace(`build ${id}`, `build ${'0'.repeat(40)}`),
  );
  const old = statSync(d.cache);
  utimesSync(d.bundle, old.atime, old.mtime);
  const out = await help(d.cli);
  t.true(out.includes(PATCHED), out);
});

test('without a cache file the CLI still runs, compiled from source', async (t) => {
  const d = copyOfDist(t);
  rmSync(d.cache);
  t.true((await help(d.cli)).includes(DESCRIPTION));
});
