import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import {
  CLI,
  example,
  findLeaks,
  makeScenario,
  runTraced,
  type Scenario,
  TOOLS_BIN,
} from './helpers/scenario.js';

const ALNUM = /^[A-Za-z0-9]+$/;

async function syncedExample(name: string): Promise<Scenario> {
  const s = await makeScenario();
  await s.writeConfig(await example(name));
  await s.commitAndPush('add secrets config');
  return s;
}

test('Keptn Bridge example: sync writes an encrypted bridge-oauth Secret that sops decrypts', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /session_secret\s+generated/);
  t.regex(r.stderr + r.stdout, /no GITHUB_TOKEN or GH_TOKEN/);

  const file = await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml');
  t.regex(file, /session_secret: ENC\[AES256_GCM/);
  t.regex(file, /name: bridge-oauth/);
  t.regex(file, /namespace: keptn/);
  t.regex(file, /app.kubernetes.io\/managed-by: gitops-secrets/);
  const { data, metadata } = await s.decrypt(file);
  t.deepEqual(Object.keys(data).sort(), ['database_encrypt_secret', 'session_secret']);
  t.is(data.session_secret!.length, 45);
  t.is(data.database_encrypt_secret!.length, 32);
  t.regex(data.session_secret!, ALNUM);
  t.regex(data.database_encrypt_secret!, ALNUM);
  t.is(metadata.name, 'bridge-oauth');
  t.is(metadata.namespace, 'keptn');
  t.deepEqual(await findLeaks(s, Object.values(data)), []);
});

test('Fairwinds Insights example: five keys of the documented lengths, alphanumeric, under data', async (t) => {
  const s = await syncedExample('fairwinds-insights.yaml');
  t.teardown(() => s.cleanup());
  const r = await s.run(['sync', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    changes: { key: string; action: string }[];
    pushed: boolean;
    commit: string;
  };
  t.is(out.changes.length, 5);
  t.true(out.pushed);
  const file = await s.show(
    'gitops-secrets/sync',
    'secrets/fairwinds-insights/fwinsights-secrets.yaml',
  );
  const { data, metadata } = await s.decrypt(file);
  const lengths = {
    COOKIE_HASH_KEY: 64,
    COOKIE_BLOCK_KEY: 32,
    SESSION_AUTH_KEY: 64,
    SESSION_ENCRYPTION_KEY: 32,
    AES_BASE64_CYPHER_KEY: 32,
  };
  t.deepEqual(Object.keys(data).sort(), Object.keys(lengths).sort());
  for (const [k, n] of Object.entries(lengths)) {
    t.is(data[k]!.length, n, k);
    t.regex(data[k]!, ALNUM, k);
  }
  t.is(metadata.namespace, 'fairwinds-insights');
  t.is(new Set(Object.values(data)).size, 5, 'every key gets its own value');
  t.deepEqual(await findLeaks(s, Object.values(data)), []);
});

test('sync twice: the second run makes no commit and no push, and keeps every value', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  t.is((await s.run(['sync'])).exitCode, 0);
  const head1 = await s.git(['--git-dir', s.remote, 'rev-parse', 'gitops-secrets/sync'], s.dir);
  const before = await s.decrypt(
    await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml'),
  );
  const r = await s.run(['sync', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    commit: string | null;
    pushed: boolean;
    sopsProcesses: number;
  };
  t.is(out.commit, null);
  t.false(out.pushed);
  t.is(out.sopsProcesses, 0, 'a sync with nothing to do starts no sops process');
  const head2 = await s.git(['--git-dir', s.remote, 'rev-parse', 'gitops-secrets/sync'], s.dir);
  t.is(head2, head1);
  const after = await s.decrypt(
    await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml'),
  );
  t.deepEqual(after.data, before.data);
});

test('a key added to the config is generated alone; the other ciphertexts stay byte for byte', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  t.is((await s.run(['sync'])).exitCode, 0);
  // The PR is merged: the base now has the file.
  await s.mergePullRequest('gitops-secrets/sync');
  const before = await s.show('main', 'secrets/keptn/bridge-oauth.yaml');
  const valuesBefore = (await s.decrypt(before)).data;
  const config = (await example('keptn-bridge.yaml')).replace(
    'database_encrypt_secret: { length: 32, charset: alphanumeric }',
    'database_encrypt_secret: { length: 32, charset: alphanumeric }\n      api_key: { uuid: true }',
  );
  await s.writeConfig(config);
  await s.commitAndPush('add api_key');
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /api_key\s+generated/);
  t.notRegex(r.stdout, /session_secret/);
  const after = await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml');
  const line = (text: string, key: string) =>
    text.split('\n').find((l) => l.trimStart().startsWith(`${key}:`));
  t.is(line(after, 'session_secret'), line(before, 'session_secret'));
  t.is(line(after, 'database_encrypt_secret'), line(before, 'database_encrypt_secret'));
  const valuesAfter = (await s.decrypt(after)).data;
  t.is(valuesAfter.session_secret, valuesBefore.session_secret);
  t.regex(
    valuesAfter.api_key!,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  t.deepEqual(await findLeaks(s, [...Object.values(valuesAfter)]), []);
});

