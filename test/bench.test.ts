/**
 * The benchmark at N = 20, so that it cannot rot. Asserts only that it completes, that the no-op
 * sync starts no sops process, and that every figure is there; times are not asserted here
 * (that is the benchmark's job: `npm run bench`).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
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
  t.regex(String(r.stdout), /\| target \(issue 6\) \|/);

  const results = JSON.parse(await readFile(out, 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  t.is(results.noopSync!.sopsProcesses, 0);
  t.is(results.noopSync!.commit, null);
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
    'firstSync.cpuRatio',
    'firstSync.sopsProcesses',
    'firstSync.files',
    'firstSync.rssMb',
    'noopSync.ms',
    'noopSync.ratio',
    'noopSync.cpuRatio',
    'noopSync.rssMb',
    'rotate.secrets',
    'rotate.files',
    'rotate.ms',
    'rotate.floorMs',
    'rotate.ratio',
    'rotate.cpuRatio',
    'rotate.sopsProcesses',
    'rotate.rssMb',
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
    'github.maxCalls',
  ])
    figure(path);
  t.is(results.n as unknown as number, 20);
  t.is((results.check10N!.secrets as number) / 10, 20);
  t.is(results.firstSync!.files, 20);
  t.is(results.checkN!.sopsProcesses, 0, 'check starts no sops process');
  t.deepEqual(results.github!.violations, []);
  t.is((results.targets as unknown as unknown[]).length, 7);
});
