import test from 'ava';
import { findLeaks, makeScenario, mergedScenario, type Scenario } from './helpers/scenario.js';

const CONFIG = `version: 1
shared:
  db-password: { length: 40, rotateEvery: 30d }
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
  - name: reporting
    namespace: renku
    keys:
      PASSWORD: { from: db-password }
      VENDOR_TOKEN: { provided: true, description: vendor token, rotateEvery: 1w }
`;

const T0 = '2026-01-01T00:00:00Z';

/** Syncs at T0 and merges the PR, so the base holds every generated key. */
const merged = () => mergedScenario(CONFIG, T0);

const file = (s: Scenario, ref: string, ns: string, name: string) =>
  s.show(ref, `secrets/${ns}/${name}.yaml`).then((t) => s.decrypt(t));

test('rotate: only due keys change, on gitops-secrets/rotate, with the reason and the previous value kept', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const before = (await file(s, 'main', 'keptn', 'bridge-oauth')).data;
  const beforeText = await s.show('main', 'secrets/keptn/bridge-oauth.yaml');

  const notYet = await s.run(['rotate', '--now', '2026-01-20T00:00:00Z', '--json']);
  t.is(notYet.exitCode, 0, notYet.stderr);
  t.deepEqual(JSON.parse(notYet.stdout).changes, []);

  const now = '2026-04-02T00:00:00Z'; // 91 days later: session_secret (90d) and db-password (30d) are due
  const check = await s.run(['check', '--now', now]);
  t.is(check.exitCode, 3);
  t.regex(check.stdout, /due for rotation:/);
  t.regex(
    check.stdout,
    /keptn\/bridge-oauth\s+session_secret\s+rotated\s+last rotated 2026-01-01, policy 90d/,
  );

  const r = await s.run(['rotate', '--now', now]);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /session_secret\s+rotated\s+last rotated 2026-01-01, policy 90d/);
  t.notRegex(r.stdout, /database_encrypt_secret/);
  const after = (await file(s, 'gitops-secrets/rotate', 'keptn', 'bridge-oauth')).data;
  t.not(after.session_secret, before.session_secret);
  t.is(after.session_secret!.length, 45);
  t.is(
    after.session_secret_PREVIOUS,
    before.session_secret,
    'keepPrevious keeps the value before the rotation',
  );
  t.is(after.database_encrypt_secret, before.database_encrypt_secret);
  const afterText = await s.show('gitops-secrets/rotate', 'secrets/keptn/bridge-oauth.yaml');
  const line = (text: string, key: string) =>
    text.split('\n').find((l) => l.trimStart().startsWith(`${key}:`));
  t.is(
    line(afterText, 'database_encrypt_secret'),
    line(beforeText, 'database_encrypt_secret'),
    'a key not due keeps its ciphertext',
  );

  // The shared value is rotated once and written identically to every consumer.
  const a = (await file(s, 'gitops-secrets/rotate', 'renku', 'analytics')).data;
  const b = (await file(s, 'gitops-secrets/rotate', 'renku', 'reporting')).data;
  const oldShared = (await file(s, 'main', 'renku', 'analytics')).data.DB_PASSWORD;
  t.not(a.DB_PASSWORD, oldShared);
  t.is(a.DB_PASSWORD, b.PASSWORD);

  const again = await s.run(['rotate', '--now', now, '--json']);
  t.is(again.exitCode, 0, again.stderr);
  t.is(JSON.parse(again.stdout).commit, null, 'rotating again at the same time changes nothing');
  t.deepEqual(
    await findLeaks(s, [...Object.values(before), ...Object.values(after), a.DB_PASSWORD!]),
    [],
  );
});

test('rotate --force --secret: the Keptn "reset" rotates both bridge-oauth keys at once, nothing else', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const before = (await file(s, 'main', 'keptn', 'bridge-oauth')).data;
  const shared = (await file(s, 'main', 'renku', 'analytics')).data;
  const one = await s.run([
    'rotate',
    '--force',
    '--secret',
    'keptn/bridge-oauth',
    '--key',
    'database_encrypt_secret',
    '--dry-run',
    '--json',
  ]);
  t.is(one.exitCode, 0, one.stderr);
  t.deepEqual(
    (JSON.parse(one.stdout).changes as { key: string }[]).map((c) => c.key),
    ['database_encrypt_secret'],
  );

  const r = await s.run([
    'rotate',
    '--force',
    '--secret',
    'keptn/bridge-oauth',
    '--now',
    '2026-01-02T00:00:00Z',
    '--json',
  ]);
  t.is(r.exitCode, 0, r.stderr);
  const changes = (JSON.parse(r.stdout).changes as { id: string; key: string }[]).map(
    (c) => `${c.id} ${c.key}`,
  );
  t.deepEqual(changes.sort(), [
    'keptn/bridge-oauth database_encrypt_secret',
    'keptn/bridge-oauth session_secret',
    'keptn/bridge-oauth session_secret_PREVIOUS',
  ]);
  const after = (await file(s, 'gitops-secrets/rotate', 'keptn', 'bridge-oauth')).data;
  t.not(after.session_secret, before.session_secret);
  t.not(after.database_encrypt_secret, before.database_encrypt_secret);
  t.is(
    (await file(s, 'gitops-secrets/rotate', 'renku', 'analytics')).data.DB_PASSWORD,
    shared.DB_PASSWORD,
  );

  const bad = await s.run(['rotate', '--force', '--secret', 'keptn/nope']);
  t.is(bad.exitCode, 2);
  t.regex(bad.stderr, /--secret keptn\/nope is not in config\/secrets.yaml/);
});

