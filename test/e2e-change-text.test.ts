/**
 * Truthful text end to end (issue 20), with the real sops and git: `set` reads as a value
 * provided by a person, `sync --prune` as a removal, `rotate --force` as forced with its restart
 * command — in the commit message (also the PR title), `--json`, the terminal and `--dry-run`.
 */
import test from 'ava';
import { findLeaks, makeScenario, type Scenario } from './helpers/scenario.js';

const RESTART = 'kubectl delete pods -n keptn --selector=app.kubernetes.io/name=bridge';
const CONFIG = `version: 1
secrets:
  - name: bridge-oauth
    namespace: keptn
    restart: ${RESTART}
    keys:
      session_secret: { length: 45, rotateEvery: 90d }
  - name: analytics
    namespace: renku
    keys:
      API_TOKEN: { provided: true, description: Token for the analytics API }
  - name: retired
    namespace: keptn
    keys:
      legacy_key: { length: 32 }
`;
const T0 = '2026-01-01T00:00:00Z';

async function merged(): Promise<Scenario> {
  const s = await makeScenario();
  await s.writeConfig(CONFIG);
  await s.commitAndPush('config');
  const r = await s.run(['sync', '--now', T0]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await s.mergePullRequest('gitops-secrets/sync');
  return s;
}

/** What --json says of each change, without the run's commit id. */
function changes(stdout: string) {
  const doc = JSON.parse(stdout) as {
    changes: { id: string; key: string; action: string; forced?: boolean; reason: string }[];
    restart: { secret: string; command: string }[];
  };
  return { changes: doc.changes, restart: doc.restart };
}

const subject = (s: Scenario, branch: string) =>
  s.git(['log', '-1', '--format=%B', `origin/${branch}`]);

test('set: the commit and --json say "provided", never "generated"', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const value = 'tok-Provided-By-A-Person-7f3a9';
  const r = await s.run(['set', 'renku/analytics', 'API_TOKEN', '--json', '--now', T0], {
    input: value,
  });
  t.is(r.exitCode, 0, r.stderr);
  const json = changes(r.stdout);
  t.snapshot(json, '--json of set');
  t.deepEqual(
    json.changes.map((c) => [c.id, c.key, c.action]),
    [['renku/analytics', 'API_TOKEN', 'provided']],
  );
  await s.git(['fetch', '--quiet', 'origin']);
  const message = await subject(s, 'gitops-secrets/sync');
  t.snapshot(message, 'commit message of set');
  t.regex(message, /^chore\(secrets\): provide 1 key in renku\/analytics\n/);
  t.notRegex(message, /generat/);
  t.deepEqual(await findLeaks(s, [value]), []);
});

test('sync --prune: the commit and --json say "remove 1 secret", never an addition', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  await s.writeConfig(CONFIG.slice(0, CONFIG.indexOf('  - name: retired')));
  await s.commitAndPush('drop keptn/retired');
  const r = await s.run(['sync', '--prune', '--json', '--now', T0]);
  t.is(r.exitCode, 0, r.stderr);
  const json = changes(r.stdout);
  t.snapshot(json, '--json of sync --prune');
  t.deepEqual(
    json.changes.map((c) => [c.id, c.key, c.action]),
    [['keptn/retired', '*', 'removed']],
  );
  await s.git(['fetch', '--quiet', 'origin']);
  const message = await subject(s, 'gitops-secrets/sync');
  t.snapshot(message, 'commit message of sync --prune');
  t.regex(message, /^chore\(secrets\): remove 1 secret in keptn\/retired\n/);
  t.notRegex(message, /\badd|generat/i);
});

test('rotate --force: forced in the commit, the terminal and --json; the restart command in the terminal, --dry-run and --json', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const args = ['rotate', '--secret', 'keptn/bridge-oauth', '--force', '--now', T0];
  const dry = await s.run([...args, '--dry-run']);
  t.is(dry.exitCode, 0, dry.stderr);
  t.regex(dry.stdout, /would change: rotate 1 key \(forced\)/);
  t.true(dry.stdout.includes(`restart after merge:\n  keptn/bridge-oauth: ${RESTART}`), dry.stdout);
  const dryJson = await s.run([...args, '--dry-run', '--json']);
  t.deepEqual(changes(dryJson.stdout).restart, [
    { secret: 'keptn/bridge-oauth', command: RESTART },
  ]);

  const r = await s.run([...args, '--json']);
  t.is(r.exitCode, 0, r.stderr);
  const json = changes(r.stdout);
  t.snapshot(json, '--json of rotate --force');
  t.deepEqual(
    json.changes.map((c) => [c.key, c.action, c.forced]),
    [['session_secret', 'rotated', true]],
  );
  t.deepEqual(json.restart, [{ secret: 'keptn/bridge-oauth', command: RESTART }]);
  await s.git(['fetch', '--quiet', 'origin']);
  t.regex(
    await subject(s, 'gitops-secrets/rotate'),
    /^chore\(secrets\): rotate 1 key \(forced\) in keptn\/bridge-oauth\n/,
  );
});
