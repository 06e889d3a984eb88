/**
 * Issue 23, the pure parts: templates and their filters, the values derived keys get, and the
 * plan's rule that a derived key changes with the keys it is made from, never alone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import bcrypt from 'bcryptjs';
import { execa } from 'execa';
import fc from 'fast-check';
import { setInPlan } from '../src/commands/set.js';
import {
  deriveValue,
  dockerConfigJson,
  generateSshKey,
  htpasswdLine,
  sshPublicKey,
} from '../src/model/derive.js';
import type { ManifestState } from '../src/model/manifest.js';
import { parseTemplate, percentEncode, renderTemplate } from '../src/model/template.js';
import { isEmptyPlan, plan } from '../src/plan/plan.js';
import { config, managedManifest, NEW } from './helpers/plan-fixtures.js';

const T0 = '2026-01-01T00:00:00Z';

test('percentEncode: WHATWG URL gives back any string put in the userinfo or the query', (t) => {
  let runs = 0;
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (pw) => {
      runs++;
      const url = new URL(
        `postgres://app:${percentEncode(pw)}@db:5432/app?password=${percentEncode(pw)}&x=1`,
      );
      return (
        decodeURIComponent(url.password) === pw &&
        url.searchParams.get('password') === pw &&
        url.host === 'db:5432' &&
        url.searchParams.get('x') === '1'
      );
    }),
    { numRuns: 2000 },
  );
  t.is(runs, 2000);
  t.is(
    percentEncode("a-._~!*'()@:/?#[]%+ &="),
    'a-._~%21%2A%27%28%29%40%3A%2F%3F%23%5B%5D%25%2B%20%26%3D',
  );
});

test('templates: text, references and filters; mistakes are reported with what is allowed', (t) => {
  const parsed = parseTemplate('u={{ A | urlencode }}; b={{B|base64}}; j={{ shared.x | json }}.');
  if (!('parts' in parsed)) return t.fail(parsed.error);
  t.deepEqual(parsed.parts, [
    { text: 'u=' },
    { ref: 'A', filters: ['urlencode'] },
    { text: '; b=' },
    { ref: 'B', filters: ['base64'] },
    { text: '; j=' },
    { ref: 'shared.x', filters: ['json'] },
    { text: '.' },
  ]);
  const values: Record<string, string> = { A: 'p@ss word', B: 'hi', 'shared.x': 'say "hi"' };
  t.is(
    renderTemplate(parsed.parts, (k) => values[k]!),
    'u=p%40ss%20word; b=aGk=; j="say \\"hi\\"".',
  );
  t.deepEqual(parseTemplate('plain text'), { parts: [{ text: 'plain text' }] });
  t.regex(
    (parseTemplate('{{ A | md5 }}') as { error: string }).error,
    /unknown filter "md5".*urlencode, base64, json/,
  );
  t.regex((parseTemplate('{{ A + B }}') as { error: string }).error, /must name a key/);
  t.regex((parseTemplate('{{ }}') as { error: string }).error, /must name a key/);
  t.regex((parseTemplate('x {{ A') as { error: string }).error, /without its "}}"/);
});

test('htpasswd lines are bcrypt $2y$ of the password at the given cost; dockerconfigjson carries user:token', (t) => {
  const line = htpasswdLine('admin', 'correct horse', 10);
  const [user, hash] = line.split(':') as [string, string];
  t.is(user, 'admin');
  t.regex(hash, /^\$2y\$10\$/);
  t.true(bcrypt.compareSync('correct horse', hash.replace(/^\$2y\$/, '$2b$')));
  t.false(bcrypt.compareSync('correct horsf', hash.replace(/^\$2y\$/, '$2b$')));
  t.not(htpasswdLine('admin', 'correct horse', 10), line, 'a new salt each time');
  const doc = JSON.parse(dockerConfigJson('ghcr.io', 'bot', 'tok:en')) as {
    auths: Record<string, { username: string; password: string; auth: string }>;
  };
  t.deepEqual(doc.auths['ghcr.io'], {
    username: 'bot',
    password: 'tok:en',
    auth: Buffer.from('bot:tok:en').toString('base64'),
  });
  const long = 'é'.repeat(37); // 74 bytes
  const err = t.throws(() =>
    deriveValue({ kind: 'htpasswd', user: 'admin', from: 'pw', cost: 10 }, () => long),
  );
  t.regex(err!.message, /pw is longer than 72 bytes.*not shown/);
  t.false(err!.message.includes('é'));
  t.is(
    deriveValue({ kind: 'template', parts: [{ text: 'x' }] }, () => t.fail() as never),
    'x',
    'a template without references reads no value',
  );
});

test('SSH key pairs: what ssh-keygen reads back, with the comment as configured (none: no comment)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-ssh-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cases = [
    { type: 'ed25519', bits: 4096, comment: '', expect: /^256 SHA256:\S+ no comment \(ED25519\)$/ },
    {
      type: 'rsa',
      bits: 2048,
      comment: 'old server',
      expect: /^2048 SHA256:\S+ old server \(RSA\)$/,
    },
  ] as const;
  for (const [i, c] of cases.entries()) {
    const priv = generateSshKey({ kind: 'ssh', ...c, publicKey: 'x' });
    const pub = sshPublicKey(priv, c.comment);
    t.is(pub.split(' ').length, c.comment ? 2 + c.comment.split(' ').length : 2, pub);
    const file = join(dir, `key-${i}`);
    await writeFile(file, priv, { mode: 0o600 });
    await writeFile(`${file}.pub`, `${pub}\n`);
    const back = (await execa('ssh-keygen', ['-y', '-f', file])).stdout.split(' ').slice(0, 2);
    t.deepEqual(back, pub.split(' ').slice(0, 2));
    t.regex((await execa('ssh-keygen', ['-l', '-f', `${file}.pub`])).stdout, c.expect);
  }
});

/** A config of one Secret `namespace/name` with `keys` (YAML lines, six spaces in) and a type. */
const oneSecret = (namespace: string, name: string, keys: string, type?: string) =>
  config(`version: 1
secrets:
  - name: ${name}
    namespace: ${namespace}
${type ? `    type: ${type}\n` : ''}    keys:
${keys}`);

