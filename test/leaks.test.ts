/**
 * No leaks, anywhere: one repo's whole life (sync, set, set --shared, forced and due rotations
 * with previous values, a new consumer of a shared value, prune, a recipient change, check, list,
 * dry runs), every sops call through the argv-recording shim, NODE_DEBUG=execa and the sentinel
 * token on every run. Then every value ever generated or provided is searched for in every sops
 * argv, git object, output, PR body, request and file of the scenario.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { scanObjects } from './helpers/object-scan.js';
import { PR_CONFIG_HEAD } from './helpers/plan-fixtures.js';
import {
  expectCleanState,
  expectNoLeaks,
  FAKE_SOPS,
  type Harness,
  leakCheckCount,
  makeHarness,
} from './helpers/reliability.js';
import { findLeaks, makeScenario, ROOT } from './helpers/scenario.js';

const T0 = '2026-01-01T00:00:00Z';
const T31 = '2026-02-01T00:00:00Z';

const CONFIG = `${PR_CONFIG_HEAD}shared:
  db-password: { length: 40, rotateEvery: 30d, keepPrevious: true }
secrets:
  - name: every-source
    namespace: leaks
    restart: kubectl rollout restart deployment/app -n leaks
    keys:
      alnum: { length: 24 }
      alpha: { length: 24, charset: alpha }
      lower: { length: 24, charset: lower }
      upper: { length: 24, charset: upper }
      numeric: { length: 24, charset: numeric }
      hex: { length: 24, charset: hex }
      b64url: { length: 24, charset: base64url }
      printable: { length: 24, charset: printable }
      custom: { length: 24, chars: "abcdef123456!@#" }
      raw_b64: { bytes: 24, encoding: base64 }
      raw_b64url: { bytes: 24, encoding: base64url }
      raw_hex: { bytes: 24, encoding: hex }
      id: { uuid: true }
      rotating: { length: 30, keepPrevious: true }
  - name: app
    namespace: leaks
    keys:
      DB_PASSWORD: { from: db-password }
      VENDOR_TOKEN: { provided: true, description: vendor token, minLength: 16 }
  - name: worker
    namespace: leaks
    keys:
      DB_PASSWORD: { from: db-password }
      OLD_KEY: { length: 20 }
`;

const PROVIDED = 'vendor-token-typed-by-a-person-7Q2x';
const SHARED_BY_HAND = 'db-password-replaced-by-a-person-9Zk4';

async function step(h: Harness, args: string[], input?: string) {
  const r = await h.run(args, input !== undefined ? { input } : {});
  if (r.exitCode !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** Merges a job branch into main and deletes it, as GitHub does. */
async function merge(h: Harness, branch: string) {
  await h.branchValues(branch);
  await h.s.git(['fetch', '--quiet', 'origin']);
  await h.s.git(['merge', '--quiet', '--ff-only', `origin/${branch}`]);
  await h.s.git(['push', '--quiet', 'origin', 'HEAD:main', `:${branch}`]);
  await h.s.git(['branch', '--quiet', '-D', branch]);
}

test('a repo’s whole life: no value and no token in any sops argv, git object, output, PR or file', async (t) => {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  h.values.add(PROVIDED);
  h.values.add(SHARED_BY_HAND);

  await step(h, ['sync', '--now', T0, '--json']);
  await merge(h, 'gitops-secrets/sync');
  await step(h, ['set', 'leaks/app', 'VENDOR_TOKEN', '--now', T0], PROVIDED);
  await merge(h, 'gitops-secrets/sync');
  await step(h, ['set', '--shared', 'db-password', '--now', T0, '--json'], SHARED_BY_HAND);
  await merge(h, 'gitops-secrets/sync');
  const main1 = await h.branchValues('main');
  t.is(main1['secrets/leaks/app.yaml']!.VENDOR_TOKEN, PROVIDED);
  t.is(main1['secrets/leaks/worker.yaml']!.DB_PASSWORD, SHARED_BY_HAND);

  await step(h, [
    'rotate',
    '--force',
    '--secret',
    'leaks/every-source',
    '--key',
    'rotating',
    '--now',
    T0,
  ]);
  await merge(h, 'gitops-secrets/rotate');
  // 31 days on, the shared value is due: rotated once, the old one kept as _PREVIOUS.
  await step(h, ['rotate', '--now', T31, '--json']);
  const rotated = await h.branchValues('gitops-secrets/rotate');
  t.is(rotated['secrets/leaks/app.yaml']!.DB_PASSWORD_PREVIOUS, SHARED_BY_HAND);
  await merge(h, 'gitops-secrets/rotate');

  // The config changes: a key removed (prune), a key added, a new consumer of the shared value,
  // and a second recipient (updatekeys with a temporary sops config).
  const second = (
    await execa(join(ROOT, '.tools/bin/age-keygen'), [
      '-y',
      join(ROOT, 'fixtures/keys/test-only-age-key-2.txt'),
    ])
  ).stdout.trim();
  await h.s.writeConfig(
    `${CONFIG.replace(
      '      OLD_KEY: { length: 20 }\n',
      '      NEW_KEY: { bytes: 16, encoding: hex }\n',
    ).replace('shared:\n', `sops:\n  age: [${h.s.recipient}, ${second}]\nshared:\n`)}  - name: late
    namespace: leaks
    keys:
      DB: { from: db-password }
`,
  );
  await h.s.commitAndPush('config: prune, add, recipients, new consumer');
  await step(h, ['sync', '--prune', '--now', T31, '--dry-run']);
  await step(h, ['sync', '--prune', '--now', T31]);
  const last = await h.branchValues('gitops-secrets/sync');
  t.is(last['secrets/leaks/late.yaml']!.DB, last['secrets/leaks/app.yaml']!.DB_PASSWORD);
  t.false('OLD_KEY' in last['secrets/leaks/worker.yaml']!);
  await merge(h, 'gitops-secrets/sync');
  await h.s.git(['pull', '--quiet', 'origin', 'main']);
  await h.run(['check', '--now', T31]);
  await h.run(['check', '--now', T31, '--json']);
  await step(h, ['list', '--now', T31, '--json']);
  await step(h, ['rotate', '--now', T31, '--dry-run', '--json']);

  // Every sops verb the tool uses went through the recording shim.
  const argv = await readFile(h.argvLog, 'utf8');
  for (const verb of ['encrypt', 'decrypt', 'set', 'unset', 'updatekeys'])
    t.regex(argv, new RegExp(`(^|\\s)${verb}\\s`, 'm'), `sops ${verb} was recorded`);
  t.true(h.values.size >= 20, `${h.values.size} values searched for`);
  t.true(h.pulls().length >= 2);
  await expectCleanState(t, h);
  await expectNoLeaks(t, h);
  // Every object the remote holds, reachable or not, read in full: no value, plain or base64.
  const remote = await scanObjects(h.s, h.values);
  t.true(remote.objects >= 20, `${remote.objects} objects of the remote searched`);
  t.deepEqual(remote.leaks, [], 'no value, plain or base64, in any object of the remote');
});