test('keys on the open branch are reused, never generated again, when the config grows before merge', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  t.is((await s.run(['sync'])).exitCode, 0);
  const first = (
    await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml'))
  ).data;
  await s.writeConfig(
    `${await example('keptn-bridge.yaml')}  - name: other\n    namespace: keptn\n    keys:\n      token: { length: 20 }\n`,
  );
  await s.commitAndPush('add another secret');
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  const again = (
    await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml'))
  ).data;
  t.deepEqual(again, first);
  const other = (await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/keptn/other.yaml')))
    .data;
  t.is(other.token!.length, 20);
  const log = await s.git(
    ['--git-dir', s.remote, 'log', '--format=%s', 'main..gitops-secrets/sync'],
    s.dir,
  );
  t.is(log.split('\n').length, 1, 'the branch is rebuilt as one commit on the base');
});

test('shared values: every secret naming one gets the same value; a provided slot is reported, not generated', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(`version: 1
shared:
  db-password: { length: 40 }
secrets:
  - name: analytics
    namespace: renku
    keys:
      DB_PASSWORD: { from: db-password }
      API_TOKEN: { provided: true, description: Token for the analytics API }
  - name: reporting
    namespace: renku
    keys:
      PASSWORD: { from: db-password }
`);
  await s.commitAndPush('config');
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /API_TOKEN\s+needs input/);
  const a = (await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/renku/analytics.yaml')))
    .data;
  const b = (await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/renku/reporting.yaml')))
    .data;
  t.is(a.DB_PASSWORD!.length, 40);
  t.is(a.DB_PASSWORD, b.PASSWORD);
  t.false('API_TOKEN' in a);
  const check = await s.run(['check'], {});
  t.is(check.exitCode, 3);

  // A consumer whose value was put in by hand (no shared record): check says it may differ.
  await s.git(['fetch', '--quiet', 'origin']);
  await s.git(['merge', '--quiet', '--ff-only', 'origin/gitops-secrets/sync']);
  const reporting = join(s.repo, 'secrets/renku/reporting.yaml');
  const state = JSON.stringify({
    version: 1,
    keys: { PASSWORD: { generated: '2026-01-01T00:00:00Z', rotated: '2026-01-01T00:00:00Z' } },
  });
  await execa(
    join(TOOLS_BIN, 'sops'),
    [
      'set',
      reporting,
      '["metadata"]["annotations"]["gitops-secrets.io/state"]',
      JSON.stringify(state),
    ],
    { env: s.env },
  );
  const drift = await s.run(['check']);
  t.is(drift.exitCode, 3);
  t.regex(
    drift.stdout,
    /shared value db-password may differ between consumers .*secrets\/renku\/analytics.yaml#DB_PASSWORD, secrets\/renku\/reporting.yaml#PASSWORD/,
  );
  t.deepEqual(await findLeaks(s, [a.DB_PASSWORD!]), []);
});

test('the user checkout, index and stash are untouched, and no worktree is left behind', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  await s.git(['stash', 'list']);
  const readme = join(s.repo, 'README.md');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(readme, '# edited, not staged\n');
  await writeFile(join(s.repo, 'notes.txt'), 'staged\n');
  await s.git(['add', 'notes.txt']);
  const status = await s.git(['status', '--porcelain']);
  const head = await s.git(['rev-parse', 'HEAD']);
  t.is((await s.run(['sync'])).exitCode, 0);
  t.is(await s.git(['status', '--porcelain']), status);
  t.is(await s.git(['rev-parse', 'HEAD']), head);
  t.is(await s.git(['stash', 'list']), '');
  t.is(await readFile(readme, 'utf8'), '# edited, not staged\n');
  const worktrees = await s.git(['worktree', 'list', '--porcelain']);
  t.is(worktrees.split('\n').filter((l) => l.startsWith('worktree ')).length, 1);
});

