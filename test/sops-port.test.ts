/**
 * The sops port (src/ports/sops.ts): plaintext only ever on sops's stdin, each call its own
 * output, sops's failures as the project's errors with a remedy, a hung sops stopped by its own
 * pid, and NODE_DEBUG=execa unable to print a value.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import type { SopsSettings } from '../src/config/types.js';
import { ExternalError } from '../src/errors.js';
import { createSops } from '../src/ports/sops.js';
import { FAKE_SOPS, REAL_SOPS } from './helpers/reliability.js';
import { exampleScenario, findLeaks, ROOT } from './helpers/scenario.js';

const KEY = join(ROOT, 'fixtures/keys/test-only-age-key.txt');

async function scratch(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-sops-port-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fake sops that answers --version like 3.13.2 and runs `body` for everything else. */
async function fake(dir: string, name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "sops 3.13.2"; exit 0; fi\n${body}\n`,
  );
  await chmod(file, 0o755);
  return file;
}

function settings(age: string): SopsSettings {
  const none: string[] = [];
  return {
    age: [age],
    pgp: none,
    kms: none,
    gcpKms: none,
    azureKv: none,
    hcVaultTransit: none,
    encryptedRegex: '^(data|stringData)$',
    ownEncryptedRegex: false,
    hasRecipients: true,
  };
}

async function recipient(): Promise<string> {
  return /public key: (age1\w+)/.exec(await readFile(KEY, 'utf8'))![1]!;
}

test('14 encryptions and their decryptions, 2 at a time: each output is its own input; values only on stdin', async (t) => {
  const dir = await scratch(t);
  const log = join(dir, 'argv.log');
  const sops = createSops({
    bin: join(FAKE_SOPS, 'record-argv.sh'),
    env: { ...process.env, SOPS_AGE_KEY_FILE: KEY, REAL_SOPS, SOPS_ARGV_LOG: log },
  });
  const age = await recipient();
  const values = Array.from(
    { length: 14 },
    (_, i) => `value-${i}-${randomBytes(8).toString('hex')}`,
  );
  const input = (i: number) =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s${i}\ndata:\n  v: ${Buffer.from(values[i]!).toString('base64')}\n`;
  const outputs: string[] = [];
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < values.length) {
        const i = next++;
        outputs[i] = await sops.encrypt(input(i), {
          filename: `s${i}.yaml`,
          cwd: dir,
          settings: settings(age),
        });
      }
    }),
  );
  for (let i = 0; i < values.length; i++) {
    t.regex(outputs[i]!, new RegExp(`name: s${i}\\n`));
    t.false(outputs[i]!.includes(Buffer.from(values[i]!).toString('base64')), 'encrypted');
    const back = await sops.decrypt(`s${i}.yaml`, { cwd: dir, ciphertext: outputs[i]! });
    t.deepEqual(parse(back), parse(input(i)));
  }
  const argv = await readFile(log, 'utf8');
  t.is(argv.trim().split('\n').length, 1 + 28, 'the version check, then 28 calls');
  for (const v of values) {
    t.false(argv.includes(v));
    t.false(argv.includes(Buffer.from(v).toString('base64')));
  }
  t.is(sops.started, 29);
});

