/**
 * Crash at any step: each test kills a sync or a forced rotation with SIGKILL at one point (a
 * checkpoint of the job, in the middle of the sops calls, or while a GitHub call is in flight),
 * then runs the same command again without faults. The rerun must converge: one open PR, one
 * commit on the branch, every key generated once from the moment it was pushed, nothing left
 * behind (worktrees, temp dirs, locks), and no plaintext anywhere.
 */
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Step } from '../src/checkpoint.js';
import { killGroupAt, type Moment, runDirs } from './helpers/group-kill.js';
import { PR_CONFIG_HEAD } from './helpers/plan-fixtures.js';
import {
  expectCleanState,
  expectNoLeaks,
  type Harness,
  leakCheckCount,
  leftoverValues,
  makeHarness,
  sopsChain,
  waitForOrphans,
} from './helpers/reliability.js';

const CONFIG = `${PR_CONFIG_HEAD}shared:
  db-password: { length: 40 }
secrets:
  - name: bridge-oauth
    namespace: keptn
    restart: kubectl delete pods -n keptn --selector=app.kubernetes.io/name=bridge
    keys:
      session_secret: { length: 45, rotateEvery: 90d, keepPrevious: true }
      database_encrypt_secret: { length: 32 }
  - name: analytics
    namespace: renku
    keys:
      DB_PASSWORD: { from: db-password }
      API_KEY: { uuid: true }
  - name: reporting
    namespace: renku
    keys:
      PASSWORD: { from: db-password }
      SIGNING_KEY: { bytes: 32, encoding: base64 }
`;

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-01T00:00:00Z';
const FILES = [
  'secrets/keptn/bridge-oauth.yaml',
  'secrets/renku/analytics.yaml',
  'secrets/renku/reporting.yaml',
];

type Crash =
  | { kind: 'checkpoint'; step: Step }
  | { kind: 'sops'; call: number; when: 'before' | 'after' }
  | { kind: 'github'; method: string; path: string; what: string };

const describe = (c: Crash): string =>
  c.kind === 'checkpoint'
    ? `at checkpoint "${c.step}"`
    : c.kind === 'sops'
      ? `${c.when} sops call #${c.call}`
      : `while ${c.what} is in flight`;

const COMMON: Crash[] = [
  { kind: 'checkpoint', step: 'planned' },
  { kind: 'checkpoint', step: 'applied' },
  { kind: 'checkpoint', step: 'committed' },
  { kind: 'checkpoint', step: 'pushed' },
  { kind: 'checkpoint', step: 'pull-request' },
  {
    kind: 'github',
    method: 'POST',
    path: '/repos/{owner}/{repo}/issues/{issue_number}/labels',
    what: 'labelling the new PR',
  },
];

interface Job {
  name: string;
  branch: string;
  args: string[];
  /** Sync: 3 encrypts (2 in parallel). Rotate: ~11 in-place sets and one decrypt. */
  crashes: Crash[];
}

const JOBS: Job[] = [
  {
    name: 'sync',
    branch: 'gitops-secrets/sync',
    args: ['sync', '--now', T0],
    crashes: [
      ...COMMON,
      { kind: 'sops', call: 1, when: 'before' },
      { kind: 'sops', call: 2, when: 'after' },
    ],
  },
  {
    name: 'rotate --force',
    branch: 'gitops-secrets/rotate',
    args: ['rotate', '--force', '--now', T1],
    crashes: [
      ...COMMON,
      { kind: 'sops', call: 2, when: 'before' },
      { kind: 'sops', call: 6, when: 'after' },
    ],
  },
];

