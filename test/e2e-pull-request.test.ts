import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import {
  type GitHubServer,
  secondaryRateLimit,
  serverError,
  startGitHubServer,
} from './helpers/github-server.js';
import { type GitHubCtx, setupWithGitHub, teardownGitHub } from './helpers/github-setup.js';
import { example, findLeaks, makeScenario, SENTINEL_TOKEN } from './helpers/scenario.js';

const KEPTN_LABELED = async () =>
  (await example('keptn-bridge.yaml')).replace(
    'labels: [secrets]',
    'labels: [secrets]\n  reviewers: [alice]\n  teamReviewers: [platform]',
  );

async function setup(config?: string): Promise<GitHubCtx> {
  return setupWithGitHub(config ?? (await KEPTN_LABELED()));
}

const writes = (g: GitHubServer) => g.requests.filter((r) => r.method !== 'GET');

test('first sync opens one PR with labels, reviewers and a reviewer-ready body; the second changes nothing', async (t) => {
  const c = await setup();
  t.teardown(() => teardownGitHub(c));
  const outFile = join(c.s.dir, 'github-output.txt');
  await writeFile(outFile, '');
  const r = await c.s.run(['sync', '--json'], {
    env: { ...c.env, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outFile },
  });
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    pullRequest: { number: number; url: string; action: string };
  };
  t.is(out.pullRequest.number, 1);
  t.is(out.pullRequest.action, 'created');
  t.regex(r.stderr, /opened #1 /);
  const pulls = c.github.pulls('acme', 'infra');
  t.is(pulls.length, 1);
  const pr = pulls[0]!;
  t.is(pr.head.ref, 'gitops-secrets/sync');
  t.is(pr.base.ref, 'main');
  t.is(pr.title, 'chore(secrets): generate 2 keys in keptn/bridge-oauth');
  t.deepEqual(pr.labels, ['secrets']);
  t.deepEqual(pr.requestedReviewers, ['alice']);
  t.deepEqual(pr.requestedTeams, ['platform']);
  t.true(pr.body!.includes('| `keptn/bridge-oauth` | `session_secret` | generated | missing |'));
  t.true(pr.body!.includes('kubectl delete pods -n keptn'));
  t.true(pr.body!.includes('### Reviewer checklist'));
  const ghOut = await readFile(outFile, 'utf8');
  t.true(ghOut.includes('pull-request-number=1\n'));
  t.true(ghOut.includes(`pull-request-url=${out.pullRequest.url}\n`));

  const before = c.github.requests.length;
  const again = await c.s.run(['sync', '--json'], { env: c.env });
  t.is(again.exitCode, 0, again.stderr);
  t.is(JSON.parse(again.stdout).commit, null);
  t.is(JSON.parse(again.stdout).pullRequest.action, 'unchanged');
  t.deepEqual(
    c.github.requests.slice(before).filter((q) => q.method !== 'GET'),
    [],
    'no API write on a run with nothing new',
  );
  t.is(c.github.pulls('acme', 'infra').length, 1);
  t.deepEqual(c.github.violations, []);

  const values = Object.values(
    (await c.s.decrypt(await c.s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml')))
      .data,
  );
  const bodies = c.github.requests.map((q) => JSON.stringify(q.body ?? ''));
  t.deepEqual(await findLeaks(c.s, values, [...bodies, ghOut, pr.body ?? '']), []);
});

test('a config change updates the same PR and branch; it never opens a second one', async (t) => {
  const c = await setup();
  t.teardown(() => teardownGitHub(c));
  t.is((await c.s.run(['sync'], { env: c.env })).exitCode, 0);
  const head1 = await c.s.git(
    ['--git-dir', c.s.remote, 'rev-parse', 'gitops-secrets/sync'],
    c.s.dir,
  );
  await c.s.writeConfig(
    `${await KEPTN_LABELED()}  - name: api\n    namespace: keptn\n    keys:\n      token: { bytes: 32, encoding: hex }\n`,
  );
  await c.s.commitAndPush('add api secret');
  const r = await c.s.run(['sync'], { env: c.env });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /updated #1 /);
  const head2 = await c.s.git(
    ['--git-dir', c.s.remote, 'rev-parse', 'gitops-secrets/sync'],
    c.s.dir,
  );
  t.not(head2, head1);
  const pulls = c.github.pulls('acme', 'infra');
  t.is(pulls.length, 1);
  t.true(pulls[0]!.body!.includes('| `keptn/api` | `token` | generated | missing |'));
  t.true(
    pulls[0]!.body!.includes('`session_secret`'),
    'the body still lists what earlier runs generated',
  );
  t.is(pulls[0]!.title, 'chore(secrets): generate 3 keys in keptn/api, keptn/bridge-oauth');
  t.is(c.github.requests.filter((q) => q.operationId === 'pulls/create').length, 1);
  t.deepEqual(c.github.violations, []);
});

test('500s and a secondary rate limit are retried; the PR is created once', async (t) => {
  const c = await setup();
  t.teardown(() => teardownGitHub(c));
  c.github.failNext({
    method: 'GET',
    path: '/repos/{owner}/{repo}/pulls',
    ...secondaryRateLimit({ retryAfter: 1 }),
  });
  c.github.failNext({
    method: 'POST',
    path: '/repos/{owner}/{repo}/pulls',
    ...serverError(502),
    times: 2,
  });
  const r = await c.s.run(['sync', '--json'], { env: c.env });
  t.is(r.exitCode, 0, r.stderr);
  t.is(JSON.parse(r.stdout).pullRequest.number, 1);
  t.is(c.github.pulls('acme', 'infra').length, 1);
  t.is(c.github.requests.filter((q) => q.operationId === 'pulls/create').length, 3);
  t.deepEqual(c.github.violations, []);
});

test('422 "already exists" from a race is resolved by updating the PR that won', async (t) => {
  const c = await setup();
  t.teardown(() => teardownGitHub(c));
  c.github.addPull('acme', 'infra', {
    title: 'opened by a concurrent run',
    head: 'gitops-secrets/sync',
    base: 'main',
    body: 'x',
  });
  // The look-up misses it (as if it were opened a moment later); the create then answers 422.
  c.github.failNext({ method: 'GET', path: '/repos/{owner}/{repo}/pulls', status: 200, body: [] });
  const r = await c.s.run(['sync', '--json'], { env: c.env });
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.pullRequest.number, 1);
  t.is(out.pullRequest.action, 'updated');
  const pulls = c.github.pulls('acme', 'infra');
  t.is(pulls.length, 1);
  t.is(pulls[0]!.title, 'chore(secrets): generate 2 keys in keptn/bridge-oauth');
});

const failures = [
  {
    name: '401 bad token',
    token: 'ghp_wrong',
    repo: 'acme/infra',
    status: /401/,
    fix: /token .*invalid or expired/,
  },
  {
    name: '404 unknown repository',
    token: SENTINEL_TOKEN,
    repo: 'acme/nope',
    status: /404/,
    fix: /check the repository name \(acme\/nope/,
  },
];
for (const f of failures) {
  test(`${f.name}: exit 1 with a message naming the fix, and the token never shown`, async (t) => {
    const c = await setup();
    t.teardown(() => teardownGitHub(c));
    const r = await c.s.run(['sync'], {
      env: { ...c.env, GITHUB_TOKEN: f.token, GITHUB_REPOSITORY: f.repo },
    });
    t.is(r.exitCode, 1);
    t.regex(r.stderr, f.status);
    t.regex(r.stderr, f.fix);
    t.notRegex(r.stderr, /\n\s+at /);
    t.deepEqual(await findLeaks(c.s, [f.token]), []);
  });
}

test('403 on a read-only token: exit 1 naming the scopes the token needs', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.commitAndPush('config');
  const github = await startGitHubServer({
    tokens: [],
    readOnlyTokens: [SENTINEL_TOKEN],
    repos: [{ owner: 'acme', repo: 'infra' }],
  });
  t.teardown(() => github.close());
  const r = await s.run(['sync'], {
    env: {
      GITHUB_TOKEN: SENTINEL_TOKEN,
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: 'acme/infra',
    },
  });
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /403/);
  t.regex(r.stderr, /pull-requests: write/);
  t.deepEqual(await findLeaks(s, []), []);
});

