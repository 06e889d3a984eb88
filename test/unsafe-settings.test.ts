/**
 * Encryption settings that would leave Secret values unencrypted are config errors, found before
 * anything is written: a config `encryptedRegex`, or the selector of the `.sops.yaml` creation
 * rule that matches an output file (encrypted_regex, unencrypted_regex, encrypted_suffix,
 * unencrypted_suffix, encrypted_comment_regex). A rule with a safe selector of its own is
 * respected (no --encrypted-regex added), with the real sops.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  encryptionProblem,
  type Selectors,
  shouldBeEncrypted,
} from '../src/model/encryption-selectors.js';
import { makeScenario, type Scenario } from './helpers/scenario.js';

const SECRETS = `secrets:
  - name: app
    namespace: ns
    keys:
      token: { length: 20 }
      password: { length: 24 }
`;
const FILE = 'secrets/ns/app.yaml';

/** Everything a refused run must leave as it was: the remote's refs, the clone's refs and files. */
async function snapshot(s: Scenario): Promise<string> {
  return [
    await s.git(['--git-dir', s.remote, 'for-each-ref', '--format=%(refname) %(objectname)']),
    await s.git(['for-each-ref', '--format=%(refname) %(objectname)']),
    await s.git(['status', '--porcelain', '--ignored', '--untracked-files=all']),
  ].join('\n---\n');
}

async function scenario(config: string, rule?: string): Promise<Scenario> {
  const s = await makeScenario();
  if (rule !== undefined)
    await writeFile(
      join(s.repo, '.sops.yaml'),
      `creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    ${rule}\n    age: ${s.recipient}\n`,
    );
  await s.writeConfig(config);
  await s.commitAndPush('config');
  return s;
}

