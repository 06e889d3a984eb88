/**
 * Concurrent runs: two (or three) processes against the same remote and the same GitHub. A
 * barrier shim holds each run's first sops call until all have planned, so they really race
 * for the push: the push lease lets exactly one win, the others exit 1 with a clear message,
 * and a rerun converges on what the winner pushed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  expectCleanState,
  expectNoLeaks,
  type Harness,
  leakCheckCount,
  makeHarness,
  sopsChain,
} from './helpers/reliability.js';

const CONFIG = `version: 1
output: secrets/{namespace}/{name}.yaml
pullRequest:
  labels: [secrets]
shared:
  db-password: { length: 40 }
secrets:
  - name: bridge-oauth
    namespace: keptn
    keys:
      session_secret: { length: 45, keepPrevious: true }
      database_encrypt_secret: { length: 32 }
  - name: analytics
    namespace: renku
    keys:
      DB_PASSWORD: { from: db-password }
  - name: reporting
    namespace: renku
    keys:
      PASSWORD: { from: db-password }
`;

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-01T00:00:00Z';
const LEASE =
  /push to origin gitops-secrets\/(sync|rotate) was rejected: the branch changed on the remote while this run worked/;

type Values = Record<string, Record<string, string>>;

async function mergedBase(h: Harness): Promise<Values> {
  const r = await h.run(['sync', '--now', T0]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await h.s.mergePullRequest('gitops-secrets/sync');
  return h.branchValues('main');
}

/** A second clone of the remote, as a second CI runner would have. */
async function secondClone(h: Harness): Promise<string> {
  const dir = join(h.s.dir, 'repo2');
  await h.s.git(['clone', '--quiet', h.s.remote, dir], h.s.dir);
  return dir;
}

async function race(
  h: Harness,
  runs: { args: string[]; cwd?: string }[],
  options: { barrier: boolean },
) {
  const barrierDir = join(h.s.dir, `barrier-${Date.now()}`);
  await mkdir(barrierDir);
  const env = options.barrier
    ? sopsChain([
        {
          name: 'barrier.sh',
          env: { SOPS_BARRIER_DIR: barrierDir, SOPS_BARRIER_COUNT: String(runs.length) },
        },
      ])
    : {};
  const started = runs.map((r) =>
    h.start([...r.args, '--json'], { env, ...(r.cwd ? { cwd: r.cwd } : {}) }),
  );
  return Promise.all(started.map((p) => h.finish(p)));
}

/** Each key has one value: shared consumers agree, every declared key is there. */
function expectConsistent(t: ExecutionContext, v: Values) {
  t.deepEqual(Object.keys(v).sort(), [
    'secrets/keptn/bridge-oauth.yaml',
    'secrets/renku/analytics.yaml',
    'secrets/renku/reporting.yaml',
  ]);
  t.is(v['secrets/keptn/bridge-oauth.yaml']!.session_secret?.length, 45);
  t.is(v['secrets/keptn/bridge-oauth.yaml']!.database_encrypt_secret?.length, 32);
  t.is(v['secrets/renku/analytics.yaml']!.DB_PASSWORD?.length, 40);
  t.is(v['secrets/renku/analytics.yaml']!.DB_PASSWORD, v['secrets/renku/reporting.yaml']!.PASSWORD);
}

/** Exactly one winner whose commit is on the remote; every loser exited 1 with the lease message. */
async function expectOneWinner(
  t: ExecutionContext,
  h: Harness,
  results: { exitCode: number; stdout: string; stderr: string }[],
  branch: string,
  options: { lossesRequired: boolean },
) {
  const head = await h.head(branch);
  const winners = results.filter((r) => r.exitCode === 0 && JSON.parse(r.stdout).commit === head);
  t.is(winners.length, 1, results.map((r) => r.stderr).join('\n---\n'));
  for (const r of results) {
    if (winners.includes(r)) continue;
    if (r.exitCode === 0) {
      // Started late enough to see the winner's branch: a no-op or an update of the same PR.
      t.false(options.lossesRequired, 'the barrier made every run plan before any push');
      t.is(JSON.parse(r.stdout).commit, null, 'a late run adds nothing');
      continue;
    }
    t.is(r.exitCode, 1, r.stderr);
    t.regex(r.stderr, LEASE);
    t.regex(r.stderr, /fix: run the command again/);
    t.notRegex(r.stderr, /\n\s+at /);
  }
}

