import test from 'ava';
import type { GitHubServer } from './helpers/github-server.js';
import { setupWithGitHub, teardownGitHub } from './helpers/github-setup.js';
import { PR_CONFIG_HEAD } from './helpers/plan-fixtures.js';

// Issue 20, point 9: a rerun with nothing new makes no write call to GitHub, and the PR body
// keeps every reason it had (a shared value's reason never turns into "missing").

const CONFIG = `${PR_CONFIG_HEAD}shared:
  analytics-db-password: { length: 40 }
secrets:
  - name: analytics
    namespace: renku
    keys:
      DB_PASSWORD: { from: analytics-db-password }
      SESSION: { length: 32, rotateEvery: 90d }
  - name: reporting
    namespace: renku
    keys:
      DB_PASSWORD: { from: analytics-db-password }
      PARTNER: { provided: true, description: Token issued by the partner }
`;

const writes = (g: GitHubServer, from: number) =>
  g.requests.slice(from).filter((r) => r.method !== 'GET');

/** The rows of the PR body's change table. */
const tableRows = (body: string) => body.split('\n').filter((l) => /^\| `/.test(l));

test('a second sync with nothing new writes nothing to GitHub; a third after a new key keeps every reason', async (t) => {
  const c = await setupWithGitHub(CONFIG);
  t.teardown(() => teardownGitHub(c));
  const first = await c.s.run(['sync', '--now', '2026-09-01T00:00:00Z'], { env: c.env });
  t.is(first.exitCode, 0, first.stderr);
  const opened = c.github.pulls('acme', 'infra')[0]!;
  const body1 = opened.body!;
  const title1 = opened.title;
  t.true(
    body1.includes(
      '| `renku/reporting` | `DB_PASSWORD` | generated | shared value analytics-db-password |',
    ),
    body1,
  );

  const mark = c.github.requests.length;
  const again = await c.s.run(['sync', '--now', '2026-09-02T00:00:00Z'], { env: c.env });
  t.is(again.exitCode, 0, again.stderr);
  t.deepEqual(
    writes(c.github, mark).map((r) => `${r.method} ${r.path}`),
    [],
  );
  const pr2 = c.github.pulls('acme', 'infra')[0]!;
  t.is(pr2.body, body1);
  t.is(pr2.title, title1);
  t.true(pr2.body!.includes('shared value analytics-db-password'));

  // A new key in the config: the third sync updates the PR once, every earlier row as it was.
  await c.s.writeConfig(
    CONFIG.replace(
      '      SESSION: { length: 32, rotateEvery: 90d }\n',
      '      SESSION: { length: 32, rotateEvery: 90d }\n      API_KEY: { length: 24 }\n',
    ),
  );
  await c.s.commitAndPush('config: API_KEY');
  const mark3 = c.github.requests.length;
  const third = await c.s.run(['sync', '--now', '2026-09-03T00:00:00Z'], { env: c.env });
  t.is(third.exitCode, 0, third.stderr);
  t.deepEqual(
    writes(c.github, mark3).map((r) => r.method),
    ['PATCH'],
  );
  const body3 = c.github.pulls('acme', 'infra')[0]!.body!;
  for (const row of tableRows(body1)) t.true(body3.includes(row), `kept: ${row}\n${body3}`);
  t.true(body3.includes('| `renku/analytics` | `API_KEY` | generated | missing |'), body3);
});

test('a rotate rerun keeps the forced rotation in the PR text', async (t) => {
  const c = await setupWithGitHub(CONFIG);
  t.teardown(() => teardownGitHub(c));
  const sync = await c.s.run(['sync', '--now', '2026-09-01T00:00:00Z']);
  t.is(sync.exitCode, 0, sync.stderr);
  await c.s.mergePullRequest('gitops-secrets/sync');
  const forced = await c.s.run(
    ['rotate', '--force', '--secret', 'renku/analytics', '--now', '2026-09-05T00:00:00Z'],
    { env: c.env },
  );
  t.is(forced.exitCode, 0, forced.stderr);
  const pr1 = c.github.pulls('acme', 'infra')[0]!;
  t.regex(pr1.title, /\(forced\)/);
  t.regex(pr1.body!, /rotated \(forced\) \| forced; last rotated 2026-09-01/);

  const mark = c.github.requests.length;
  const plain = await c.s.run(['rotate', '--now', '2026-09-06T00:00:00Z'], { env: c.env });
  t.is(plain.exitCode, 0, plain.stderr);
  t.deepEqual(
    writes(c.github, mark).map((r) => `${r.method} ${r.path}`),
    [],
  );
  const pr2 = c.github.pulls('acme', 'infra')[0]!;
  t.is(pr2.title, pr1.title);
  t.is(pr2.body, pr1.body);
});
