/**
 * Faulty services beyond sops (test/e2e-sops-faults.test.ts): a remote that refuses the push,
 * a remote that cannot be reached, GitHub answering 5xx on every try, primary and secondary
 * rate limits, a 422 on labels, a PR created whose answer was lost, an API that cannot be
 * reached. Each ends in exit 0 after the retries GitHub asks for, or in exit 1 with a clear
 * message; a rerun converges on one PR; never a half-written manifest.
 */
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { primaryRateLimit, secondaryRateLimit, serverError } from './helpers/github-server.js';
import {
  KEPTN_CONFIG as CONFIG,
  expectCleanState,
  expectNoLeaks,
  type Harness,
  leakCheckCount,
  makeHarness,
} from './helpers/reliability.js';

const BRANCH = 'gitops-secrets/sync';
const PULLS = '/repos/{owner}/{repo}/pulls';
const LABELS = '/repos/{owner}/{repo}/issues/{issue_number}/labels';

const calls = (h: Harness, operationId: string) =>
  h.github.requests.filter((q) => q.operationId === operationId).length;

function expectClearFailure(t: ExecutionContext, r: { exitCode: number; stderr: string }) {
  t.is(r.exitCode, 1, r.stderr);
  t.regex(r.stderr, /^error: /m);
  t.regex(r.stderr, /^ {2}fix: /m, 'a remedy is given');
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.notRegex(r.stderr, /RequestError|HttpError|Octokit|authorization/i, 'no foreign error dumped');
}

/** The branch is pushed with both keys; a rerun without the fault opens the PR and keeps them. */
async function expectRerunOpensPr(t: ExecutionContext, h: Harness) {
  const pushed = await h.branchValues(BRANCH);
  t.deepEqual(Object.keys(pushed['secrets/keptn/bridge-oauth.yaml'] ?? {}).sort(), [
    'database_encrypt_secret',
    'session_secret',
  ]);
  const rerun = await h.run(['sync', '--json']);
  t.is(rerun.exitCode, 0, rerun.stderr);
  const out = JSON.parse(rerun.stdout) as {
    commit: string | null;
    pullRequest: { number: number };
  };
  t.is(out.commit, null, 'no new commit: the keys are on the branch');
  t.deepEqual(await h.branchValues(BRANCH), pushed, 'the pushed values are kept');
  t.is(h.openPulls().length, 1);
  t.deepEqual(h.openPulls()[0]!.labels, ['secrets']);
  t.is(h.pulls().length, 1, 'never a duplicate');
}

async function faultCase(
  t: ExecutionContext,
  arrange: (h: Harness) => Promise<void> | void,
): Promise<Harness> {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  await arrange(h);
  return h;
}

let cases = 0;
const fault = (name: string, fn: (t: ExecutionContext) => Promise<void>) => {
  cases++;
  test(name, fn);
};

fault(
  'git push refused by a pre-receive hook: exit 1 with the hook’s reason, nothing pushed, the rerun converges',
  async (t) => {
    const h = await faultCase(t, async (h) => {
      const hook = join(h.s.remote, 'hooks/pre-receive');
      await writeFile(
        hook,
        '#!/bin/sh\necho "policy: pushes to gitops-secrets/* need an approved change ticket" >&2\nexit 1\n',
      );
      await chmod(hook, 0o755);
    });
    const r = await h.run(['sync']);
    expectClearFailure(t, r);
    t.regex(r.stderr, /git push .*(refused|rejected|declined)/i);
    t.regex(r.stderr, /policy: pushes to gitops-secrets\/\* need an approved change ticket/);
    t.notRegex(
      r.stderr,
      /the branch changed on the remote while this run worked/,
      'a refused push is not a lost race',
    );
    t.is(await h.head(BRANCH), undefined, 'nothing pushed');
    t.is(await h.s.git(['branch', '--list', 'gitops-secrets/*']), '', 'no local branch either');
    t.is(h.pulls().length, 0);

    await rm(join(h.s.remote, 'hooks/pre-receive'));
    const rerun = await h.run(['sync']);
    t.is(rerun.exitCode, 0, rerun.stderr);
    t.is(h.openPulls().length, 1);
    await expectCleanState(t, h);
    await expectNoLeaks(t, h);
  },
);