test('inside GitHub Actions without a token: the branch is pushed, then exit 1', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.commitAndPush('config');
  const r = await s.run(['sync'], { env: { GITHUB_ACTIONS: 'true' } });
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /no GITHUB_TOKEN or GH_TOKEN is set/);
  t.not(await s.git(['--git-dir', s.remote, 'branch', '--list', 'gitops-secrets/sync'], s.dir), '');
});

test('commits pushed to the branch by someone else are never overwritten', async (t) => {
  const c = await setup();
  t.teardown(() => teardownGitHub(c));
  t.is((await c.s.run(['sync'], { env: c.env })).exitCode, 0);
  await c.s.git(['fetch', '--quiet', 'origin']);
  await c.s.git(['checkout', '--quiet', '-b', 'hand', 'origin/gitops-secrets/sync']);
  await writeFile(join(c.s.repo, 'hand.txt'), 'a reviewer fixed something\n');
  await c.s.git(['add', 'hand.txt']);
  await c.s.git(['commit', '--quiet', '-m', 'fix by hand']);
  await c.s.git(['push', '--quiet', 'origin', 'HEAD:gitops-secrets/sync']);
  await c.s.git(['checkout', '--quiet', 'main']);
  const head = await c.s.git(
    ['--git-dir', c.s.remote, 'rev-parse', 'gitops-secrets/sync'],
    c.s.dir,
  );
  await c.s.writeConfig(
    `${await KEPTN_LABELED()}  - name: api\n    namespace: keptn\n    keys:\n      token: { length: 10 }\n`,
  );
  await c.s.commitAndPush('more');
  const r = await c.s.run(['sync'], { env: c.env });
  t.is(r.exitCode, 1);
  t.regex(
    r.stderr,
    /gitops-secrets\/sync has 1 commit not made by gitops-secrets: \w+ fix by hand/,
  );
  t.is(await c.s.git(['--git-dir', c.s.remote, 'rev-parse', 'gitops-secrets/sync'], c.s.dir), head);
  t.is(
    writes(c.github).length,
    4,
    'only the first run wrote to GitHub (create, labels, reviewers, final body)',
  );
});