/** Sync at T0 and merge, so a rotation has keys to rotate; returns the base's values. */
async function mergedBase(h: Harness): Promise<Record<string, Record<string, string>>> {
  const r = await h.run(['sync', '--now', T0]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await h.s.mergePullRequest('gitops-secrets/sync');
  return h.branchValues('main');
}

async function crashRun(h: Harness, job: Job, crash: Crash) {
  const counter = join(h.s.dir, 'sops-calls');
  let env: Record<string, string | undefined> = {};
  if (crash.kind === 'checkpoint') env = { GITOPS_SECRETS_TEST_KILL_AT: crash.step };
  if (crash.kind === 'sops')
    env = sopsChain([
      {
        name: 'kill-parent-at.sh',
        env: {
          SOPS_KILL_AT: String(crash.call),
          SOPS_KILL_WHEN: crash.when,
          SOPS_KILL_COUNTER: counter,
        },
      },
    ]);
  if (crash.kind === 'github') h.github.delayNext({ method: crash.method, path: crash.path });
  const p = h.start(job.args, { env });
  if (crash.kind === 'github') {
    const seen = () =>
      h.github.requests.some((q) => q.method === crash.method && q.status === undefined);
    const until = Date.now() + 60_000;
    while (!seen() && p.exitCode === null && Date.now() < until)
      await new Promise((r) => setTimeout(r, 25));
    p.kill('SIGKILL');
  }
  const r = await h.finish(p);
  await waitForOrphans(`${counter}.pids`);
  return r;
}

function expectKeys(t: ExecutionContext, values: Record<string, Record<string, string>>) {
  t.deepEqual(Object.keys(values).sort(), FILES);
  const bridge = values['secrets/keptn/bridge-oauth.yaml']!;
  const analytics = values['secrets/renku/analytics.yaml']!;
  const reporting = values['secrets/renku/reporting.yaml']!;
  t.is(bridge.session_secret?.length, 45);
  t.is(bridge.database_encrypt_secret?.length, 32);
  t.is(analytics.DB_PASSWORD?.length, 40);
  t.is(analytics.DB_PASSWORD, reporting.PASSWORD, 'one shared value in every consumer');
  t.regex(analytics.API_KEY ?? '', /^[0-9a-f-]{36}$/);
  t.is(Buffer.from(reporting.SIGNING_KEY ?? '', 'base64').length, 32);
}

/**
 * Regression tests for bugs these crash tests found: a forced rotation run again after its push
 * rotated the pushed values a second time (and `_PREVIOUS` then held a never-deployed value),
 * and a PR whose reviewer request was lost to a crash never got its reviewers.
 */
async function crashThenRerun(t: ExecutionContext, job: Job, crash: Crash) {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  const base = job.name === 'sync' ? undefined : await mergedBase(h);
  const pullsBefore = h.pulls().length;

  const crashed = await crashRun(h, job, crash);
  t.is(crashed.signal, 'SIGKILL', `the run was killed: ${crashed.stderr}`);
  // A crash inside the worktree step leaves its directory behind, for the rerun to clear away;
  // git keeps no record of it (no registered worktree).
  const worktrees = (await h.s.git(['worktree', 'list', '--porcelain']))
    .split('\n')
    .filter((l) => l.startsWith('worktree ')).length;
  t.is(worktrees, 1, 'only the user checkout is a worktree');
  const inWorktree =
    crash.kind === 'sops' ||
    (crash.kind === 'checkpoint' && (crash.step === 'applied' || crash.step === 'committed'));
  const leftBehind = async () =>
    (await readdir(h.s.env.TMPDIR!)).filter((n) => n.startsWith('gitops-secrets-wt-'));
  t.is(
    (await leftBehind()).length,
    inWorktree ? 1 : 0,
    'a stale worktree directory exactly when killed inside that step',
  );
  // Right after the crash: whatever it left on disk holds no plaintext.
  await leftoverValues(h);
  await expectNoLeaks(t, h);

  const pushedSha = await h.head(job.branch);
  const pushed = pushedSha ? await h.branchValues(job.branch) : undefined;

  const rerun = await h.run([...job.args, '--json']);
  t.is(rerun.exitCode, 0, rerun.stderr);
  t.deepEqual(await leftBehind(), [], 'the rerun removed what the killed run left');
  const after = await h.branchValues(job.branch);
  return { h, base, pullsBefore, pushed, after };
}

let crashPoints = 0;

for (const job of JOBS) {
  for (const crash of job.crashes) {
    crashPoints++;
    test(`${job.name}: killed ${describe(crash)}, the rerun converges`, async (t) => {
      const { h, base, pullsBefore, pushed, after } = await crashThenRerun(t, job, crash);
      expectKeys(t, after);
      if (pushed)
        t.deepEqual(after, pushed, 'values pushed before the crash are kept, never made again');
      if (base) {
        const b = base['secrets/keptn/bridge-oauth.yaml']!;
        const a = after['secrets/keptn/bridge-oauth.yaml']!;
        t.is(a.session_secret_PREVIOUS, b.session_secret, 'the previous value is the base value');
      }
      if (base) {
        const b = base['secrets/keptn/bridge-oauth.yaml']!;
        const a = after['secrets/keptn/bridge-oauth.yaml']!;
        t.not(a.session_secret, b.session_secret, 'the key was rotated');
        t.not(
          after['secrets/renku/analytics.yaml']!.DB_PASSWORD,
          base['secrets/renku/analytics.yaml']!.DB_PASSWORD,
          'the shared value was rotated',
        );
      }
      t.is((await h.commitsAhead(job.branch)).length, 1, 'one commit on the branch');

      const open = h.openPulls().filter((p) => p.head.ref === job.branch);
      t.is(open.length, 1, 'exactly one open PR for the branch');
      t.is(h.pulls().length, pullsBefore + 1, 'no duplicate PR was ever opened');
      const pr = open[0]!;
      t.deepEqual(pr.labels, ['secrets']);
      t.deepEqual(pr.requestedReviewers, ['alice'], 'the reviewers are requested');
      t.regex(pr.body ?? '', /session_secret/);
      t.deepEqual(h.github.violations, []);

      // Converged: one more run (the scheduled, unforced one for rotations) changes nothing.
      const again = await h.run([
        ...(job.name === 'sync' ? job.args : ['rotate', '--now', T1]),
        '--json',
      ]);
      t.is(again.exitCode, 0, again.stderr);
      t.is(JSON.parse(again.stdout).commit, null, 'nothing left to do');
      t.deepEqual(await h.branchValues(job.branch), after);

      await expectCleanState(t, h);
      await expectNoLeaks(t, h);
    });
  }
}

test('fixed bug: rotate --force killed after its push; the rerun keeps the pushed values and _PREVIOUS stays the deployed value', async (t) => {
  const job = JOBS[1]!;
  const { base, pushed, after } = await crashThenRerun(t, job, {
    kind: 'checkpoint',
    step: 'pushed',
  });
  t.deepEqual(after, pushed);
  t.is(
    after['secrets/keptn/bridge-oauth.yaml']!.session_secret_PREVIOUS,
    base!['secrets/keptn/bridge-oauth.yaml']!.session_secret,
  );
});

test('fixed bug: a PR whose reviewer request was lost to a crash gets its reviewers on the rerun', async (t) => {
  const { h } = await crashThenRerun(t, JOBS[0]!, COMMON[5]!);
  t.deepEqual(h.openPulls()[0]?.requestedReviewers, ['alice']);
});

/**
 * The whole process group killed (the CLI and every process it started), at each phase of a
 * sync. The next, normal sync must remove every directory the killed run left under TMPDIR
 * (whatever state it was in), succeed, and leave the remote consistent: one commit on the
 * branch, values pushed before the kill kept, one open PR.
 */
const GROUP_MOMENTS: { what: string; moment: Moment }[] = [
  { what: 'before its first sops call', moment: { kind: 'sops', call: 1, when: 'before' } },
  { what: 'in the middle of the sops calls', moment: { kind: 'sops', call: 2, when: 'after' } },
  { what: 'at the push (not landed)', moment: { kind: 'hook', hook: 'pre-receive' } },
  { what: 'at the push (landed)', moment: { kind: 'hook', hook: 'post-receive' } },
  { what: 'during the cleanup of its temporary directory', moment: { kind: 'cleanup' } },
  {
    what: 'while the PR is created',
    moment: { kind: 'github', method: 'POST', path: '/repos/{owner}/{repo}/pulls' },
  },
];

async function groupKilledThenSync(t: ExecutionContext, h: Harness, moment: Moment) {
  const job = JOBS[0]!;
  const { result, held } = await killGroupAt(h, job.args, moment);
  t.true(held, `the run reached the moment and was killed there: exit ${result.exitCode}`);
  t.is(result.signal, 'SIGKILL');
  t.log(`left under TMPDIR by the killed run: ${(await runDirs(h)).join(', ') || 'nothing'}`);
  await leftoverValues(h);
  const pushed = (await h.head(job.branch)) ? await h.branchValues(job.branch) : undefined;
  const rerun = await h.run([...job.args, '--json']);
  t.is(rerun.exitCode, 0, rerun.stderr);
  t.deepEqual(await runDirs(h), [], 'no directory of the killed run is left');
  const after = await h.branchValues(job.branch);
  expectKeys(t, after);
  if (pushed) t.deepEqual(after, pushed, 'values pushed before the kill are kept');
  t.is((await h.commitsAhead(job.branch)).length, 1, 'one commit on the branch');
  t.is(h.openPulls().filter((p) => p.head.ref === job.branch).length, 1, 'one open PR');
  const again = await h.run([...job.args, '--json']);
  t.is(again.exitCode, 0, again.stderr);
  t.is(JSON.parse(again.stdout).commit, null, 'nothing left to do');
  await expectCleanState(t, h);
  await expectNoLeaks(t, h);
}

for (const { what, moment } of GROUP_MOMENTS) {
  test(`sync: its whole process group killed ${what}, the next sync removes what it left and converges`, async (t) => {
    const h = await makeHarness(CONFIG);
    t.teardown(() => h.close());
    await groupKilledThenSync(t, h, moment);
  });
}

test('fixed bug: what a kill part-way through removing a temporary directory leaves (no owner file, only ciphertext, an empty directory) is removed by the next sync', async (t) => {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  const { held } = await killGroupAt(h, JOBS[0]!.args, { kind: 'sops', call: 2, when: 'after' });
  t.true(held);
  const [left, ...more] = await runDirs(h);
  t.truthy(left, 'the killed run left its directory');
  t.deepEqual(more, []);
  // A recursive removal deletes entries in directory order: any of them may be gone already,
  // the file naming the owner among them. The same run's name, three states.
  const tmp = h.s.env.TMPDIR!;
  const stem = left!.slice(0, left!.lastIndexOf('-'));
  await cp(join(tmp, left!), join(tmp, `${stem}-cipher`), { recursive: true });
  for (const name of await readdir(join(tmp, `${stem}-cipher`)))
    if (name !== 'tree') await rm(join(tmp, `${stem}-cipher`, name), { recursive: true });
  await mkdir(join(tmp, `${stem}-empty0`));
  for (const name of ['owner', 'index']) await rm(join(tmp, left!, name), { force: true });
  t.log(`made: ${(await runDirs(h)).join(', ')}`);
  const rerun = await h.run([...JOBS[0]!.args, '--json']);
  t.is(rerun.exitCode, 0, rerun.stderr);
  t.deepEqual(await runDirs(h), [], 'every half-deleted directory of the dead run is removed');
  await expectCleanState(t, h);
  await expectNoLeaks(t, h);
});

test.after.always('counts', (t) => {
  t.log(`crash points: ${crashPoints}; leak checks: ${JSON.stringify(leakCheckCount())}`);
});