fault('a remote that cannot be reached: exit 1 naming the remote, nothing written', async (t) => {
  const h = await faultCase(t, async (h) => {
    await h.s.git(['remote', 'set-url', 'origin', join(h.s.dir, 'gone.git')]);
  });
  const r = await h.run(['sync']);
  expectClearFailure(t, r);
  t.regex(r.stderr, /git ls-remote failed/);
  t.regex(r.stderr, /fix: check that the remote "origin" exists and is reachable/);
  t.is(h.github.requests.length, 0);
  await expectCleanState(t, h);
  await expectNoLeaks(t, h);
});

fault(
  'GitHub 500 on every try: retried, then exit 1 saying so; the branch is pushed and the rerun opens the PR',
  async (t) => {
    const h = await faultCase(t, (h) => {
      h.github.failNext({ method: 'POST', path: PULLS, ...serverError(500), times: 4 });
    });
    const r = await h.run(['sync']);
    expectClearFailure(t, r);
    t.regex(r.stderr, /GitHub could not open the pull request in acme\/infra: 500/);
    t.regex(r.stderr, /fix: GitHub had an error; run again later/);
    t.is(calls(h, 'pulls/create'), 4, 'the first try and three retries');
    t.is(h.pulls().length, 0);
    await expectRerunOpensPr(t, h);
    await expectCleanState(t, h);
    await expectNoLeaks(t, h);
  },
);

fault('a primary rate limit is waited out until its reset, then the PR is opened', async (t) => {
  const h = await faultCase(t, (h) => {
    h.github.failNext({ method: 'GET', path: PULLS, ...primaryRateLimit({ resetInSeconds: 1 }) });
  });
  const r = await h.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.is(calls(h, 'pulls/list'), 2);
  t.is(h.openPulls().length, 1);
  t.deepEqual(h.github.violations, []);
  await expectNoLeaks(t, h);
});

fault(
  'a primary rate limit that does not lift: exit 1 saying the rate limit is exhausted; the rerun opens the PR',
  async (t) => {
    const h = await faultCase(t, (h) => {
      h.github.failNext({
        method: 'GET',
        path: PULLS,
        ...primaryRateLimit({ resetInSeconds: 1 }),
        times: 3,
      });
    });
    const r = await h.run(['sync']);
    expectClearFailure(t, r);
    t.regex(
      r.stderr,
      /GitHub could not list pull requests in acme\/infra: 403 API rate limit exceeded/,
    );
    t.is(calls(h, 'pulls/list'), 3, 'two waits, then it gives up');
    await expectRerunOpensPr(t, h);
    await expectNoLeaks(t, h);
  },
);

fault('a secondary rate limit on every try: retried after retry-after, then exit 1', async (t) => {
  const h = await faultCase(t, (h) => {
    h.github.failNext({
      method: 'POST',
      path: PULLS,
      ...secondaryRateLimit({ retryAfter: 1 }),
      times: 3,
    });
  });
  const r = await h.run(['sync']);
  expectClearFailure(t, r);
  t.regex(
    r.stderr,
    /GitHub could not open the pull request in acme\/infra: 403 .*secondary rate limit/,
  );
  t.is(calls(h, 'pulls/create'), 3);
  await expectRerunOpensPr(t, h);
  await expectNoLeaks(t, h);
});