test('rollout: a rotation bumps the pod template of the workloads that mount the secret, and touches nothing else', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  const deployment =
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bridge  # comment kept\nspec:\n  template:\n    metadata:\n      labels:\n        app: bridge\n    spec:\n      containers: [{name: bridge, image: "keptn/bridge:1.0"}]\n';
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(join(s.repo, 'apps/bridge'), { recursive: true });
  await writeFile(join(s.repo, 'apps/bridge/deployment.yaml'), deployment);
  await s.writeConfig(
    'version: 1\nsecrets:\n  - name: bridge-oauth\n    namespace: keptn\n    rollout: [apps/bridge/deployment.yaml]\n    keys:\n      session_secret: { length: 45, rotateEvery: 90d }\n',
  );
  await s.commitAndPush('config and workload');
  t.is((await s.run(['sync', '--now', T0])).exitCode, 0);
  t.is(
    await s.show('gitops-secrets/sync', 'apps/bridge/deployment.yaml'),
    deployment.trimEnd(),
    'sync of new keys restarts nothing',
  );
  await s.mergePullRequest('gitops-secrets/sync');
  const r = await s.run(['rotate', '--now', '2026-04-02T00:00:00Z']);
  t.is(r.exitCode, 0, r.stderr);
  const bumped = await s.show('gitops-secrets/rotate', 'apps/bridge/deployment.yaml');
  t.is(
    bumped,
    deployment
      .replace(
        '    metadata:\n',
        '    metadata:\n      annotations:\n        gitops-secrets.io/rotated-at: "2026-04-02T00:00:00Z"\n',
      )
      .trimEnd(),
  );
  const stat = await s.git(
    ['--git-dir', s.remote, 'diff', '--stat', 'main', 'gitops-secrets/rotate'],
    s.dir,
  );
  t.regex(stat, /apps\/bridge\/deployment.yaml\s+\| 2 \+\+\n/);
});

test('a due provided slot is listed as needing a new value from a person; the next rotation replaces _PREVIOUS', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const set = await s.run(['set', 'renku/reporting', 'VENDOR_TOKEN', '--now', T0], {
    input: 'vendor-token-value-123',
  });
  t.is(set.exitCode, 0, set.stderr);
  await s.mergePullRequest('gitops-secrets/sync');
  const r = await s.run(['rotate', '--now', '2026-01-09T00:00:00Z']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(
    r.stdout,
    /renku\/reporting\s+VENDOR_TOKEN\s+needs input\s+last rotated 2026-01-01, policy 1w: needs a new value from a person/,
  );
  t.is((await file(s, 'main', 'renku', 'reporting')).data.VENDOR_TOKEN, 'vendor-token-value-123');

  // Two forced rotations, each merged: _PREVIOUS always holds the value just before the last one.
  const values: string[] = [(await file(s, 'main', 'keptn', 'bridge-oauth')).data.session_secret!];
  for (const now of ['2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z']) {
    const rr = await s.run([
      'rotate',
      '--force',
      '--secret',
      'keptn/bridge-oauth',
      '--key',
      'session_secret',
      '--now',
      now,
    ]);
    t.is(rr.exitCode, 0, rr.stderr);
    await s.mergePullRequest('gitops-secrets/rotate');
    const d = (await file(s, 'main', 'keptn', 'bridge-oauth')).data;
    t.is(d.session_secret_PREVIOUS, values[values.length - 1]);
    values.push(d.session_secret!);
  }
  t.is(new Set(values).size, 3);
});

test('rotate --secret B after rotate --secret A: one branch, both rotations in the commit and the table', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const before = await file(s, 'main', 'keptn', 'bridge-oauth');
  const first = await s.run(['rotate', '--force', '--secret', 'keptn/bridge-oauth', '--json']);
  t.is(first.exitCode, 0, first.stderr);
  const rotatedA = await file(s, 'gitops-secrets/rotate', 'keptn', 'bridge-oauth');
  t.not(rotatedA.data.session_secret, before.data.session_secret);

  // The second run reads only what its selection touches, plus what the branch already carries.
  const second = await s.run(['rotate', '--force', '--secret', 'renku/analytics', '--json']);
  t.is(second.exitCode, 0, second.stderr);
  const out = JSON.parse(second.stdout) as { changes: { id: string; key: string }[] };
  const ids = new Set(out.changes.map((c) => c.id));
  t.true(ids.has('keptn/bridge-oauth'), JSON.stringify(out.changes));
  t.true(ids.has('renku/analytics'), JSON.stringify(out.changes));
  // bridge-oauth keeps the values of the first rotation; it is not rotated again.
  t.deepEqual(await file(s, 'gitops-secrets/rotate', 'keptn', 'bridge-oauth'), rotatedA);
  // The shared value rotated in every consumer, selected or not.
  const analytics = await file(s, 'gitops-secrets/rotate', 'renku', 'analytics');
  const reporting = await file(s, 'gitops-secrets/rotate', 'renku', 'reporting');
  t.is(analytics.data.DB_PASSWORD, reporting.data.PASSWORD);
  t.not(analytics.data.DB_PASSWORD, (await file(s, 'main', 'renku', 'analytics')).data.DB_PASSWORD);
  const log = await s.git(
    ['--git-dir', s.remote, 'log', '--format=%s', 'main..gitops-secrets/rotate'],
    s.dir,
  );
  t.is(log.trim().split('\n').length, 1, 'one commit on the base');
});
