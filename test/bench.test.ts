/**
 * The benchmark at N = 20, so that it cannot rot. Asserts only that it completes, that the no-op
 * sync starts no sops process, that every figure is there and that the budget table has its five
 * rows; times are not asserted here (that is the benchmark's job: `npm run bench`).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import type { Results } from '../bench/report.js';
import { ROOT, TOOLS_BIN } from './helpers/scenario.js';

test('the benchmark runs at N=20 and reports 0 sops processes for the no-op sync', async (t) => {
  t.timeout(115_000);
  const dir = await mkdtemp(join(tmpdir(), 'gs-bench-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'results.json');
  const r = await execa(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', '--n', '20', '--samples', '2', '--out', out],
    {
      cwd: ROOT,
      env: { PATH: `${TOOLS_BIN}:${process.env.PATH ?? ''}` },
      reject: false,
      timeout: 110_000,
    },
  );
  t.is(r.exitCode, 0, `${r.stderr}`.slice(-3000));
  const budget = String(r.stdout)
    .split('\n')
    .filter((line) => /\| (PASS|MISS) \|$/.test(line))
    .map((line) => line.split(' | ')[0]);
  t.deepEqual(budget, [
    '| first sync, N=20',
    '| no-op sync, N=20',
    '| rotate 2 of 20',
    '| `check`, N=200',
    '| GitHub API calls per sync',
  ]);

  const results = JSON.parse(await readFile(out, 'utf8')) as Results;
  t.is(results.noopSync.sopsProcesses, 0);
  t.is(results.noopSync.commit, null);
  const figure = (path: string) => {
    const value = path
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | null)?.[part], results);
    t.true(typeof value === 'number' && Number.isFinite(value), `${path} is ${String(value)}`);
  };
  for (const path of [
    'n',
    'keys',
    'parallelism',
    'floor.ms',
    'floor.cpuMs',
    'firstSync.ms',
    'firstSync.ratio',
    'firstSync.cpuMs',
    'firstSync.sopsProcesses',
    'firstSync.files',
    'firstSync.rssMb',
    'noopSync.ms',
    'noopSync.ratio',
    'noopSync.rssMb',
    'rotate.secrets',
    'rotate.files',
    'rotate.ms',
    'rotate.ratio',
    'rotate.sopsProcesses',
    'rotate.rssMb',
    'rotateFloor.ms',
    'rotateFloor.files',
    'checkN.ms',
    'checkN.rssMb',
    'checkN.sopsProcesses',
    'check10N.secrets',
    'check10N.ms',
    'check10N.cpuMs',
    'check10N.rssMb',
    'check10N.sopsProcesses',
    'github.openPr.calls',
    'github.updatePr.calls',
    'github.noop.calls',
    'github.noop.sopsProcesses',
    'github.maxCalls',
  ])
    figure(path);
  t.is(results.n, 20);
  t.is(results.check10N!.secrets / 10, 20);
  t.is(results.firstSync.files, 20);
  t.is(results.checkN.sopsProcesses, 0, 'check starts no sops process');
  t.deepEqual(results.github.violations, []);
  t.is(results.budget.length, 5);
  t.is(results.rotate.files, 2);
  t.is(results.github.noop.sopsProcesses, 0);
});
