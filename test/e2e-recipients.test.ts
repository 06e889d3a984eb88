import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { makeScenario, ROOT, type Scenario, TOOLS_BIN } from './helpers/scenario.js';

/** The reasons of the re-keyed rows a rerun (`sync --json`, rebuilt from the job branch) gives. */
async function rerunRekeyReasons(s: Scenario): Promise<string[]> {
  const again = await s.run(['sync', '--json']);
  if (again.exitCode !== 0) throw new Error(again.stderr);
  const doc = JSON.parse(again.stdout) as { changes: { action: string; reason: string }[] };
  return doc.changes.filter((c) => c.action === 're-keyed').map((c) => c.reason);
}

test('new recipients in the config: sync re-encrypts the file for them, no value changes, and says so', async (t) => {
  const s = await makeScenario({ sopsYaml: false });
  t.teardown(() => s.cleanup());
  const config = (recipients: string[]) =>
    `version: 1\nsops:\n  age: [${recipients.join(', ')}]\nsecrets:\n  - name: app\n    namespace: prod\n    keys:\n      token: { length: 24 }\n`;
  await s.writeConfig(config([s.recipient]));
  await s.commitAndPush('config');
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest('gitops-secrets/sync');
  const before = (await s.decrypt(await s.show('main', 'secrets/prod/app.yaml'))).data;

  const key2 = join(s.dir, 'test-only-age-key-2.txt');
  await execa(join(TOOLS_BIN, 'age-keygen'), ['-o', key2]);
  const r2 = (await execa(join(TOOLS_BIN, 'age-keygen'), ['-y', key2])).stdout.trim();
  await s.writeConfig(config([s.recipient, r2]));
  await s.commitAndPush('add a recipient');
  const check = await s.run(['check']);
  t.is(check.exitCode, 3);
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(
    r.stdout,
    /prod\/app\s+\(all keys\)\s+re-keyed\s+recipients changed \(1 added, 0 removed\); no value changes/,
  );
  const file = await s.show('gitops-secrets/sync', 'secrets/prod/app.yaml');
  t.true(file.includes(r2));
  const tokenLine = (text: string) =>
    text.split('\n').find((l) => l.trimStart().startsWith('token:'));
  const mainFile = await s.show('main', 'secrets/prod/app.yaml');
  t.is(
    tokenLine(file),
    tokenLine(mainFile),
    'updatekeys re-wraps the data key: value ciphertexts stay',
  );
  const withKey2 = await execa(
    join(TOOLS_BIN, 'sops'),
    ['decrypt', '--filename-override', 'x.yaml', '--input-type', 'yaml', '--output-type', 'json'],
    {
      input: file,
      env: { ...s.env, SOPS_AGE_KEY_FILE: key2 },
    },
  );
  const data = JSON.parse(withKey2.stdout).data as Record<string, string>;
  t.is(Buffer.from(data.token!, 'base64').toString(), before.token!);
  // The rerun reads the branch's re-key as it was: a re-wrapped data key, not a new one.
  t.deepEqual(await rerunRekeyReasons(s), [
    'recipients changed (1 added, 0 removed); no value changes',
  ]);
});

test('--rotate-data-key: a removed recipient can no longer open the file; values stay, ciphertexts change', async (t) => {
  const s = await makeScenario({ sopsYaml: false });
  t.teardown(() => s.cleanup());
  const key2 = join(s.dir, 'test-only-age-key-2.txt');
  await execa(join(TOOLS_BIN, 'age-keygen'), ['-o', key2]);
  const r2 = (await execa(join(TOOLS_BIN, 'age-keygen'), ['-y', key2])).stdout.trim();
  const config = (recipients: string[]) =>
    `version: 1\nsops:\n  age: [${recipients.join(', ')}]\nsecrets:\n  - name: app\n    namespace: prod\n    keys:\n      token: { length: 24 }\n`;
  await s.writeConfig(config([s.recipient, r2]));
  await s.commitAndPush('config');
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest('gitops-secrets/sync');
  const mainFile = await s.show('main', 'secrets/prod/app.yaml');
  const before = (await s.decrypt(mainFile)).data;
  await s.writeConfig(config([s.recipient]));
  await s.commitAndPush('remove a compromised recipient');
  const r = await s.run(['sync', '--rotate-data-key']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(
    r.stdout,
    /re-keyed\s+recipients changed \(0 added, 1 removed\), with a new data key; no value changes/,
  );
  const file = await s.show('gitops-secrets/sync', 'secrets/prod/app.yaml');
  t.false(file.includes(r2));
  const tokenLine = (text: string) =>
    text.split('\n').find((l) => l.trimStart().startsWith('token:'));
  t.not(tokenLine(file), tokenLine(mainFile));
  t.is((await s.decrypt(file)).data.token, before.token);
  const withKey2 = await execa(
    join(TOOLS_BIN, 'sops'),
    ['decrypt', '--filename-override', 'x.yaml'],
    {
      input: file,
      env: { ...s.env, SOPS_AGE_KEY_FILE: key2 },
      reject: false,
    },
  );
  t.not(withKey2.exitCode, 0);
  // A rerun without --rotate-data-key, rebuilt from the branch, keeps the new data key's words.
  t.deepEqual(await rerunRekeyReasons(s), [
    'recipients changed (0 added, 1 removed), with a new data key; no value changes',
  ]);
});

test('recipients from .sops.yaml: a new creation-rule recipient is noticed by check and applied by sync (updatekeys)', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(
    'version: 1\nsecrets:\n  - name: app\n    namespace: prod\n    keys:\n      token: { length: 24 }\n',
  );
  await s.commitAndPush('config');
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest('gitops-secrets/sync');
  t.is((await s.run(['check'])).exitCode, 0);
  const key2 = join(s.dir, 'test-only-age-key-2.txt');
  await execa(join(TOOLS_BIN, 'age-keygen'), ['-o', key2]);
  const r2 = (await execa(join(TOOLS_BIN, 'age-keygen'), ['-y', key2])).stdout.trim();
  const { readFile, writeFile } = await import('node:fs/promises');
  const sopsYaml = join(s.repo, '.sops.yaml');
  await writeFile(
    sopsYaml,
    (await readFile(sopsYaml, 'utf8')).replace(`age: ${s.recipient}`, `age: ${s.recipient},${r2}`),
  );
  await s.commitAndPush('add a recipient to .sops.yaml');
  const check = await s.run(['check']);
  t.is(check.exitCode, 3);
  t.regex(check.stdout, /re-keyed/);
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.true((await s.show('gitops-secrets/sync', 'secrets/prod/app.yaml')).includes(r2));
});

