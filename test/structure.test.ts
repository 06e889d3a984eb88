/**
 * The structure rules of issue 19, as part of `npm test`:
 * - the layering rules (`npm run depcruise`, dependency-cruiser with .dependency-cruiser.cjs): no
 *   import cycles, pure config/model/plan, execa/simple-git/Octokit in ports only, no
 *   node:child_process, no js-yaml, every module reachable from src/cli.ts;
 * - the sizes (scripts/sizes.mjs): no file in src/ over 300 lines, no function over 80;
 * - package.json: the chosen libraries at run time, no js-yaml.
 * Each check's own output is the failure message. Two more tests run both checks on a small
 * tree that breaks every rule, so that a rule that silently stopped matching is noticed.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT } from './helpers/scenario.js';

const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const SIZES = join(ROOT, 'scripts/sizes.mjs');

const run = (file: string, args: string[], cwd = ROOT) =>
  execa(file, args, { cwd, reject: false, all: true, timeout: 60_000 });

test('layering: no cycles, pure config/model/plan, foreign libraries in ports only, no child_process, no dead modules', async (t) => {
  const r = await run(DEPCRUISE, ['--config', CONFIG, 'src']);
  t.is(r.exitCode, 0, `npm run depcruise:\n${r.all}`);
});

test('sizes: no file in src/ over 300 lines, no function over 80', async (t) => {
  const r = await run(process.execPath, [SIZES]);
  t.is(r.exitCode, 0, `node scripts/sizes.mjs:\n${r.all}`);
  t.is(r.all, '');
});

test('one library per concern: simple-git, execa, yaml and @octokit/rest at run time; no js-yaml', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const runtime = Object.keys(pkg.dependencies);
  for (const name of ['simple-git', 'execa', 'yaml', '@octokit/rest', 'zod', 'commander'])
    t.true(runtime.includes(name), `${name} is not a runtime dependency`);
  for (const name of ['js-yaml', '@types/js-yaml'])
    t.false(
      name in pkg.dependencies || name in pkg.devDependencies,
      `${name} is still a dependency`,
    );
});

/** A scratch tree with these files, a tsconfig.json and stand-ins for execa and js-yaml. */
async function tree(t: { teardown(fn: () => Promise<void>): void }, files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'gs-structure-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['execa', 'js-yaml']) {
    files[`node_modules/${name}/package.json`] = JSON.stringify({ name, main: 'index.js' });
    files[`node_modules/${name}/index.js`] = 'module.exports = {};\n';
  }
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['src'] }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

test('the layering rules catch each kind of violation', async (t) => {
  const dir = await tree(t, {
    'src/cli.ts': "import './plan/a.js';\nimport './model/m.js';\nimport './config/c.js';\n",
    'src/plan/a.ts':
      "import { b } from './b.js';\nimport { run } from '../ports/p.js';\nexport const a = b + run;\n",
    'src/plan/b.ts':
      "import { a } from './a.js';\nimport { readFileSync } from 'node:fs';\nexport const b = String(a) + readFileSync;\n",
    'src/ports/p.ts':
      "import { execSync } from 'node:child_process';\nexport const run = String(execSync);\n",
    'src/model/m.ts':
      "import { a } from '../plan/a.js';\nimport { execa } from 'execa';\nexport const m = [a, execa];\n",
    'src/config/c.ts': "import { load } from 'js-yaml';\nexport const c = load;\n",
    'src/dead.ts': "import { run } from './ports/p.js';\nexport const dead = run;\n",
  });
  const r = await run(DEPCRUISE, ['--config', CONFIG, 'src'], dir);
  t.is(r.exitCode, 8, r.all); // one violation per rule
  for (const rule of [
    'no-cycles: src/plan/a.ts',
    'pure-layers-stay-pure: src/plan/a.ts → src/ports/p.ts',
    'plan-on-top-of-model: src/model/m.ts → src/plan/a.ts',
    'foreign-libraries-in-ports: src/model/m.ts → node_modules/execa/',
    'no-child-process: src/ports/p.ts → child_process',
    'one-yaml-library: src/config/c.ts → node_modules/js-yaml/',
    'model-and-plan-do-no-io: src/plan/b.ts → fs',
    'reachable-from-the-cli: src/dead.ts',
  ])
    t.true(r.all.includes(rule), `${rule} not reported:\n${r.all}`);
});

test('the size check counts a factory with its closures as one function, and long files', async (t) => {
  const body = (n: number) =>
    Array.from({ length: n }, (_, i) => `    const v${i} = ${i};`).join('\n');
  const dir = await tree(t, {
    'src/ok.ts': `export function short() {\n${body(70)}\n}\n`,
    'src/factory.ts': `export function make() {\n  const a = () => {\n${body(40)}\n  };\n  const b = () => {\n${body(40)}\n  };\n  return { a, b };\n}\n`,
    'src/long.ts': `${Array.from({ length: 301 }, (_, i) => `export const c${i} = ${i};`).join('\n')}\n`,
  });
  const r = await run(process.execPath, [SIZES, join(dir, 'src')]);
  t.is(r.exitCode, 1, r.all);
  t.deepEqual(r.all.split('\n').sort(), [
    'src/factory.ts:1: function make is 87 lines (at most 80)',
    'src/long.ts: 301 lines (at most 300)',
  ]);
});
