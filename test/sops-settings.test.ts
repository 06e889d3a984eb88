/**
 * What the performance work changed that a user can see: the Go runtime settings of the sops
 * processes (and that their own win), GITOPS_SECRETS_SOPS_JOBS, the plaintext Secret given to
 * sops, and which manifests `rotate --secret` reads.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { parseConfig } from '../src/config/parse.js';
import type { Config } from '../src/config/types.js';
import { renderPlainSecret } from '../src/model/manifest.js';
import { selectionPaths } from '../src/plan/plan.js';
import { rotateFlags, shortLivedGo, sopsJobs } from '../src/ports/sops.js';
import { FAKE_SOPS, REAL_SOPS } from './helpers/reliability.js';
import { example, exampleScenario, makeScenario } from './helpers/scenario.js';

function config(text: string): Config {
  const r = parseConfig(text, 'config/secrets.yaml');
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

test('sync runs every sops process with GOGC=off GOMEMLIMIT=512MiB, unless the user set their own', async (t) => {
  const s = await exampleScenario('fairwinds-insights.yaml');
  t.teardown(() => s.cleanup());
  const log = join(s.dir, 'go-env.log');
  const shim = {
    GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'record-go-env.sh'),
    REAL_SOPS,
    SOPS_ENV_LOG: log,
  };
  const first = await s.run(['sync', '--no-push'], { env: shim });
  t.is(first.exitCode, 0, first.stderr);
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  t.true(lines.length >= 1, 'the encryption');
  t.deepEqual([...new Set(lines)], ['GOGC=off GOMEMLIMIT=512MiB']);

  // Their own setting is passed on as it is, and the other one is not added.
  await s.git(['branch', '-D', 'gitops-secrets/sync']);
  const userLog = join(s.dir, 'go-env-user.log');
  const own = await s.run(['sync', '--no-push'], {
    env: { ...shim, SOPS_ENV_LOG: userLog, GOGC: '200' },
  });
  t.is(own.exitCode, 0, own.stderr);
  const userLines = (await readFile(userLog, 'utf8')).trim().split('\n');
  t.deepEqual([...new Set(userLines)], ['GOGC=200 GOMEMLIMIT=unset']);

  // --no-push: the commit is on the local branch.
  const file = await s.git([
    'show',
    'gitops-secrets/sync:secrets/fairwinds-insights/fwinsights-secrets.yaml',
  ]);
  t.is(Object.keys((await s.decrypt(file)).data).length, 5);
});

test('GITOPS_SECRETS_SOPS_JOBS sets how many sops processes run at once; anything else means the cores', (t) => {
  t.is(sopsJobs({ GITOPS_SECRETS_SOPS_JOBS: '6' }), 6);
  t.is(sopsJobs({ GITOPS_SECRETS_SOPS_JOBS: '1' }), 1);
  for (const bad of ['0', '-2', '1.5', '65', 'many', ''])
    t.is(sopsJobs({ GITOPS_SECRETS_SOPS_JOBS: bad }), availableParallelism() + 1, bad);
  t.is(sopsJobs({}), availableParallelism() + 1);
  t.deepEqual(shortLivedGo({ GOMEMLIMIT: '1GiB' }), {});
  t.deepEqual(shortLivedGo({ PATH: '/bin' }), { GOGC: 'off', GOMEMLIMIT: '512MiB' });
});

test('a sync with GITOPS_SECRETS_SOPS_JOBS=1 writes the same Secrets', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const r = await s.run(['sync', '--json'], { env: { GITOPS_SECRETS_SOPS_JOBS: '1' } });
  t.is(r.exitCode, 0, r.stderr);
  const file = await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml');
  const { data } = await s.decrypt(file);
  t.is(data.session_secret?.length, 45);
  t.is(data.database_encrypt_secret?.length, 32);
});

test('the plaintext Secret for sops reads back as exactly the names, labels and values given', (t) => {
  const awkward = [
    'true',
    'null',
    '1',
    '0x1f',
    '~',
    '- a',
    'a: b',
    '#x',
    "it's",
    '"q"',
    'ü ☃',
    'two\nlines',
  ];
  const labels = Object.fromEntries(awkward.map((v, i) => [`l${i}`, v]));
  const text = renderPlainSecret({
    name: 'true',
    namespace: '1',
    type: 'kubernetes.io/basic-auth',
    labels,
    annotations: { 'example.com/note': 'null' },
    state: { version: 1, keys: { '1': { generated: 'g', rotated: 'r' } } },
    data: new Map(awkward.map((v, i) => [i % 2 ? String(i) : `k.${i}`, v])),
  });
  const doc = parse(text) as {
    metadata: { name: unknown; namespace: unknown; labels: Record<string, unknown> };
    type: unknown;
    data: Record<string, string>;
  };
  t.is(doc.metadata.name, 'true');
  t.is(doc.metadata.namespace, '1');
  t.is(doc.type, 'kubernetes.io/basic-auth');
  t.deepEqual(doc.metadata.labels, { ...labels, 'app.kubernetes.io/managed-by': 'gitops-secrets' });
  const decoded = Object.fromEntries(
    Object.entries(doc.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
  t.deepEqual(
    decoded,
    Object.fromEntries(awkward.map((v, i) => [i % 2 ? String(i) : `k.${i}`, v])),
  );
});

test('rotate --secret reads the selected secrets and every secret that shares a value with them', (t) => {
  const c = config(`version: 1
shared:
  db: { length: 40 }
  other: { length: 40 }
environments: [dev, prod]
output: secrets/{environment}/{namespace}/{name}.yaml
secrets:
  - name: a
    namespace: ns
    keys: { DB: { from: db }, KEY: { length: 10 } }
  - name: b
    namespace: ns
    keys: { PASSWORD: { from: db } }
  - name: c
    namespace: ns
    keys: { X: { from: other } }
  - name: d
    namespace: ns
    keys: { KEY: { length: 10 } }
`);
  const picked = selectionPaths(c, { secrets: ['ns/a'], key: undefined, force: true });
  t.deepEqual([...(picked ?? [])].sort(), [
    'secrets/dev/ns/a.yaml',
    'secrets/dev/ns/b.yaml',
    'secrets/prod/ns/a.yaml',
    'secrets/prod/ns/b.yaml',
  ]);
  t.deepEqual(
    [...(selectionPaths(c, { secrets: ['ns/d'], key: undefined, force: true }) ?? [])].sort(),
    ['secrets/dev/ns/d.yaml', 'secrets/prod/ns/d.yaml'],
  );
  t.is(selectionPaths(c, { secrets: [], key: undefined, force: false }), undefined);
  t.is(selectionPaths(c, undefined), undefined);
});

test('labels and annotations with line separators and controls reach the encrypted Secret unchanged', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  // YAML escapes in the config: U+2028, U+2029, U+0085 (line breaks to go-yaml), DEL, U+FEFF.
  await s.writeConfig(`version: 1
secrets:
  - name: odd
    namespace: ns
    labels: { team: "a\\u2028b" }
    annotations: { note: "x\\u2029y\\u0085z", raw: "del\\u007fbom\\ufeff" }
    keys:
      token: { length: 20 }
`);
  await s.commitAndPush('add secrets config');
  const r = await s.run(['sync', '--no-push']);
  t.is(r.exitCode, 0, r.stderr);
  const file = await s.git(['show', 'gitops-secrets/sync:secrets/ns/odd.yaml']);
  // Read back by sops itself, as JSON: go-yaml writes U+2028 raw inside a quoted scalar, which it
  // reads back as written but some other YAML parsers fold into spaces.
  const decrypted = await execa(
    REAL_SOPS,
    ['decrypt', '--filename-override', 'odd.yaml', '--input-type', 'yaml', '--output-type', 'json'],
    { input: file, env: s.env, cwd: s.dir },
  );
  const doc = JSON.parse(decrypted.stdout) as {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    data: Record<string, string>;
  };
  t.is(doc.metadata.labels.team, 'a\u2028b');
  t.is(doc.metadata.annotations.note, 'x\u2029y\u0085z');
  t.is(doc.metadata.annotations.raw, 'del\u007fbom\ufeff');
  t.is(Buffer.from(doc.data.token ?? '', 'base64').toString().length, 20);
});

test('a run checks the sops version once, before its first sops process; --json counts every process', async (t) => {
  const s = await exampleScenario('fairwinds-insights.yaml');
  t.teardown(() => s.cleanup());
  const log = join(s.dir, 'argv.log');
  const env = {
    GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'record-argv.sh'),
    REAL_SOPS,
    SOPS_ARGV_LOG: log,
  };
  const first = await s.run(['sync', '--no-push', '--json'], { env });
  t.is(first.exitCode, 0, first.stderr);
  const calls = (await readFile(log, 'utf8')).trim().split('\n');
  t.is(calls[0], '--version --disable-version-check');
  t.true(
    calls.slice(1).every((c) => c.startsWith('encrypt ')),
    calls.join('\n'),
  );
  t.is((JSON.parse(first.stdout) as { sopsProcesses: number }).sopsProcesses, calls.length);
  t.regex(
    await s.git(['log', '-1', '--format=%s', 'gitops-secrets/sync']),
    /^chore\(secrets\): generate 5 keys/,
  );
});

test('recipient changes become sops rotate flags for all six kinds of key', (t) => {
  t.deepEqual(
    rotateFlags({
      add: [
        'age:age1a',
        'age:age1b',
        'pgp:FP1',
        'kms:arn:aws:kms:eu-west-1:1:key/k',
        'gcpKms:projects/p/locations/l/keyRings/r/cryptoKeys/k',
        'azureKv:https://v.vault.azure.net/keys/k/1',
        'hcVault:https://vault:8200/v1/transit/keys/k',
      ],
      remove: [
        'age:age1old',
        'hcVault:https://vault:8200/v1/transit/keys/old',
        'azureKv:https://v.vault.azure.net/keys/old/2',
      ],
    }),
    [
      '--add-age',
      'age1a,age1b',
      '--add-pgp',
      'FP1',
      '--add-kms',
      'arn:aws:kms:eu-west-1:1:key/k',
      '--add-gcp-kms',
      'projects/p/locations/l/keyRings/r/cryptoKeys/k',
      '--add-azure-kv',
      'https://v.vault.azure.net/keys/k/1',
      '--add-hc-vault-transit',
      'https://vault:8200/v1/transit/keys/k',
      '--rm-age',
      'age1old',
      '--rm-azure-kv',
      'https://v.vault.azure.net/keys/old/2',
      '--rm-hc-vault-transit',
      'https://vault:8200/v1/transit/keys/old',
    ],
  );
  t.throws(() => rotateFlags({ add: ['hckms:x'], remove: [] }), {
    message: /unknown recipient kind/,
  });
});

test('a run that starts with no encryption (set) still checks the sops version, once; a sops too old fails it, nothing committed', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('renku-slots.yaml'));
  await s.commitAndPush('renku config');
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest('gitops-secrets/sync');

  const args = ['set', 'renku/analytics', 'API_TOKEN', '--env', 'prod', '--no-push'];
  const before = await s.git(['rev-parse', 'gitops-secrets/sync']);
  const old = await s.run(args, {
    input: 'vendor-token-1234567890-prod\n',
    env: { GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'old-version.sh') },
  });
  t.is(old.exitCode, 1, old.stderr);
  t.regex(old.stderr, /is version 3\.8\.0; gitops-secrets needs sops 3\.11\.0 or newer/);
  t.is(await s.git(['rev-parse', 'gitops-secrets/sync']), before, 'nothing committed');

  const log = join(s.dir, 'argv-set.log');
  const ok = await s.run(args, {
    input: 'vendor-token-1234567890-prod\n',
    env: { GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'record-argv.sh'), REAL_SOPS, SOPS_ARGV_LOG: log },
  });
  t.is(ok.exitCode, 0, ok.stderr);
  const calls = (await readFile(log, 'utf8')).trim().split('\n');
  t.is(calls.filter((c) => c === '--version --disable-version-check').length, 1);
  t.true(
    calls.some((c) => c.startsWith('set ')),
    calls.join('\n'),
  );
});
