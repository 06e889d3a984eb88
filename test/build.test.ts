/**
 * dist/cli.js, the bundle the test command builds: one script that runs on its own, without the
 * repository's node_modules, as the package's `bin` and the GitHub Action run it.
 */
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT } from './helpers/scenario.js';

/** A copy of dist/ (and the package.json it reads its version from) in a temp dir. */
function copyOfDist(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'gitops-secrets-build-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  return join(dir, 'dist/cli.js');
}

test('dist/cli.js is an executable script with a hashbang, in a CommonJS dist/', (t) => {
  const cli = join(ROOT, 'dist/cli.js');
  t.true(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n'));
  t.truthy(statSync(cli).mode & 0o100);
  t.deepEqual(JSON.parse(readFileSync(join(ROOT, 'dist/package.json'), 'utf8')), {
    type: 'commonjs',
  });
});

test('a copy of dist/ away from node_modules runs: --help, --version, and a command', async (t) => {
  const cli = copyOfDist(t);
  const help = await execa(process.execPath, [cli, '--help']);
  t.regex(help.stdout, /open or update the PR/);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  t.is((await execa(process.execPath, [cli, '--version'])).stdout.trim(), pkg.version);
  // A command that loads the config (yaml, zod) before failing on the missing file: exit 2.
  const dir = mkdtempSync(join(tmpdir(), 'gitops-secrets-build-repo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await execa(process.execPath, [cli, 'check', '--repo', dir], { reject: false });
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stderr, /cannot read config config\/secrets\.yaml/);
});

test('dist/ holds the bundle, its source map, the package.json that makes it CommonJS, and the Action', (t) => {
  t.deepEqual(readdirSync(join(ROOT, 'dist')).sort(), [
    'action',
    'cli.js',
    'cli.js.map',
    'package.json',
  ]);
  t.deepEqual(readdirSync(join(ROOT, 'dist/action')).sort(), ['index.js', 'package.json']);
});