async function refused(t: ExecutionContext, s: Scenario, where: RegExp, what: RegExp) {
  const before = await snapshot(s);
  const r = await s.run(['sync']);
  t.log(`exit ${r.exitCode}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stderr, where);
  t.regex(r.stderr, what);
  t.is(await snapshot(s), before, 'nothing written');
}

const CONFIG_CASES = [
  ['"^stringData$"', /config\/secrets\.yaml:3:19: sops\.encryptedRegex: /, /data\.token/],
  ['"^metadata$"', /config\/secrets\.yaml:3:19: sops\.encryptedRegex: /, /data\.token/],
  ['"^(data|stringData$"', /config\/secrets\.yaml:3:19: sops\.encryptedRegex: /, /not a valid/],
] as const;

for (const [regex, where, what] of CONFIG_CASES)
  test(`config encryptedRegex ${regex} is refused: exit 2, file:line:col, nothing written`, async (t) => {
    const s = await scenario(`version: 1\nsops:\n  encryptedRegex: ${regex}\n${SECRETS}`);
    t.teardown(() => s.cleanup());
    await refused(t, s, where, what);
  });

const RULE_CASES = [
  ['unencrypted_regex: ^data$', 24, /data\.token/],
  ['encrypted_suffix: _secret', 23, /data\.token/],
  ['unencrypted_suffix: a', 25, /data\.token/],
  ['encrypted_comment_regex: ^sops:enc$', 30, /comment/],
  ['encrypted_regex: ^stringData$', 22, /data\.token/],
] as const;

for (const [rule, column, what] of RULE_CASES)
  test(`.sops.yaml rule "${rule}" is refused: exit 2, .sops.yaml:line:col, nothing written`, async (t) => {
    const s = await scenario(`version: 1\n${SECRETS}`, rule);
    t.teardown(() => s.cleanup());
    await refused(t, s, new RegExp(`\\.sops\\.yaml:3:${column}: creation_rules\\[0\\]\\.`), what);
  });

test('a safe rule that leaves a declared key unencrypted (a key named "type") is refused', async (t) => {
  const s = await scenario(
    `version: 1\nsecrets:\n  - name: app\n    namespace: ns\n    keys:\n      type: { length: 8 }\n`,
    'unencrypted_regex: ^(apiVersion|kind|metadata|type)$',
  );
  t.teardown(() => s.cleanup());
  await refused(t, s, /\.sops\.yaml:3:24: creation_rules\[0\]\.unencrypted_regex: /, /data\.type/);
});

test('config encryptedRegex and a rule with another selector: a config error naming both', async (t) => {
  const s = await scenario(
    `version: 1\nsops:\n  encryptedRegex: ^(data|stringData)$\n${SECRETS}`,
    'unencrypted_regex: ^(apiVersion|kind|metadata|type)$',
  );
  t.teardown(() => s.cleanup());
  await refused(
    t,
    s,
    /\.sops\.yaml:3:24: creation_rules\[0\]\.unencrypted_regex: /,
    /encryptedRegex/,
  );
});

test('a .sops.yaml rule with unencrypted_regex of the Secret fields is respected: sync pushes ciphertext', async (t) => {
  const s = await scenario(
    `version: 1\n${SECRETS}`,
    'unencrypted_regex: ^(apiVersion|kind|metadata|type)$',
  );
  t.teardown(() => s.cleanup());
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  const file = await s.show('gitops-secrets/sync', FILE);
  t.regex(file, /^ {4}token: ENC\[AES256_GCM,/m);
  t.regex(file, /^ {4}password: ENC\[AES256_GCM,/m);
  t.regex(file, /unencrypted_regex: \^\(apiVersion\|kind\|metadata\|type\)\$/);
  t.notRegex(file, /encrypted_regex: \^\(data/);
  const { data } = await s.decrypt(file, FILE);
  t.is(data.token?.length, 20);
  t.is(data.password?.length, 24);
});

test('config encryptedRegex with a rule that sets encrypted_regex: the config wins (sops takes it)', async (t) => {
  const s = await scenario(
    `version: 1\nsops:\n  encryptedRegex: ^(data|stringData|password)$\n${SECRETS}`,
    'encrypted_regex: ^(data|stringData)$',
  );
  t.teardown(() => s.cleanup());
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  const file = await s.show('gitops-secrets/sync', FILE);
  t.regex(file, /encrypted_regex: \^\(data\|stringData\|password\)\$/);
  t.regex(file, /^ {4}token: ENC\[AES256_GCM,/m);
});

// sops's shouldBeEncrypted: a value is encrypted when the selector says so for its key path.
const TABLE: [Selectors, string[], boolean][] = [
  [{ encrypted_regex: '^(data|stringData)$' }, ['data', 'token'], true],
  [{ encrypted_regex: '^(data|stringData)$' }, ['metadata', 'name'], false],
  [{ encrypted_regex: '^stringData$' }, ['data', 'token'], false],
  [{ encrypted_regex: '^token$' }, ['data', 'token'], true],
  [{ encrypted_regex: 'ata' }, ['data', 'x'], true],
  [{ encrypted_regex: '(?i)^DATA$' }, ['data', 'x'], true],
  [{ encrypted_regex: '\\Adata\\z' }, ['data', 'x'], true],
  [{ encrypted_regex: '^[[:lower:]]+$' }, ['data', 'X'], true],
  [{ unencrypted_regex: '^(apiVersion|kind|metadata|type)$' }, ['data', 'token'], true],
  [{ unencrypted_regex: '^(apiVersion|kind|metadata|type)$' }, ['data', 'type'], false],
  [{ unencrypted_regex: '^(apiVersion|kind|metadata|type)$' }, ['metadata', 'name'], false],
  [{ unencrypted_regex: '^data$' }, ['data', 'token'], false],
  [{ encrypted_suffix: 'ta' }, ['data', 'x'], true],
  [{ encrypted_suffix: '_secret' }, ['data', 'token'], false],
  [{ encrypted_suffix: '_secret' }, ['data', 'db_secret'], true],
  [{ unencrypted_suffix: '_unencrypted' }, ['data', 'token'], true],
  [{ unencrypted_suffix: 'a' }, ['data', 'token'], false],
  [{ encrypted_comment_regex: 'sops:enc' }, ['data', 'token'], false],
  [{ unencrypted_comment_regex: 'sops:plain' }, ['data', 'token'], true],
  [{ unencrypted_suffix: '' }, ['data', 'token'], true],
  [{}, ['data', 'token'], true],
];

test('shouldBeEncrypted decides as sops does (no comments in the Secrets the tool renders)', (t) => {
  for (const [selectors, path, expected] of TABLE)
    t.is(shouldBeEncrypted(selectors, path), expected, `${JSON.stringify(selectors)} ${path}`);
});

test('encryptionProblem: unsafe selectors name the value left unencrypted; safe ones pass', (t) => {
  const keys = ['token', 'password'];
  t.is(encryptionProblem({ encrypted_regex: '^(data|stringData)$' }, keys), undefined);
  t.is(encryptionProblem({ encrypted_regex: '^(data|stringData|password)$' }, keys), undefined);
  t.is(
    encryptionProblem({ unencrypted_regex: '^(apiVersion|kind|metadata|type)$' }, keys),
    undefined,
  );
  t.is(encryptionProblem({ encrypted_suffix: '_secret' }, ['db_secret', 'api_secret']), undefined);
  // "metadata" ends with "ta" too: the state annotation would be ciphertext.
  t.regex(encryptionProblem({ encrypted_suffix: 'ta' }, keys) ?? '', /gitops-secrets\.io\/state/);
  t.regex(encryptionProblem({ encrypted_regex: '^data$' }, keys) ?? '', /stringData\.token/);
  t.regex(encryptionProblem({ encrypted_regex: '^stringData$' }, keys) ?? '', /data\.token/);
  t.regex(encryptionProblem({ encrypted_regex: '^metadata$' }, keys) ?? '', /data\.token/);
  t.regex(
    encryptionProblem({ encrypted_regex: '(' }, keys) ?? '',
    /not a valid regular expression/,
  );
  t.regex(encryptionProblem({ encrypted_comment_regex: 'x' }, keys) ?? '', /comment/);
  t.regex(encryptionProblem({ unencrypted_suffix: 'word' }, ['password']) ?? '', /data\.password/);
  // Everything encrypted, the state annotation too: the tool could not read its own metadata.
  t.regex(encryptionProblem({ encrypted_regex: '.' }, keys) ?? '', /gitops-secrets\.io\/state/);
  t.regex(
    encryptionProblem({ unencrypted_comment_regex: 'x' }, keys) ?? '',
    /gitops-secrets\.io\/state/,
  );
});

test('check refuses an unsafe .sops.yaml rule too: exit 2 with .sops.yaml:line:col', async (t) => {
  const s = await scenario(`version: 1\n${SECRETS}`, 'unencrypted_regex: ^data$');
  t.teardown(() => s.cleanup());
  const r = await s.run(['check']);
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stderr, /\.sops\.yaml:3:24: creation_rules\[0\]\.unencrypted_regex: /);
});