type PlanInput = Parameters<typeof plan>[0];
/** The plan of `job` for config `c` over `held` (no manifests unless given), at `now` (T0). */
const planFor = (
  c: PlanInput['config'],
  job: PlanInput['job'],
  held: PlanInput['existing'] = new Map(),
  now = T0,
  more: Partial<PlanInput> = {},
) => plan({ config: c, job, existing: held, now: new Date(now), ...more });

const CONFIG = oneSecret(
  'shop',
  'web',
  `      password: { length: 24, rotateEvery: 30d }
      auth: { htpasswd: { user: admin, from: password } }
      url: { template: "https://admin:{{ password | urlencode }}@shop" }
      url64: { template: "{{ url | base64 }}" }
      other: { length: 10 }
`,
);
const fingerprint = (key: string) => {
  const k = CONFIG.secrets[0]!.keys.find((x) => x.name === key)!;
  return k.source.kind === 'derived' ? k.source.fingerprint : '';
};
const stamp = (rotated: string, derived?: string) => ({
  generated: T0,
  rotated,
  ...(derived ? { derived } : {}),
});

function existing(state: ManifestState['keys']) {
  return new Map([
    managedManifest('shop/web', Object.keys(state), NEW, { version: 1, keys: state }),
  ]);
}
const all = (t0 = T0) => ({
  password: stamp(t0),
  other: stamp(t0),
  auth: stamp(t0, fingerprint('auth')),
  url: stamp(t0, fingerprint('url')),
  url64: stamp(t0, fingerprint('url64')),
});
const rows = (p: ReturnType<typeof plan>) =>
  p.files.flatMap((f) => f.changes.map((c) => `${c.key} ${c.action}: ${c.reason}`));

test('derived keys come after their inputs and change with them: generated, due, forced', (t) => {
  const first = planFor(CONFIG, 'sync');
  t.deepEqual(rows(first), [
    'password generate: missing',
    'other generate: missing',
    'auth generate: missing',
    'url generate: missing',
    'url64 generate: missing',
  ]);
  const synced = existing(all());
  t.deepEqual(rows(planFor(CONFIG, 'sync', synced)), []);
  const due = planFor(CONFIG, 'rotate', synced, '2026-02-01T00:00:00Z');
  t.deepEqual(rows(due), [
    'password rotate: last rotated 2026-01-01, policy 30d',
    'auth rotate: made from password, which changes too',
    'url rotate: made from password, which changes too',
    'url64 rotate: made from url, which changes too',
  ]);
  const forced = planFor(CONFIG, 'rotate', synced, T0, {
    rotate: { secrets: ['shop/web'], key: 'other', force: true },
  });
  t.deepEqual(
    rows(forced),
    ['other rotate: forced; last rotated 2026-01-01'],
    'keys not made from it stay',
  );
  const forcedPw = planFor(CONFIG, 'rotate', synced, T0, {
    rotate: { secrets: ['shop/web'], key: 'password', force: true },
  });
  t.true(
    forcedPw.files[0]!.changes.every((c) => c.forced),
    'the derived keys are part of the forced rotation',
  );
  t.deepEqual(
    forcedPw.files[0]!.changes.map((c) => c.key),
    ['password', 'auth', 'url', 'url64'],
  );
});