test('sops exit codes become messages with a remedy; a crash, a missing or unexecutable sops too', async (t) => {
  const dir = await scratch(t);
  const fail = await fake(dir, 'fail', 'cat >/dev/null; echo "no key here" >&2; exit $SOPS_EXIT');
  const failing = async (code: number) => {
    const sops = createSops({ bin: fail, env: { ...process.env, SOPS_EXIT: String(code) } });
    return t.throwsAsync<ExternalError>(sops.set('s.yaml', ['data', 'k'], '"dmFs"', { cwd: dir }), {
      instanceOf: ExternalError,
    });
  };
  const e128 = await failing(128);
  t.regex(e128!.message, /^sops failed on s\.yaml \(exit 128: could not retrieve the data key/);
  t.regex(e128!.message, /sops said: no key here/);
  t.regex(e128!.remedy!, /SOPS_AGE_KEY_FILE/);
  t.regex((await failing(51))!.message, /MAC mismatch/);
  const e3 = await failing(3);
  t.regex(e3!.message, /exit 3: could not write the output file/);
  const e9 = await failing(9);
  t.is(e9!.message, 'sops failed on s.yaml (exit 9)\n  sops said: no key here');
  t.is(e9!.remedy, undefined);

  const crash = await fake(dir, 'crash', 'kill -SEGV $$');
  const crashed = await t.throwsAsync(
    createSops({ bin: crash }).unset('s.yaml', ['x'], { cwd: dir }),
  );
  t.is(crashed!.message, 'sops was stopped by SIGSEGV on s.yaml');

  const missing = await t.throwsAsync(createSops({ bin: join(dir, 'nope') }).ensureReady());
  t.regex(missing!.message, /sops not found \(looked for ".*nope" on PATH\)/);
  const plain = join(dir, 'not-executable');
  await writeFile(plain, 'echo hi\n');
  const denied = await t.throwsAsync(createSops({ bin: plain }).ensureReady());
  t.is(denied!.message, 'could not start sops (EACCES)');
});

test('once the version check failed no further sops process starts; a too old sops is named', async (t) => {
  const dir = await scratch(t);
  const log = join(dir, 'argv.log');
  const sops = createSops({
    bin: join(FAKE_SOPS, 'record-argv.sh'),
    env: {
      ...process.env,
      SOPS_RECORD_NEXT: join(FAKE_SOPS, 'old-version.sh'),
      SOPS_ARGV_LOG: log,
    },
  });
  const calls = await Promise.allSettled([
    sops.decrypt('a.yaml', { cwd: dir }),
    sops.unset('b.yaml', ['data', 'k'], { cwd: dir }),
    sops.ensureReady(),
  ]);
  for (const c of calls) {
    t.is(c.status, 'rejected');
    if (c.status === 'rejected')
      t.regex(String(c.reason), /is version 3\.8\.0; gitops-secrets needs sops 3\.11\.0/);
  }
  t.is(await readFile(log, 'utf8'), '--version --disable-version-check\n');
});

test('a hung sops is stopped by its own pid after the time limit; the next call runs', async (t) => {
  const dir = await scratch(t);
  const hang = await fake(dir, 'hang', `echo $$ >"${join(dir, 'pid')}"; exec sleep 600`);
  const sops = createSops({ bin: hang, timeoutMs: 300 });
  const e = await t.throwsAsync<ExternalError>(sops.updateKeys('s.yaml', { cwd: dir }));
  t.is(e!.message, 'sops timed out on s.yaml');
  t.regex(e!.remedy!, /GITOPS_SECRETS_SOPS_TIMEOUT_MS/);
  const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
  t.throws(() => process.kill(pid, 0), undefined, 'the hung process is gone');
  const ok = createSops({ bin: await fake(dir, 'ok', 'echo fine') });
  t.is(await ok.decrypt('s.yaml', { cwd: dir }), 'fine\n');
});

test('the fault-injection shims find the tool: the parent of each sops process', async (t) => {
  const dir = await scratch(t);
  const who = await fake(dir, 'who', `. "${join(FAKE_SOPS, 'tool-pid.sh')}"; echo "$tool"`);
  t.is(await createSops({ bin: who }).decrypt('s.yaml', { cwd: dir }), `${process.pid}\n`);
});

test('updateKeys passes recipient changes to sops rotate; without one, updatekeys with the config recipients', async (t) => {
  const dir = await scratch(t);
  const log = join(dir, 'argv.log');
  const record = await fake(
    dir,
    'record',
    `echo "$*" >>"${log}"; [ "$1" = "--config" ] || exit 0; cat "$2" >>"${log}"; echo >>"${log}"`,
  );
  const sops = createSops({ bin: record });
  await sops.updateKeys('s.yaml', {
    cwd: dir,
    rotate: {
      add: ['azureKv:https://v.vault.azure.net/keys/k/1'],
      remove: ['hcVault:https://vault/v1/transit/keys/old'],
    },
  });
  await sops.updateKeys('s.yaml', {
    cwd: dir,
    settings: { ...settings('age1x'), azureKv: ['https://v/keys/k'] },
  });
  await sops.updateKeys('s.yaml', {
    cwd: dir,
    settings: { ...settings('age1x'), hasRecipients: false },
  });
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  t.is(
    lines[0],
    'rotate --in-place --add-azure-kv https://v.vault.azure.net/keys/k/1 --rm-hc-vault-transit https://vault/v1/transit/keys/old s.yaml',
  );
  t.regex(lines[1]!, /^--config \S+\/sops\.yaml updatekeys --yes s\.yaml$/);
  t.deepEqual(JSON.parse(lines[2]!), {
    creation_rules: [{ age: 'age1x', azure_keyvault: 'https://v/keys/k' }],
  });
  t.is(lines[3], 'updatekeys --yes s.yaml');
});

test('NODE_DEBUG=execa is in effect for execa, yet a sync with it prints no value', async (t) => {
  // The canary: a plain execa call under NODE_DEBUG=execa does log what its process printed.
  const canary = await execa(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { execa } from 'execa'; await execa('echo', ['canary-output-1234']);",
    ],
    { cwd: ROOT, env: { ...process.env, NODE_DEBUG: 'execa' } },
  );
  t.regex(canary.stderr, /canary-output-1234/);

  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const r = await s.run(['sync', '--json'], { env: { NODE_DEBUG: 'execa' } });
  t.is(r.exitCode, 0, r.stderr);
  const file = await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml');
  const values = Object.values((await s.decrypt(file)).data);
  t.true(values.length >= 2);
  t.deepEqual(await findLeaks(s, values, [r.stdout, r.stderr]), []);
});
