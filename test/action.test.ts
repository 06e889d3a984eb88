/**
 * The GitHub Action as the runner runs it (node dist/action/index.js, inputs in INPUT_*), in a
 * scratch GitOps repo with the real sops and git and the loopback GitHub server.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { runAction } from './helpers/action.js';
import { type GitHubServer, startGitHubServer } from './helpers/github-server.js';
import {
  example,
  findLeaks,
  makeScenario,
  type Scenario,
  SENTINEL_TOKEN,
  TOOLS_BIN,
} from './helpers/scenario.js';

interface Ctx {
  s: Scenario;
  github: GitHubServer;
  ageKey: string;
  env: Record<string, string>;
}

async function setup(): Promise<Ctx> {
  const s = await makeScenario();
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.commitAndPush('config');
  const github = await startGitHubServer({
    tokens: [SENTINEL_TOKEN],
    repos: [{ owner: 'acme', repo: 'infra' }],
  });
  const env = {
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: 'acme/infra',
    GITOPS_SECRETS_RETRY_BASE_MS: '50',
  };
  return { s, github, ageKey: await readFile(s.keyFile, 'utf8'), env };
}

async function teardown(c: Ctx) {
  await c.github.close();
  await c.s.cleanup();
}

/** A `git` first on PATH that appends its environment to a file, then runs the real git. */
async function gitSpy(c: Ctx): Promise<{ path: string; dump: string }> {
  const bin = join(c.s.dir, 'spy-bin');
  const dump = join(c.s.dir, 'git-env.txt');
  const real = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
  await execa('mkdir', ['-p', bin]);
  await writeFile(join(bin, 'git'), `#!/bin/sh\nenv >> '${dump}'\nexec '${real}' "$@"\n`, {
    mode: 0o755,
  });
  return { path: `${bin}:${TOOLS_BIN}:${process.env.PATH}`, dump };
}

const inputs = (c: Ctx, more: Record<string, string> = {}) => ({
  command: 'sync',
  'github-token': SENTINEL_TOKEN,
  'age-key': c.ageKey,
  ...more,
});

test('sync opens one PR and sets the outputs; a second sync changes nothing (operation none); neither key nor token leaks', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const spy = await gitSpy(c);
  const first = await runAction(c.s, inputs(c), { ...c.env, PATH: spy.path });
  t.is(first.exitCode, 0, first.log);
  t.regex(first.log, /sops 3\.13\.2 from PATH/);
  t.regex(first.log, /::group::gitops-secrets sync/);
  const o = first.outputs;
  t.is(o['pull-request-number'], '1');
  t.is(o['pull-request-operation'], 'created');
  t.regex(o['pull-request-url']!, /\/acme\/infra\/pull\/1$/);
  t.regex(o.commit!, /^[0-9a-f]{40}$/);
  t.is(o.branch, 'gitops-secrets/sync');
  const changes = JSON.parse(o.changes!) as { id: string; key: string; action: string }[];
  t.deepEqual(changes.map((r) => `${r.id} ${r.key} ${r.action}`).sort(), [
    'keptn/bridge-oauth database_encrypt_secret generated',
    'keptn/bridge-oauth session_secret generated',
  ]);
  t.is(o.pending, undefined);
  t.true(first.summary.includes('<td>keptn/bridge-oauth</td><td>session_secret</td>'));
  t.regex(first.summary, /Pull request created: <a href="[^"]+\/pull\/1">#1<\/a>/);
  const pulls = c.github.pulls('acme', 'infra');
  t.is(pulls.length, 1);
  t.is(
    await c.s.git(['--git-dir', c.s.remote, 'rev-parse', 'gitops-secrets/sync'], c.s.dir),
    o.commit ?? '',
  );

  const second = await runAction(c.s, inputs(c), { ...c.env, PATH: spy.path });
  t.is(second.exitCode, 0, second.log);
  t.is(second.outputs['pull-request-operation'], 'none');
  t.is(second.outputs.commit, '');
  t.is(c.github.pulls('acme', 'infra').length, 1);

  // The key went to sops only: no git process had it (nor the token) in its environment.
  const gitEnv = await readFile(spy.dump, 'utf8');
  t.true(gitEnv.length > 0);
  t.false(gitEnv.includes('AGE-SECRET-KEY-'), 'a git process saw the age key');
  t.false(gitEnv.includes(SENTINEL_TOKEN), 'a git process saw the token in its environment');
  const file = await c.s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml');
  const values = Object.values((await c.s.decrypt(file)).data);
  const secretLines = c.ageKey.split('\n').filter((l) => l.startsWith('AGE-SECRET-KEY-'));
  const texts = [...pulls.flatMap((p) => [p.title, p.body ?? '']), first.summary, second.summary];
  t.deepEqual(await findLeaks(c.s, [...values, ...secretLines], texts), []);
  t.deepEqual(c.github.violations, []);
});

test('check sets pending: true while keys are missing, false once the PR is merged; it needs no key', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const before = await runAction(c.s, { command: 'check' }, c.env);
  t.is(before.exitCode, 0, before.log);
  t.is(before.outputs.pending, 'true');
  t.is(JSON.parse(before.outputs.changes!).length, 2);
  t.regex(before.summary, /Work is pending/);
  t.is((await runAction(c.s, inputs(c), c.env)).exitCode, 0);
  await c.s.mergePullRequest();
  const after = await runAction(c.s, { command: 'check' }, c.env);
  t.is(after.exitCode, 0, after.log);
  t.is(after.outputs.pending, 'false');
  t.deepEqual(JSON.parse(after.outputs.changes!), []);
});

test('config errors become annotations at their file and line; nothing runs', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  await c.s.writeConfig(
    'version: 1\nsecrets:\n  - name: a\n    namespace: b\n    keys:\n      k: { length: 32, charset: nope }\n',
  );
  const r = await runAction(c.s, inputs(c), c.env);
  t.is(r.exitCode, 1);
  t.regex(r.log, /::error title=gitops-secrets config,file=config\/secrets\.yaml,line=6,col=\d+::/);
  t.deepEqual(c.github.requests, []);
  const secretLines = c.ageKey.split('\n').filter((l) => l.startsWith('AGE-SECRET-KEY-'));
  t.deepEqual(await findLeaks(c.s, secretLines, [r.summary]), []);
});

test('inputs are checked: an unknown command or args fail the step with a clear error', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  const bad = await runAction(c.s, { command: 'deploy' }, c.env);
  t.is(bad.exitCode, 1);
  t.regex(bad.log, /::error::the command input must be sync, rotate or check/);
  const args = await runAction(c.s, { command: 'sync', args: '--frobnicate' }, c.env);
  t.is(args.exitCode, 1);
  t.regex(args.log, /::error::the args input: unknown option '--frobnicate'/);
});

test('rotate with args: --force --secret rotates the key, through the same command line as the CLI', async (t) => {
  const c = await setup();
  t.teardown(() => teardown(c));
  t.is((await runAction(c.s, inputs(c), c.env)).exitCode, 0);
  await c.s.mergePullRequest();
  const r = await runAction(
    c.s,
    inputs(c, {
      command: 'rotate',
      args: '--force --secret keptn/bridge-oauth --key session_secret',
    }),
    c.env,
  );
  t.is(r.exitCode, 0, r.log);
  t.is(r.outputs.branch, 'gitops-secrets/rotate');
  t.is(r.outputs['pull-request-operation'], 'created');
  t.deepEqual(
    (JSON.parse(r.outputs.changes!) as { key: string; action: string }[]).map(
      (x) => `${x.key} ${x.action}`,
    ),
    ['session_secret rotated'],
  );
});