test('--dry-run prints the plan and writes nothing; --no-push commits only locally', async (t) => {
  const s = await syncedExample('fairwinds-insights.yaml');
  t.teardown(() => s.cleanup());
  const dry = await s.run(['sync', '--dry-run']);
  t.is(dry.exitCode, 0, dry.stderr);
  t.regex(dry.stdout, /would change:/);
  t.regex(dry.stdout, /COOKIE_HASH_KEY\s+generated\s+missing/);
  t.is(await s.git(['branch', '--list', 'gitops-secrets/*']), '');
  t.is(await s.git(['--git-dir', s.remote, 'branch', '--list', 'gitops-secrets/*'], s.dir), '');

  const local = await s.run(['sync', '--no-push']);
  t.is(local.exitCode, 0, local.stderr);
  t.regex(
    await s.git(['log', '--format=%s', '-1', 'gitops-secrets/sync']),
    /^chore\(secrets\): generate 5 keys in fairwinds-insights\/fwinsights-secrets$/,
  );
  t.is(await s.git(['--git-dir', s.remote, 'branch', '--list', 'gitops-secrets/*'], s.dir), '');
  const again = await s.run(['sync', '--no-push', '--json']);
  t.is(JSON.parse(again.stdout).commit, null, 'a second --no-push run reuses the local branch');
});

test('check: exit 3 while keys are missing, 0 once they exist, without any private key', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const noKey = {
    SOPS_AGE_KEY_FILE: join(s.dir, 'no-such-key.txt'),
    PATH: `/nonexistent:${process.env.PATH}`,
  };
  const pending = await s.run(['check'], { env: noKey });
  t.is(pending.exitCode, 3);
  t.regex(pending.stdout, /keptn\/bridge-oauth\s+session_secret\s+generated\s+missing/);
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.git(['fetch', '--quiet', 'origin']);
  await s.git(['merge', '--quiet', '--ff-only', 'origin/gitops-secrets/sync']);
  const ok = await s.run(['check', '--json'], { env: noKey });
  t.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  t.false(JSON.parse(ok.stdout).pending);
});

test('a broken config exits 2 with file:line:column, before any git command, and writes nothing', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(
    'version: 1\nsecrets:\n  - name: Bad_Name\n    namespace: keptn\n    keys:\n      a: { length: 0 }\n',
  );
  const { r, git } = await runTraced(s, ['sync']);
  t.deepEqual(git, [], 'the config is checked before git is asked anything');
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /config\/secrets.yaml:3:11: secrets\[0\].name: must be a DNS-1123 subdomain/);
  t.regex(
    r.stderr,
    /config\/secrets.yaml:6:20: secrets\[0\].keys.a.length: must be a whole number from 1 to 4096/,
  );
  t.notRegex(r.stderr, /\n\s+at /);
  t.is(await s.git(['branch', '--list', 'gitops-secrets/*']), '');
  t.is(await s.git(['--git-dir', s.remote, 'branch', '--list'], s.dir), '* main');
});

test('a reader that goes away (`| head`) is no error: the run finishes its work, with its exit code', async (t) => {
  const s = await syncedExample('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  // stdout's reading end is closed before the CLI writes anything: each write gets EPIPE.
  const closedStdout = (args: string[]) => {
    const child = execa('node', [CLI, ...args], {
      cwd: s.repo,
      env: s.env,
      extendEnv: false,
      reject: false,
      input: '',
    });
    child.stdout.destroy();
    return child;
  };
  const check = await closedStdout(['check', '--json']);
  t.is(check.exitCode, 3, String(check.stderr));
  t.is(String(check.stderr), '');
  const sync = await closedStdout(['sync', '--no-push', '--json']);
  t.is(sync.exitCode, 0, String(sync.stderr));
  t.notRegex(String(sync.stderr), /EPIPE|\n\s+at /);
  // The job was done all the same: its branch holds the new Secret.
  t.regex(
    await s.git(['show', 'gitops-secrets/sync:secrets/keptn/bridge-oauth.yaml']),
    /session_secret: ENC\[AES256_GCM/,
  );
});