fault(
  '422 on labels: exit 1 naming the step; the PR exists once and the rerun labels it',
  async (t) => {
    const h = await faultCase(t, (h) => {
      h.github.failNext({
        method: 'POST',
        path: LABELS,
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [{ resource: 'Label', code: 'invalid', field: 'name' }],
          documentation_url: 'https://docs.github.com/rest/issues/labels#add-labels-to-an-issue',
          status: '422',
        },
      });
    });
    const r = await h.run(['sync']);
    t.is(r.exitCode, 1, r.stderr);
    t.regex(
      r.stderr,
      /GitHub could not label the pull request in acme\/infra: 422 Validation Failed/,
    );
    t.notRegex(r.stderr, /\n\s+at /);
    t.is(calls(h, 'issues/add-labels'), 1, 'a 422 is not retried');
    t.is(h.pulls().length, 1);
    t.deepEqual(h.pulls()[0]!.labels, []);
    await expectRerunOpensPr(t, h);
    await expectCleanState(t, h);
    await expectNoLeaks(t, h);
  },
);

fault(
  'the PR is created but GitHub’s answer is lost (502): the retry finds it, no duplicate',
  async (t) => {
    const h = await faultCase(t, (h) => {
      h.github.failNext({ method: 'POST', path: PULLS, ...serverError(502), afterHandling: true });
    });
    const r = await h.run(['sync', '--json']);
    t.is(r.exitCode, 0, r.stderr);
    t.is(JSON.parse(r.stdout).pullRequest.number, 1);
    t.is(h.pulls().length, 1, 'one PR');
    t.deepEqual(h.pulls()[0]!.labels, ['secrets']);
    t.deepEqual(h.github.violations, []);
    await expectNoLeaks(t, h);
  },
);

fault(
  'the GitHub API cannot be reached: exit 1; the branch is pushed; the rerun opens the PR',
  async (t) => {
    const h = await faultCase(t, () => undefined);
    const r = await h.run(['sync'], { env: { GITHUB_API_URL: 'http://127.0.0.1:9' } });
    expectClearFailure(t, r);
    t.regex(r.stderr, /GitHub could not list pull requests in acme\/infra/);
    // What it says about the cause is wrong today: see the known-bug test below.
    await expectRerunOpensPr(t, h);
    await expectNoLeaks(t, h);
  },
);

/**
 * Regression tests for messages that used to send the user the wrong way (an unreachable API
 * reported as a GitHub 500; exhausted rate limits blamed on token scopes).
 */
const misleading: {
  name: string;
  arrange: (h: Harness) => void;
  env?: Record<string, string>;
  message: RegExp;
}[] = [
  {
    name: 'an unreachable GitHub API is reported as unreachable, not as a GitHub 500',
    arrange: () => undefined,
    env: { GITHUB_API_URL: 'http://127.0.0.1:9' },
    message: /could not reach the GitHub API[^\n]*\n {2}fix: check GITHUB_API_URL and the network/,
  },
  {
    name: 'an exhausted primary rate limit says when it resets, not that the token lacks scopes',
    arrange: (h) =>
      h.github.failNext({
        method: 'GET',
        path: PULLS,
        ...primaryRateLimit({ resetInSeconds: 1 }),
        times: 3,
      }),
    message: /rate limit[^\n]*\n {2}fix: (?![^\n]*contents: write)[^\n]*(wait|reset|later)/,
  },
  {
    name: 'an exhausted secondary rate limit says to wait, not that the token lacks scopes',
    arrange: (h) =>
      h.github.failNext({
        method: 'POST',
        path: PULLS,
        ...secondaryRateLimit({ retryAfter: 1 }),
        times: 3,
      }),
    message: /rate limit[^\n]*\n {2}fix: (?![^\n]*contents: write)[^\n]*(wait|later)/,
  },
];
for (const m of misleading) {
  test(`fixed bug: ${m.name}`, async (t) => {
    const h = await faultCase(t, m.arrange);
    const r = await h.run(['sync'], { env: m.env ?? {} });
    t.is(r.exitCode, 1);
    t.regex(r.stderr, m.message);
  });
}

test.after.always('counts', (t) => {
  t.log(`faulty-service cases: ${cases}; leak checks: ${JSON.stringify(leakCheckCount())}`);
});
