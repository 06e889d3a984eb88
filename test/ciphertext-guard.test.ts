/**
 * The ciphertext guard: whatever sops hands back (encrypt from stdin, `set` in place, `rotate`,
 * `updatekeys`) is checked before it is committed. A sops that returns plaintext, drops the
 * `sops` block or drops a key makes the run fail with exit 1, naming the file and the key, and
 * the remote stays as it was: same refs, and no object holding a value, plain or base64.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { remoteRefs, scanObjects } from './helpers/object-scan.js';
import { FAKE_SOPS as FAKE, KEPTN_CONFIG } from './helpers/reliability.js';
import { findLeaks, makeScenario, ROOT, type Scenario, TOOLS_BIN } from './helpers/scenario.js';

const FILE = 'secrets/keptn/bridge-oauth.yaml';
const PROVIDED = 'vendor-token-typed-by-a-person-4Kd9';

/** The Keptn Bridge secret of the reliability tests, with a provided key too. */
const CONFIG = `${KEPTN_CONFIG}      vendor_token: { provided: true, minLength: 16, description: vendor API token }\n`;

const FAULTS = [
  {
    mode: 'plaintext',
    message: /secrets\/keptn\/bridge-oauth\.yaml: data\.\S+ is not sops ciphertext/,
    cause: /encryptedRegex or \.sops\.yaml rule that does not match data/,
  },
  {
    mode: 'no-sops-block',
    message: /secrets\/keptn\/bridge-oauth\.yaml has no sops block/,
    cause: /sops returned a file without its sops block/,
  },
  {
    mode: 'drop-key',
    message: /secrets\/keptn\/bridge-oauth\.yaml: data\.\S+ is missing/,
    cause: /sops returned a file without a key it should hold/,
  },
] as const;

type Fault = (typeof FAULTS)[number];

/** A repo whose main holds the Secret, encrypted by the real sops (and the provided value). */
async function synced(): Promise<Scenario> {
  const s = await makeScenario();
  await s.writeConfig(CONFIG);
  await s.commitAndPush('config');
  const r = await s.run(['sync']);
  if (r.exitCode !== 0) throw new Error(`sync: ${r.stderr}`);
  await s.mergePullRequest();
  const set = await s.run(['set', 'keptn/bridge-oauth', 'vendor_token'], { input: PROVIDED });
  if (set.exitCode !== 0) throw new Error(`set: ${set.stderr}`);
  await s.mergePullRequest();
  return s;
}

/** Every value the scenario knows: those on main, and those the faulty sops encrypted. */
async function knownValues(s: Scenario, stash: string): Promise<string[]> {
  const values = new Set<string>([PROVIDED]);
  const texts: string[] = [];
  const onMain = await s
    .git(['--git-dir', s.remote, 'show', `main:${FILE}`], s.dir)
    .catch(() => undefined);
  if (onMain) texts.push(onMain);
  for (const f of await readdir(stash).catch(() => []))
    texts.push(await readFile(join(stash, f), 'utf8'));
  for (const text of texts)
    for (const v of Object.values((await s.decrypt(text, FILE)).data)) values.add(v);
  return [...values];
}

/** Runs the CLI with a faulty sops; expects exit 1, the message, and an untouched remote. */
async function expectStopped(
  t: ExecutionContext,
  s: Scenario,
  fault: Fault,
  args: string[],
  input?: string,
) {
  const refs = await remoteRefs(s);
  const stash = join(s.dir, `fault-stash-${fault.mode}`);
  const r = await s.run(args, {
    env: {
      GITOPS_SECRETS_SOPS: join(FAKE, `fault-${fault.mode}.sh`),
      REAL_SOPS: join(TOOLS_BIN, 'sops'),
      SOPS_FAULT_STASH: stash,
    },
    ...(input !== undefined ? { input } : {}),
  });
  t.log(
    `${args.join(' ')} → exit ${r.exitCode}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`,
  );
  t.is(r.exitCode, 1, r.stdout + r.stderr);
  t.regex(r.stderr, fault.message);
  t.regex(r.stderr, fault.cause);
  t.notRegex(r.stderr, /\n\s+at /);
  t.is(await remoteRefs(s), refs, 'the remote’s refs are unchanged');
  t.deepEqual(await readdir(s.env.TMPDIR!), [], 'the temporary worktree is removed');
  const values = await knownValues(s, stash);
  t.true(values.length >= 3, `${values.length} values searched for`);
  const scan = await scanObjects(s, values);
  t.true(scan.objects > 0);
  t.deepEqual(scan.leaks, [], 'no value, plain or base64, in any object of the remote');
  t.deepEqual(await findLeaks(s, values), []);
}