/** No clone keeps a local job branch on values that never reached the remote. */
async function expectLocalBranches(
  t: ExecutionContext,
  h: Harness,
  branch: string,
  clones: string[],
) {
  const remote = await h.head(branch);
  for (const cwd of clones) {
    const local = (
      await h.s.git(['for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`], cwd)
    ).trim();
    if (local)
      t.is(
        local,
        remote ?? '(no remote branch)',
        `the local ${branch} of ${cwd} is what the remote has`,
      );
  }
}

interface RaceCase {
  name: string;
  job: 'sync' | 'rotate';
  clones: 1 | 2;
  runs: number;
  barrier: boolean;
}

const CASES: RaceCase[] = [
  { name: 'two syncs in one clone', job: 'sync', clones: 1, runs: 2, barrier: true },
  { name: 'two syncs in two clones', job: 'sync', clones: 2, runs: 2, barrier: true },
  { name: 'three syncs in two clones', job: 'sync', clones: 2, runs: 3, barrier: true },
  {
    name: 'two syncs started together, natural timing',
    job: 'sync',
    clones: 2,
    runs: 2,
    barrier: false,
  },
  { name: 'two forced rotations in one clone', job: 'rotate', clones: 1, runs: 2, barrier: true },
  { name: 'two forced rotations in two clones', job: 'rotate', clones: 2, runs: 2, barrier: true },
];

for (const c of CASES) {
  test(`${c.name}: one PR, the winner's values, losers exit 1 with the lease message; a rerun converges`, async (t) => {
    const h = await makeHarness(CONFIG);
    t.teardown(() => h.close());
    const base = c.job === 'rotate' ? await mergedBase(h) : undefined;
    const branch = `gitops-secrets/${c.job}`;
    const clone2 = c.clones === 2 ? await secondClone(h) : undefined;
    const args = c.job === 'sync' ? ['sync', '--now', T0] : ['rotate', '--force', '--now', T1];
    const runs = Array.from({ length: c.runs }, (_, i) => ({
      args,
      ...(i % 2 === 1 && clone2 ? { cwd: clone2 } : {}),
    }));
    const results = await race(h, runs, { barrier: c.barrier });
    await expectOneWinner(t, h, results, branch, { lossesRequired: c.barrier });

    const won = await h.branchValues(branch);
    await expectLocalBranches(t, h, branch, [h.s.repo, ...(clone2 ? [clone2] : [])]);
    expectConsistent(t, won);
    if (base) {
      t.is(
        won['secrets/keptn/bridge-oauth.yaml']!.session_secret_PREVIOUS,
        base['secrets/keptn/bridge-oauth.yaml']!.session_secret,
        'the previous value is the deployed one, not a loser’s',
      );
      t.not(
        won['secrets/renku/analytics.yaml']!.DB_PASSWORD,
        base['secrets/renku/analytics.yaml']!.DB_PASSWORD,
      );
    }
    t.is((await h.commitsAhead(branch)).length, 1);
    const open = () => h.openPulls().filter((p) => p.head.ref === branch);
    t.is(open().length, 1, 'exactly one open PR');

    // Every loser runs again (sync as it was; the scheduled, unforced rotate): nothing changes.
    const rerunArgs = c.job === 'sync' ? args : ['rotate', '--now', T1];
    for (const cwd of [h.s.repo, ...(clone2 ? [clone2] : [])]) {
      const r = await h.run([...rerunArgs, '--json'], { cwd });
      t.is(r.exitCode, 0, r.stderr);
      t.is(JSON.parse(r.stdout).commit, null);
    }
    t.deepEqual(await h.branchValues(branch), won, 'values are what the winner pushed');
    t.is(open().length, 1);
    t.is(h.pulls().filter((p) => p.head.ref === branch).length, 1, 'no duplicate PR, ever');
    t.deepEqual(h.github.violations, []);
    await expectCleanState(t, h);
    await expectNoLeaks(t, h);
  });
}

test('a sync and a rotation at once work on their own branches: both succeed, one PR each', async (t) => {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  const base = await mergedBase(h);
  await h.s.writeConfig(
    `${CONFIG}  - name: api\n    namespace: keptn\n    keys:\n      token: { bytes: 24, encoding: hex }\n`,
  );
  await h.s.commitAndPush('add api');
  const [sync, rotate] = await race(
    h,
    [{ args: ['sync', '--now', T1] }, { args: ['rotate', '--force', '--now', T1] }],
    { barrier: true },
  );
  t.is(sync!.exitCode, 0, sync!.stderr);
  t.is(rotate!.exitCode, 0, rotate!.stderr);
  const synced = await h.branchValues('gitops-secrets/sync');
  t.regex(synced['secrets/keptn/api.yaml']!.token ?? '', /^[0-9a-f]{48}$/);
  t.deepEqual(synced['secrets/keptn/bridge-oauth.yaml'], base['secrets/keptn/bridge-oauth.yaml']);
  const rotated = await h.branchValues('gitops-secrets/rotate');
  t.not(
    rotated['secrets/keptn/bridge-oauth.yaml']!.session_secret,
    base['secrets/keptn/bridge-oauth.yaml']!.session_secret,
  );
  t.deepEqual(
    h
      .openPulls()
      .map((p) => p.head.ref)
      .sort(),
    ['gitops-secrets/rotate', 'gitops-secrets/sync'],
  );
  t.is(h.pulls().length, 2, 'the merged sync PR is the one reused, no other');
  await expectCleanState(t, h);
  await expectNoLeaks(t, h);
});

test.after.always('counts', (t) => {
  t.log(
    `concurrent scenarios: ${CASES.length + 1}; leak checks: ${JSON.stringify(leakCheckCount())}`,
  );
});