test('the leak scans see a value’s base64 form in an unreachable object of the remote, and in a file', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  const value = 'a-value-the-scan-must-find-8Hq2';
  const base64 = Buffer.from(value).toString('base64');
  // A blob no ref reaches, as a push that was refused or a run that died could leave behind.
  await execa('git', ['--git-dir', s.remote, 'hash-object', '-w', '--stdin'], {
    input: `data:\n  KEY: ${base64}\n`,
    env: s.env,
  });
  const remote = await scanObjects(s, [value]);
  t.deepEqual(remote.leaks, [`a value (base64) in an object of ${s.remote}`]);
  t.deepEqual(await findLeaks(s, [value]), [`a value (base64) in git objects of ${s.remote}`]);
  await writeFile(join(s.dir, 'left-behind.yaml'), `data:\n  KEY: ${base64}\n`);
  t.true((await findLeaks(s, [value]))[0]?.startsWith('files under the scratch dir:'));
});

/**
 * Known product bug (reported on issue 7): sops's stderr is shown unless it repeats the whole
 * input, so a sops that quotes only part of its input (the lines before a parse error) puts
 * values in the message and the CI log.
 */
test('fixed bug: a sops that quotes part of its input on stderr cannot make a value appear in the message', async (t) => {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  const outside = await mkdtemp(join(tmpdir(), 'gs-capture-'));
  t.teardown(() => rm(outside, { recursive: true, force: true }));
  const r = await h.run(['sync'], {
    env: {
      GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'echo-input.sh'),
      SOPS_ECHO_CAPTURE: join(outside, 'stdin'),
    },
  });
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /sops failed on secrets\/leaks\/\S+\.yaml \(exit 1\)/);
  // The values the run generated, as sops received them (base64 under data:).
  const values: string[] = [];
  for (const f of await readdir(outside)) {
    const doc = parse(await readFile(join(outside, f), 'utf8')) as {
      data?: Record<string, string>;
    };
    for (const v of Object.values(doc.data ?? {}))
      values.push(v, Buffer.from(v, 'base64').toString('utf8'));
  }
  t.true(values.length > 0);
  const shown = r.stdout + r.stderr;
  t.deepEqual(
    values.filter((v) => shown.includes(v)),
    [],
    'no value sops repeated reaches the output',
  );
});

test('fixed bug: a MAC mismatch message does not show sops’s digest (an unsalted SHA-512 of the plaintext values)', async (t) => {
  const h = await makeHarness(CONFIG);
  t.teardown(() => h.close());
  await step(h, ['sync']);
  await merge(h, 'gitops-secrets/sync');
  const file = join(h.s.repo, 'secrets/leaks/worker.yaml');
  const text = await readFile(file, 'utf8');
  await writeFile(
    file,
    text.replace(/\n( +)(gitops-secrets\.io\/state: .*)\n/, '\n$1x: y\n$1$2\n'),
  );
  await h.s.writeConfig(
    CONFIG.replace('OLD_KEY: { length: 20 }', 'OLD_KEY: { length: 20 }\n      K2: { length: 20 }'),
  );
  await h.s.commitAndPush('hand edit and a new key');
  const r = await h.run(['sync']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /MAC mismatch/);
  t.notRegex(r.stderr, /[0-9A-F]{128}/, 'no SHA-512 digest of the values');
});

test.after.always('counts', (t) => {
  t.log(`leak checks: ${JSON.stringify(leakCheckCount())}`);
});