for (const fault of FAULTS) {
  test(`${fault.mode}: sync of a new Secret (encrypt from stdin) stops, nothing pushed`, async (t) => {
    const s = await makeScenario();
    t.teardown(() => s.cleanup());
    await s.writeConfig(CONFIG);
    await s.commitAndPush('config');
    await expectStopped(t, s, fault, ['sync']);
  });

  test(`${fault.mode}: set of one key (sops set in place) stops, nothing pushed`, async (t) => {
    const s = await synced();
    t.teardown(() => s.cleanup());
    await expectStopped(
      t,
      s,
      fault,
      ['set', 'keptn/bridge-oauth', 'vendor_token'],
      `${PROVIDED}-2`,
    );
  });

  test(`${fault.mode}: rotate --force of every key stops, nothing pushed`, async (t) => {
    const s = await synced();
    t.teardown(() => s.cleanup());
    await expectStopped(t, s, fault, ['rotate', '--force']);
  });

  test(`${fault.mode}: rotate of one key stops, nothing pushed`, async (t) => {
    const s = await synced();
    t.teardown(() => s.cleanup());
    const args = ['rotate', '--force', '--secret', 'keptn/bridge-oauth', '--key', 'session_secret'];
    await expectStopped(t, s, fault, args);
  });

  for (const [verb, args] of [
    ['updatekeys', ['sync']],
    ['sops rotate', ['sync', '--rotate-data-key']],
  ] as const) {
    test(`${fault.mode}: a new recipient (${verb}) stops, nothing pushed`, async (t) => {
      const s = await synced();
      t.teardown(() => s.cleanup());
      const second = (
        await execa(join(TOOLS_BIN, 'age-keygen'), [
          '-y',
          join(ROOT, 'fixtures/keys/test-only-age-key-2.txt'),
        ])
      ).stdout.trim();
      await s.writeConfig(
        CONFIG.replace('secrets:\n', `sops:\n  age: [${s.recipient}, ${second}]\nsecrets:\n`),
      );
      await s.commitAndPush('a second recipient');
      await expectStopped(t, s, fault, [...args]);
    });
  }
}

test('real sops, config encryptedRegex "^stringData$": not pushed (exit 1, or 2 once the config check refuses it)', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(
    `version: 1\nsops:\n  encryptedRegex: "^stringData$"\n${CONFIG.slice('version: 1\n'.length)}`,
  );
  await s.commitAndPush('config');
  const refs = await remoteRefs(s);
  const r = await s.run(['sync']);
  t.log(`exit ${r.exitCode}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  t.true(r.exitCode === 1 || r.exitCode === 2, r.stdout + r.stderr);
  // Stopped by the guard (exit 1), or refused up front as a config error (exit 2).
  t.regex(
    r.stderr,
    r.exitCode === 1 ? /ciphertext guard: .*data\.\S+ is not sops ciphertext/ : /config/,
  );
  t.is(await remoteRefs(s), refs);
  t.deepEqual(await readdir(s.env.TMPDIR!), []);
});

/**
 * A Secret a person encrypted by hand with `encrypted_regex: ^stringData$` (no value in it yet):
 * the real `sops set` follows the file's own rule and writes values unencrypted. Neither the
 * config nor .sops.yaml is involved, so only the guard can stop it.
 */
for (const args of [['set', 'keptn/bridge-oauth', 'vendor_token'], ['sync']]) {
  test(`real sops, a manifest whose own sops metadata misses data: ${args[0]} stops with exit 1, nothing pushed`, async (t) => {
    const s = await makeScenario();
    t.teardown(() => s.cleanup());
    await s.writeConfig(CONFIG);
    const plain = `apiVersion: v1
kind: Secret
metadata:
  name: bridge-oauth
  namespace: keptn
  labels:
    app.kubernetes.io/managed-by: gitops-secrets
type: Opaque
`;
    const enc = await execa(
      join(TOOLS_BIN, 'sops'),
      [
        'encrypt',
        ...['--filename-override', FILE, '--input-type', 'yaml', '--output-type', 'yaml'],
        ...['--encrypted-regex', '^stringData$', '--age', s.recipient],
      ],
      { input: plain, env: s.env, cwd: s.repo },
    );
    await mkdir(join(s.repo, 'secrets/keptn'), { recursive: true });
    await writeFile(join(s.repo, FILE), enc.stdout);
    await s.commitAndPush('a Secret encrypted by hand');
    const refs = await remoteRefs(s);
    const r = await s.run(args, { input: PROVIDED });
    t.log(`exit ${r.exitCode}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
    t.is(r.exitCode, 1, r.stdout + r.stderr);
    t.regex(r.stderr, /secrets\/keptn\/bridge-oauth\.yaml: data\.\S+ is not sops ciphertext/);
    t.is(await remoteRefs(s), refs, 'the remote’s refs are unchanged');
    t.deepEqual(await readdir(s.env.TMPDIR!), []);
    const scan = await scanObjects(s, [PROVIDED]);
    t.true(scan.objects > 0);
    t.deepEqual(scan.leaks, []);
    t.deepEqual(await findLeaks(s, [PROVIDED]), []);
  });
}

test('real sops: a key whose value is empty (a template of no text) is written, then read back on the next run', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(`version: 1
output: secrets/{namespace}/{name}.yaml
secrets:
  - name: app
    namespace: default
    keys:
      empty: { template: "" }
      token: { length: 10 }
`);
  await s.commitAndPush('config');
  const first = await s.run(['sync']);
  t.is(first.exitCode, 0, first.stderr);
  t.regex(await s.show('gitops-secrets/sync', 'secrets/default/app.yaml'), /^ {4}empty: ""$/m);
  await s.mergePullRequest();
  const check = await s.run(['check']);
  t.is(check.exitCode, 0, check.stdout + check.stderr);
  const again = await s.run(['sync', '--json']);
  t.is(again.exitCode, 0, again.stderr);
  t.is((JSON.parse(again.stdout) as { commit: string | null }).commit, null);
});
