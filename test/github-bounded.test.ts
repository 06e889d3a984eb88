/**
 * GitHub answers that used to confuse or hold a run (issue 18, part 5): an HTML page answered
 * with 200, a 422 "already exists" whose PR is not ours to update, an API that accepts requests
 * and never answers, and rate limits that reset in an hour. Each ends at once (or within the
 * limits set here through GITOPS_SECRETS_GITHUB_*) with exit 1, a message saying what GitHub did
 * and that the branch is pushed; a short rate-limit wait is said on stderr.
 */
import test, { type ExecutionContext } from 'ava';
import { type FaultSpec, primaryRateLimit, secondaryRateLimit } from './helpers/github-server.js';
import {
  KEPTN_CONFIG as CONFIG,
  expectNoLeaks,
  type Harness,
  makeHarness,
  OWNER,
  REPO,
} from './helpers/reliability.js';
import type { CliResult } from './helpers/scenario.js';

const BRANCH = 'gitops-secrets/sync';
const PULLS = '/repos/{owner}/{repo}/pulls';
const CLOCK = /\d\d:\d\d:\d\dZ/.source;

async function harness(t: ExecutionContext): Promise<Harness> {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  return h;
}

/** Runs `sync`; a run still going after `killAfterMs` is killed (so the old code fails fast). */
async function timedSync(
  h: Harness,
  env: Record<string, string> = {},
  killAfterMs = 40_000,
): Promise<CliResult & { seconds: number }> {
  const started = Date.now();
  const p = h.start(['sync'], { env });
  const timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
  const r = await h.finish(p);
  clearTimeout(timer);
  const seconds = (Date.now() - started) / 1000;
  // SHOW_STDERR=1: what each run said, to read the messages (and record them for a report).
  if (process.env.SHOW_STDERR)
    console.error(`---- exit ${r.exitCode} after ${seconds} s\n${r.stderr}`);
  return { ...r, seconds };
}

/** Exit 1, our own message (no stack, no Octokit internals), and the branch said pushed. */
async function expectPushedFailure(t: ExecutionContext, h: Harness, r: CliResult) {
  t.is(r.exitCode, 1, r.stderr);
  t.regex(r.stderr, /^error: GitHub could not /m);
  t.regex(
    r.stderr,
    /^ {2}fix: .*gitops-secrets\/sync is pushed, so a later run finishes the pull request/m,
  );
  t.notRegex(r.stderr, /\n\s+at |unexpected failure|is not a function|RequestError|HttpError/);
  t.truthy(await h.head(BRANCH), 'the branch is on the remote');
  t.deepEqual(h.github.violations, []);
  await expectNoLeaks(t, h);
}

/** A sync whose GitHub answers `failure` once; it must fail as expectPushedFailure says. */
async function failedSync(t: ExecutionContext, failure: FaultSpec) {
  const h = await harness(t);
  h.github.failNext(failure);
  const r = await timedSync(h);
  await expectPushedFailure(t, h, r);
  return { h, r };
}

/** A sync against a GitHub API that never answers a list of the PRs, with these time limits. */
async function stalledSync(t: ExecutionContext, requestMs: string, stepMs: string) {
  const h = await harness(t);
  h.github.delayNext({ method: 'GET', path: PULLS, times: Number.POSITIVE_INFINITY });
  const r = await timedSync(h, {
    GITOPS_SECRETS_GITHUB_TIMEOUT_MS: requestMs,
    GITOPS_SECRETS_GITHUB_STEP_TIMEOUT_MS: stepMs,
  });
  await expectPushedFailure(t, h, r);
  t.true(r.seconds < 25, `ended after ${r.seconds} s`);
  return { h, r };
}

test('a 200 answer with an HTML page names the request and says it is not the GitHub API', async (t) => {
  const { h, r } = await failedSync(t, {
    method: 'GET',
    path: PULLS,
    status: 200,
    body: '<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Proxy</title></head><body><form></form></body></html>',
  });
  t.regex(
    r.stderr,
    /GET \/repos\/acme\/infra\/pulls answered with an HTML page; that is not the GitHub API/,
  );
  t.regex(
    r.stderr,
    /fix: a proxy answered in GitHub's place, or GITHUB_API_URL \(http:\/\/127\.0\.0\.1:\d+\) is wrong/,
  );
  t.is(h.pulls().length, 0);
});