/**
 * Azure Key Vault and Vault transit recipients in `.sops.yaml`. `check` needs no sops and no key
 * service to see that a file's recipients differ from its rule's. Encrypting for such a key needs
 * the service, which a test machine does not have: `sync` runs with the fake sops
 * fixtures/fake-sops/key-services.mjs, which lets the real sops do everything with the age
 * recipient and writes the azure_kv / hc_vault entries of the sops block itself (see there).
 * Only these tests use it.
 */
const KEY_SERVICES = join(ROOT, 'fixtures/fake-sops/key-services.mjs');

const keyServiceCases = [
  {
    kind: 'an Azure Key Vault key',
    field: 'azure_keyvault',
    block: 'azure_kv',
    before: 'https://vault-one.vault.azure.net/keys/sops-key/0123abcd',
    after: 'https://vault-two.vault.azure.net/keys/sops-key/4567ef01',
    shown: (url: string) => url.split('/')[2]!,
  },
  {
    kind: 'a Vault transit key',
    field: 'hc_vault_transit_uri',
    block: 'hc_vault',
    before: 'https://vault.example.org:8200/v1/transit/keys/team-one',
    after: 'https://vault.example.org:8200/v1/transit/keys/team-two',
    shown: (uri: string) => uri.slice(uri.lastIndexOf('/') + 1),
  },
];

for (const c of keyServiceCases) {
  test(`.sops.yaml: changing ${c.kind} makes check report work and sync re-key the file`, async (t) => {
    const s = await makeScenario();
    t.teardown(() => s.cleanup());
    const fake = { GITOPS_SECRETS_SOPS: KEY_SERVICES };
    const sopsYaml = (key: string) =>
      `creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${s.recipient}\n    ${c.field}: ${key}\n`;
    await writeFile(join(s.repo, '.sops.yaml'), sopsYaml(c.before));
    await s.writeConfig(
      'version: 1\nsecrets:\n  - name: app\n    namespace: prod\n    keys:\n      token: { length: 24 }\n',
    );
    await s.commitAndPush('config');
    const first = await s.run(['sync'], { env: fake });
    t.is(first.exitCode, 0, first.stderr);
    await s.mergePullRequest('gitops-secrets/sync');
    const mainFile = await s.show('main', 'secrets/prod/app.yaml');
    t.true(mainFile.includes(`${c.block}:`) && mainFile.includes(c.shown(c.before)));
    const before = (await s.decrypt(mainFile)).data;
    // The file's recipients match its rule: nothing to do (no sops started for this).
    t.is((await s.run(['check'])).exitCode, 0);

    await writeFile(join(s.repo, '.sops.yaml'), sopsYaml(c.after));
    await s.commitAndPush(`another ${c.kind}`);
    const check = await s.run(['check']);
    t.is(check.exitCode, 3, check.stdout + check.stderr);
    t.regex(check.stdout, /re-keyed/);

    const r = await s.run(['sync'], { env: fake });
    t.is(r.exitCode, 0, r.stderr);
    t.regex(
      r.stdout,
      /prod\/app\s+\(all keys\)\s+re-keyed\s+recipients changed \(1 added, 1 removed\); no value changes/,
    );
    const file = await s.show('gitops-secrets/sync', 'secrets/prod/app.yaml');
    t.true(file.includes(c.shown(c.after)));
    t.false(file.includes(c.shown(c.before)));
    t.true(file.includes(s.recipient), 'the age recipient stays');
    t.deepEqual((await s.decrypt(file)).data, before, 'no value changes');
    await s.mergePullRequest('gitops-secrets/sync');
    t.is((await s.run(['check'])).exitCode, 0, 'nothing left to do');
  });
}
