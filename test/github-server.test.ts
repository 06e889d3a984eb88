import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { gitHubOpenApi } from './helpers/github-openapi-validator.js';
import { ROUTES } from './helpers/github-routes.js';
import type { GitHubServer, GitHubServerOptions } from './helpers/github-server.js';
import {
  primaryRateLimit,
  secondaryRateLimit,
  serverError,
  startGitHubServer,
} from './helpers/github-server.js';

const OWNER = 'acme';
const REPO = 'infra';
const PULLS = `/repos/${OWNER}/${REPO}/pulls`;

async function setup(
  t: ExecutionContext,
  options: GitHubServerOptions = {},
): Promise<GitHubServer> {
  const github = await startGitHubServer({ repos: [{ owner: OWNER, repo: REPO }], ...options });
  t.teardown(() => github.close());
  return github;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

const client = (github: GitHubServer, auth = 'test-token') =>
  new Octokit({ baseUrl: github.url, auth, log: silent });

function call(
  github: GitHubServer,
  method: string,
  path: string,
  body?: unknown,
  token = 'test-token',
) {
  const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${github.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function rejectsWithStatus(t: ExecutionContext, promise: Promise<unknown>, status: number) {
  const error = await t.throwsAsync(promise);
  const { response } = error as Error & {
    response?: { status: number; data: { message: string } };
  };
  t.is(response?.status, status);
  return response?.data;
}

const createPr = (octokit: Octokit, head: string, extra: Record<string, unknown> = {}) =>
  octokit.pulls.create({
    owner: OWNER,
    repo: REPO,
    title: `Update ${head}`,
    head,
    base: 'main',
    ...extra,
  });

test('fixture compiles and every extracted operation has a handler', (t) => {
  const api = gitHubOpenApi();
  t.true(api.compileAll() > 10);
  t.deepEqual(api.operations.map((op) => op.operationId).sort(), Object.keys(ROUTES).sort());
});

test('GET repo returns the repository with GitHub-like headers', async (t) => {
  const github = await setup(t, { repos: [{ owner: OWNER, repo: REPO, defaultBranch: 'trunk' }] });
  const { data, headers, status } = await client(github).repos.get({ owner: OWNER, repo: REPO });
  t.is(status, 200);
  t.is(data.default_branch, 'trunk');
  t.is(data.full_name, `${OWNER}/${REPO}`);
  t.regex(String(headers['content-type']), /^application\/json/);
  t.is(headers['x-ratelimit-limit'], '5000');
  t.is(headers['x-ratelimit-remaining'], '4999');
  t.truthy(headers['x-ratelimit-reset']);
  t.truthy(headers['x-github-request-id']);
  const casing = await client(github).repos.get({ owner: 'ACME', repo: 'Infra' });
  t.is(casing.data.full_name, `${OWNER}/${REPO}`);
  t.deepEqual(github.violations, []);
});

test('create, list, get and update pull requests', async (t) => {
  const github = await setup(t);
  const octokit = client(github);
  const created = await createPr(octokit, 'secrets/rotate', { body: 'hello', draft: true });
  t.is(created.status, 201);
  t.is(created.data.number, 1);
  t.is(created.data.head.ref, 'secrets/rotate');
  t.is(created.data.head.label, `${OWNER}:secrets/rotate`);
  t.is(created.data.base.ref, 'main');
  t.true(created.data.draft);
  t.is(created.data.user?.login, 'gitops-bot');
  t.is(created.headers.location, created.data.url);
  t.is(created.data.html_url, `${github.url}/${OWNER}/${REPO}/pull/1`);
  const second = await createPr(octokit, 'other');
  t.is(second.data.number, 2);

  const list = await octokit.pulls.list({
    owner: OWNER,
    repo: REPO,
    head: `${OWNER}:secrets/rotate`,
  });
  t.deepEqual(
    list.data.map((p) => p.number),
    [1],
  );
  const all = await octokit.pulls.list({ owner: OWNER, repo: REPO, base: 'main' });
  t.deepEqual(
    all.data.map((p) => p.number),
    [2, 1],
  );

  const updated = await octokit.pulls.update({
    owner: OWNER,
    repo: REPO,
    pull_number: 1,
    title: 'New title',
    body: 'new body',
    state: 'closed',
  });
  t.is(updated.data.state, 'closed');
  t.truthy(updated.data.closed_at);
  const fetched = await octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
  t.is(fetched.data.title, 'New title');
  const open = await octokit.pulls.list({ owner: OWNER, repo: REPO, state: 'open' });
  t.deepEqual(
    open.data.map((p) => p.number),
    [2],
  );
  const closed = await octokit.pulls.list({ owner: OWNER, repo: REPO, state: 'closed' });
  t.deepEqual(
    closed.data.map((p) => p.number),
    [1],
  );
  t.like(github.pulls(OWNER, REPO)[0], {
    number: 1,
    state: 'closed',
    title: 'New title',
    body: 'new body',
    head: { ref: 'secrets/rotate' },
    base: { ref: 'main' },
  });
  t.deepEqual(github.violations, []);
  t.deepEqual(github.warnings, []);
});

test('duplicate head answers 422 "A pull request already exists"', async (t) => {
  const github = await setup(t);
  const octokit = client(github);
  await createPr(octokit, 'feature');
  const data = (await rejectsWithStatus(t, createPr(octokit, `${OWNER}:feature`), 422)) as {
    message: string;
    errors: Array<{ resource: string; code: string; message: string }>;
  };
  t.is(data.message, 'Validation Failed');
  t.deepEqual(data.errors, [
    {
      resource: 'PullRequest',
      code: 'custom',
      message: `A pull request already exists for ${OWNER}:feature.`,
    },
  ]);
  // Once closed, a new PR from the same head may be opened; reopening the old one then fails.
  await octokit.pulls.update({ owner: OWNER, repo: REPO, pull_number: 1, state: 'closed' });
  t.is((await createPr(octokit, 'feature')).data.number, 2);
  await rejectsWithStatus(
    t,
    octokit.pulls.update({ owner: OWNER, repo: REPO, pull_number: 1, state: 'open' }),
    422,
  );
  t.deepEqual(github.violations, []);
});

test('missing base and malformed bodies are rejected with 422 and recorded', async (t) => {
  const github = await setup(t);
  const noBase = await call(github, 'POST', PULLS, { title: 'x', head: 'feature' });
  t.is(noBase.status, 422);
  t.is(
    ((await noBase.json()) as { message: string }).message,
    'Invalid request.\n\n"base" wasn\'t supplied.',
  );
  t.is(github.takeViolations().length, 1);

  const badTitle = await call(github, 'POST', PULLS, { title: 5, head: 'feature', base: 'main' });
  t.is(badTitle.status, 422);
  const body = (await badTitle.json()) as { message: string; documentation_url: string };
  t.is(body.message, "Invalid request.\n\nFor 'properties/title', 5 is not a string.");
  t.regex(body.documentation_url, /create-a-pull-request/);
  t.deepEqual(github.takeViolations(), [
    `request body of POST ${PULLS} (pulls/create): /title must be string`,
  ]);
  t.deepEqual(github.pulls(OWNER, REPO), []);

  const notJson = await call(github, 'POST', PULLS, '{nope');
  t.is(notJson.status, 400);
  t.is(github.takeViolations().length, 1);
  t.deepEqual(github.violations, []);
});

test('401 for missing or unknown tokens, 404 for unknown repos and pulls, 403 for read-only', async (t) => {
  const github = await setup(t, { readOnlyTokens: ['read-only-token'] });
  const anonymous = await call(github, 'GET', `/repos/${OWNER}/${REPO}`, undefined, '');
  t.is(anonymous.status, 401);
  const data = await rejectsWithStatus(
    t,
    client(github, 'wrong-secret').repos.get({ owner: OWNER, repo: REPO }),
    401,
  );
  t.is(data?.message, 'Bad credentials');
  t.false(JSON.stringify(github.requests).includes('wrong-secret'));
  t.false(JSON.stringify(github.requests).includes('test-token'));
  t.deepEqual(
    github.requests.map((r) => r.auth),
    ['none', 'unknown'],
  );

  const missing = await rejectsWithStatus(
    t,
    client(github).repos.get({ owner: OWNER, repo: 'nope' }),
    404,
  );
  t.is(missing?.message, 'Not Found');
  await rejectsWithStatus(
    t,
    client(github).pulls.get({ owner: OWNER, repo: REPO, pull_number: 9 }),
    404,
  );

  const readOnly = client(github, 'read-only-token');
  t.is((await readOnly.pulls.list({ owner: OWNER, repo: REPO })).status, 200);
  const denied = await rejectsWithStatus(t, createPr(readOnly, 'feature'), 403);
  t.is(denied?.message, 'Resource not accessible by integration');
  t.deepEqual(github.violations, []);
});

test('labels and reviewers', async (t) => {
  const github = await setup(t);
  const octokit = client(github);
  await createPr(octokit, 'feature');
  const labels = await octokit.issues.addLabels({
    owner: OWNER,
    repo: REPO,
    issue_number: 1,
    labels: ['secrets', 'automated'],
  });
  t.deepEqual(
    labels.data.map((l) => l.name),
    ['secrets', 'automated'],
  );
  const again = await octokit.issues.addLabels({
    owner: OWNER,
    repo: REPO,
    issue_number: 1,
    labels: ['Secrets', 'rotation'],
  });
  t.deepEqual(
    again.data.map((l) => l.name),
    ['secrets', 'automated', 'rotation'],
  );
  const reviewed = await octokit.pulls.requestReviewers({
    owner: OWNER,
    repo: REPO,
    pull_number: 1,
    reviewers: ['alice'],
    team_reviewers: ['platform'],
  });
  t.is(reviewed.status, 201);
  t.deepEqual(
    reviewed.data.requested_reviewers?.map((u) => u.login),
    ['alice'],
  );
  t.deepEqual(
    reviewed.data.requested_teams?.map((team) => team.slug),
    ['platform'],
  );
  await rejectsWithStatus(
    t,
    octokit.pulls.requestReviewers({
      owner: OWNER,
      repo: REPO,
      pull_number: 1,
      reviewers: ['gitops-bot'],
    }),
    422,
  );
  t.like(github.pulls(OWNER, REPO)[0], {
    labels: ['secrets', 'automated', 'rotation'],
    requestedReviewers: ['alice'],
    requestedTeams: ['platform'],
  });
  const pull = await octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
  t.deepEqual(
    pull.data.labels.map((l) => l.name),
    ['secrets', 'automated', 'rotation'],
  );
  t.deepEqual(github.violations, []);
});

test('pagination with Link headers; head without owner is ignored like on GitHub', async (t) => {
  const github = await setup(t);
  for (let i = 0; i < 5; i++)
    github.addPull(OWNER, REPO, { title: `PR ${i}`, head: `branch-${i}` });
  const octokit = client(github);
  const page = await octokit.pulls.list({ owner: OWNER, repo: REPO, per_page: 2 });
  t.regex(String(page.headers.link), /rel="next"/);
  const all = await octokit.paginate(octokit.pulls.list, { owner: OWNER, repo: REPO, per_page: 2 });
  t.deepEqual(
    all.map((p) => p.number),
    [5, 4, 3, 2, 1],
  );
  const unfiltered = await octokit.pulls.list({ owner: OWNER, repo: REPO, head: 'branch-1' });
  t.is(unfiltered.data.length, 5);
  t.is(github.warnings.length, 1);
  t.deepEqual(github.violations, []);
});

test('failNext answers matching requests with canned failures', async (t) => {
  const github = await setup(t);
  github.failNext({
    method: 'GET',
    path: '/repos/{owner}/{repo}/pulls',
    ...serverError(502),
    times: 2,
  });
  github.failNext({ path: /\/pulls\/\d+$/, status: 404 });
  t.is((await call(github, 'POST', PULLS, { title: 't', head: 'x', base: 'main' })).status, 201);
  t.is((await call(github, 'GET', PULLS)).status, 502);
  t.is((await call(github, 'GET', `${PULLS}?state=all`)).status, 502);
  t.is((await call(github, 'GET', PULLS)).status, 200);
  const notFound = await call(github, 'GET', `${PULLS}/1`);
  t.is(notFound.status, 404);
  t.is(((await notFound.json()) as { message: string }).message, 'Not Found');
  t.is((await call(github, 'GET', `${PULLS}/1`)).status, 200);
  t.deepEqual(
    github.requests.map((r) => [r.status, r.injected]),
    [
      [201, false],
      [502, true],
      [502, true],
      [200, false],
      [404, true],
      [200, false],
    ],
  );
  t.deepEqual(github.violations, []);
});

test('failNext with afterHandling applies the request but loses the answer', async (t) => {
  const github = await setup(t);
  github.failNext({ method: 'POST', path: PULLS, ...serverError(502), afterHandling: true });
  const lost = await call(github, 'POST', PULLS, { title: 't', head: 'lost', base: 'main' });
  t.is(lost.status, 502);
  t.deepEqual(
    github.pulls(OWNER, REPO).map((p) => p.head.ref),
    ['lost'],
  );
  const retried = await call(github, 'POST', PULLS, { title: 't', head: 'lost', base: 'main' });
  t.is(retried.status, 422);
  t.deepEqual(github.violations, []);
});

test('Octokit retry and throttling plugins recover from injected failures', async (t) => {
  const github = await setup(t);
  const limits: string[] = [];
  const Throttled = Octokit.plugin(retry, throttling);
  const octokit = new Throttled({
    baseUrl: github.url,
    auth: 'test-token',
    log: silent,
    retry: { retryAfterBaseValue: 10 },
    throttle: {
      retryAfterBaseValue: 10,
      onRateLimit: (after) => {
        limits.push(`primary ${after}`);
        return true;
      },
      onSecondaryRateLimit: (after) => {
        limits.push(`secondary ${after}`);
        return true;
      },
    },
  });
  github.failNext({ method: 'GET', path: PULLS, ...serverError(500) });
  github.failNext({ method: 'GET', path: PULLS, ...secondaryRateLimit({ retryAfter: 1 }) });
  github.failNext({
    method: 'GET',
    path: PULLS,
    ...primaryRateLimit({ resetInSeconds: 0 }),
  });
  const { status } = await octokit.pulls.list({ owner: OWNER, repo: REPO });
  t.is(status, 200);
  t.is(limits.length, 2);
  t.is(limits[0], 'secondary 1');
  t.regex(limits[1] ?? '', /^primary \d$/);
  t.deepEqual(
    github.requests.map((r) => r.status),
    [500, 403, 403, 200],
  );
  t.deepEqual(github.violations, []);
});

test('delayNext delays or hangs requests; close() ends hung requests', async (t) => {
  const github = await setup(t);
  github.delayNext({ path: `/repos/${OWNER}/${REPO}`, ms: 150 });
  const started = Date.now();
  t.is((await call(github, 'GET', `/repos/${OWNER}/${REPO}`)).status, 200);
  t.true(Date.now() - started >= 140);

  github.delayNext({ method: 'GET', path: PULLS });
  const aborted = fetch(`${github.url}${PULLS}`, {
    headers: { authorization: 'token test-token' },
    signal: AbortSignal.timeout(100),
  });
  await t.throwsAsync(aborted, { any: true });
  t.is((await call(github, 'GET', PULLS)).status, 200);

  github.delayNext({ method: 'GET', path: PULLS });
  const hung = fetch(`${github.url}${PULLS}`, { headers: { authorization: 'token test-token' } });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await github.close();
  await t.throwsAsync(hung, { any: true });
  t.deepEqual(github.violations, []);
});

test('unimplemented routes are 404 and recorded', async (t) => {
  const github = await setup(t);
  const res = await call(github, 'DELETE', `/repos/${OWNER}/${REPO}`);
  t.is(res.status, 404);
  t.deepEqual(github.takeViolations(), [`unimplemented route: DELETE /repos/${OWNER}/${REPO}`]);
  const bogus = await call(github, 'GET', `${PULLS}?state=bogus&per_page=2`);
  t.is(bogus.status, 200);
  t.is(github.takeViolations().length, 1);
  t.deepEqual(github.violations, []);
});