test('JSON of the wrong shape where a list is expected says it is not the GitHub API', async (t) => {
  const { r } = await failedSync(t, {
    method: 'GET',
    path: PULLS,
    status: 200,
    body: { status: 'ok', service: 'api-gateway' },
  });
  t.regex(
    r.stderr,
    /GET \/repos\/acme\/infra\/pulls answered with JSON that is not a list of pull requests; that is not the GitHub API/,
  );
});

test('422 "already exists" with a closed PR and an open one into another base: says what it found', async (t) => {
  const h = await harness(t);
  h.github.addPull(OWNER, REPO, { title: 'old', head: BRANCH, base: 'main', state: 'closed' });
  h.github.addPull(OWNER, REPO, { title: 'into release', head: BRANCH, base: 'release' });
  h.github.failNext({
    method: 'POST',
    path: PULLS,
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${OWNER}:${BRANCH}.`,
        },
      ],
      documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      status: '422',
    },
  });
  const r = await timedSync(h);
  t.is(r.exitCode, 1, r.stderr);
  t.regex(r.stderr, /PR #2 for gitops-secrets\/sync into release is open \(closed: #1 into main\)/);
  t.regex(r.stderr, /fix: pass --base release, or close #2 \(http[^)]+\/pull\/2\)/);
  t.notRegex(r.stderr, /check the base branch and pullRequest settings in the config/);
  t.true(
    h.github.requests.some((q) => q.operationId === 'pulls/list' && q.query.state === 'all'),
    'the PRs of the branch are listed again, closed ones and other bases too',
  );
  t.is(h.pulls().length, 2, 'no PR opened, none changed');
  t.deepEqual(h.github.violations, []);
  await expectNoLeaks(t, h);
});

test('a GitHub API that accepts requests and never answers: each request times out, exit 1 in seconds', async (t) => {
  const { h, r } = await stalledSync(t, '400', '20000');
  t.regex(r.stderr, /GitHub did not answer GET \/repos\/acme\/infra\/pulls within 1 s/);
  const lists = h.github.requests.filter((q) => q.operationId === 'pulls/list').length;
  t.is(lists, 4, 'the first try and the retry plugin’s three');
});

test('a stalled GitHub API ends the PR step at its time limit, whatever the request limit', async (t) => {
  const { r } = await stalledSync(t, '60000', '2000');
  t.regex(
    r.stderr,
    /GitHub did not answer within 2 s, the time limit of the pull-request step \(last request: GET \/repos\/acme\/infra\/pulls\)/,
  );
  t.regex(r.stderr, /GITOPS_SECRETS_GITHUB_STEP_TIMEOUT_MS/);
});

test('a primary rate limit that resets in an hour is not waited: exit 1 at once naming the reset', async (t) => {
  const { h, r } = await failedSync(t, {
    method: 'GET',
    path: PULLS,
    ...primaryRateLimit({ resetInSeconds: 3600 }),
  });
  t.regex(
    r.stderr,
    new RegExp(`403 API rate limit exceeded.* \\(the rate limit resets at ${CLOCK}, in 60 min\\)`),
  );
  t.regex(
    r.stderr,
    new RegExp(`fix: this run waits at most 60 s for a rate limit; run again after ${CLOCK}`),
  );
  t.notRegex(r.stderr, /waiting/);
  t.is(h.github.requests.filter((q) => q.operationId === 'pulls/list').length, 1);
  t.true(r.seconds < 25, `ended after ${r.seconds} s`);
});

test('a secondary rate limit with retry-after: 3600 is not waited: exit 1 at once naming the reset', async (t) => {
  const { h, r } = await failedSync(t, {
    method: 'POST',
    path: PULLS,
    ...secondaryRateLimit({ retryAfter: 3600, status: 429 }),
  });
  t.regex(
    r.stderr,
    new RegExp(`429 .*secondary rate limit.* \\(the rate limit resets at ${CLOCK}, in 60 min\\)`),
  );
  t.is(h.github.requests.filter((q) => q.operationId === 'pulls/create').length, 1);
  t.is(h.pulls().length, 0);
  t.true(r.seconds < 25, `ended after ${r.seconds} s`);
});

test('a short rate-limit wait is said on stderr with its length and reset time', async (t) => {
  const h = await harness(t);
  h.github.failNext({ method: 'GET', path: PULLS, ...primaryRateLimit({ resetInSeconds: 1 }) });
  const r = await timedSync(h);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(
    r.stderr,
    new RegExp(`^GitHub rate limit: waiting [0-3] s \\(resets at ${CLOCK}\\)$`, 'm'),
  );
  t.is(h.openPulls().length, 1);
  t.deepEqual(h.github.violations, []);
  await expectNoLeaks(t, h);
});