test('a sync remakes a derived key whose definition changed or whose input was written after it, without decrypting', (t) => {
  const changed = existing({ ...all(), url: stamp(T0, 'an-older-definition') });
  t.deepEqual(rows(planFor(CONFIG, 'sync', changed)), [
    'url rotate: its definition in the config changed',
    'url64 rotate: made from url, which changes too',
  ]);
  const later = existing({ ...all(), password: stamp('2026-01-05T00:00:00Z') });
  t.deepEqual(rows(planFor(CONFIG, 'sync', later)), [
    'auth rotate: password changed after it was made',
    'url rotate: password changed after it was made',
    'url64 rotate: made from url, which changes too',
  ]);
  const { url: _, url64: __, ...without } = all();
  t.deepEqual(
    rows(planFor(CONFIG, 'sync', existing(without))),
    ['url generate: missing', 'url64 generate: missing'],
    'a new template key is made; its input stays',
  );
  t.deepEqual(rows(planFor(CONFIG, 'rotate', existing(without))), [], 'rotate does not add keys');
});

test('a derived key waits for a provided input', (t) => {
  const c = oneSecret(
    'ci',
    'pull',
    `      token: { provided: true, description: registry token }
      .dockerconfigjson: { dockerconfigjson: { registry: ghcr.io, user: bot, from: token } }
`,
    'kubernetes.io/dockerconfigjson',
  );
  t.deepEqual(rows(planFor(c, 'sync')), [
    'token needs-input: registry token',
    '.dockerconfigjson needs-input: made from token',
  ]);
});

test('a derived key the file holds waits, its value kept, when a new input of it has no value yet', (t) => {
  const c = oneSecret(
    'shop',
    'web',
    `      password: { length: 24, rotateEvery: 30d }
      HOST: { provided: true, description: the database host }
      url: { template: "postgres://app:{{ password | urlencode }}@{{ HOST }}/app" }
`,
  );
  // The file was made when the template had no HOST (another definition).
  const held = existing({ password: stamp(T0), url: stamp(T0, 'a-template-without-host') });
  t.deepEqual(rows(planFor(c, 'sync', held)), [
    'HOST needs-input: the database host',
    'url needs-input: made from HOST; it has no value yet (the current value stays)',
  ]);
  const due = planFor(c, 'rotate', held, '2026-02-01');
  t.deepEqual(rows(due), [
    'password rotate: last rotated 2026-01-01, policy 30d',
    'url needs-input: made from HOST; it has no value yet (the current value stays)',
  ]);
});

test('a typed Secret whose required key waits is not written: its other keys wait too', (t) => {
  const c = oneSecret(
    'git',
    'mirror',
    `      ssh-privatekey: { provided: true, description: the deploy key }
      known_hosts: { template: "github.com ssh-ed25519 AAAA" }
      token: { length: 20 }
`,
    'kubernetes.io/ssh-auth',
  );
  const waits =
    'waits for ssh-privatekey: Kubernetes refuses a kubernetes.io/ssh-auth Secret without it';
  const first = planFor(c, 'sync');
  t.deepEqual(rows(first), [
    'ssh-privatekey needs-input: the deploy key',
    `token needs-input: ${waits}`,
    `known_hosts needs-input: ${waits}`,
  ]);
  t.true(isEmptyPlan(first), 'nothing is written');
  // `set` of the private key writes the whole Secret.
  const secret = c.secrets[0]!;
  const key = secret.keys.find((k) => k.name === 'ssh-privatekey')!;
  setInPlan([{ secret, key, environment: undefined }], 'a key', 'given')(first);
  t.deepEqual(rows(first).sort(), [
    'known_hosts generate: missing',
    'ssh-privatekey set: given',
    'token generate: missing',
  ]);
});
