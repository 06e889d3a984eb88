import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import {
  type CliResult,
  example,
  exampleScenario,
  findLeaks,
  makeScenario,
  mergedScenario,
  type Scenario,
} from './helpers/scenario.js';

// Issue 23: derived keys and typed Secrets, checked with tools that know nothing of
// gitops-secrets: Apache's htpasswd, OpenSSH's ssh-keygen, WHATWG URL, JSON and base64.

const file = (s: Scenario, ref: string, ns: string, name: string) =>
  s.show(ref, `secrets/${ns}/${name}.yaml`).then((t) => s.decrypt(t));

const typeOf = (s: Scenario, ref: string, ns: string, name: string) =>
  s.show(ref, `secrets/${ns}/${name}.yaml`).then((t) => /^type: (.*)$/m.exec(t)?.[1]);

/** The scenario `made` resolves to, removed when the test ends. */
async function cleanedUp(t: ExecutionContext, made: Promise<Scenario>): Promise<Scenario> {
  const s = await made;
  t.teardown(() => s.cleanup());
  return s;
}

/** The command's result, once it is checked to exit 0 (its stderr shown if not). */
async function succeeds(t: ExecutionContext, running: Promise<CliResult>): Promise<CliResult> {
  const r = await running;
  t.is(r.exitCode, 0, r.stderr);
  return r;
}

/** The remote's branches, as `git branch --list` prints them (trimmed). */
const remoteBranches = (s: Scenario) =>
  s.git(['--git-dir', s.remote, 'branch', '--list'], s.dir).then((b) => b.trim());

/**
 * `set app/web password` with a password longer than bcrypt reads (72 bytes) is refused: exit
 * 2 naming the htpasswd line made from it, the password not echoed, nothing pushed.
 */
async function refusesLongPassword(t: ExecutionContext, s: Scenario) {
  const long = 'a-long-passphrase-'.repeat(5);
  const r = await s.run(['set', 'app/web', 'password'], { input: long });
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stderr, /longer than 72 bytes; the htpasswd line app\/web auth is made from it/);
  t.false(r.stderr.includes(long));
  t.is(await remoteBranches(s), '* main');
}

/** A config's start: version 1 and the first Secret `namespace/name`, up to its `keys:`. */
const secretHead = (namespace: string, name: string) => `version: 1
secrets:
  - name: ${name}
    namespace: ${namespace}
    keys:
`;

let n = 0;
const dataDirs = new Map<Scenario, string>();
/** `rotate --force` of one secret (one key of it), at a given clock. */
function forceRotate(s: Scenario, secret: string, o: { key?: string; now?: string } = {}) {
  return s.run([
    'rotate',
    '--force',
    '--secret',
    secret,
    ...(o.key ? ['--key', o.key] : []),
    ...(o.now ? ['--now', o.now] : []),
  ]);
}

/**
 * A test-data file for the independent tools, in a directory of the test's own (outside the
 * scenario's, which findLeaks searches), removed with the scenario.
 */
async function scratch(s: Scenario, text: string, mode = 0o600): Promise<string> {
  let dir = dataDirs.get(s);
  if (!dir) {
    dir = await mkdtemp(join(tmpdir(), 'gs-derived-data-'));
    dataDirs.set(s, dir);
    const cleanup = s.cleanup.bind(s);
    s.cleanup = async () => {
      await rm(dir!, { recursive: true, force: true });
      await cleanup();
    };
  }
  const path = join(dir, `data-${n++}`);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

/** `htpasswd -vb` accepts the line with the password, and refuses another password. */
async function checkHtpasswd(
  t: ExecutionContext,
  s: Scenario,
  line: string,
  user: string,
  pw: string,
) {
  t.regex(line, new RegExp(`^${user}:\\$2y\\$10\\$[./A-Za-z0-9]{53}$`));
  const path = await scratch(s, `${line}\n`);
  const ok = await execa('htpasswd', ['-vb', path, user, pw], { reject: false });
  t.is(ok.exitCode, 0, ok.stderr);
  const wrong = await execa('htpasswd', ['-vb', path, user, `${pw}x`], { reject: false });
  t.not(wrong.exitCode, 0);
}

/**
 * `ssh-keygen -y` reads the private key (mode 600) and gives the public key beside it;
 * `ssh-keygen -l` shows the same fingerprint for both. Returns the `-l` line.
 */
async function checkSshPair(t: ExecutionContext, s: Scenario, priv: string, pub: string) {
  t.regex(
    priv,
    /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n?$/,
  );
  const privFile = await scratch(s, priv.endsWith('\n') ? priv : `${priv}\n`);
  const pubFile = await scratch(s, `${pub}\n`, 0o644);
  const derived = await execa('ssh-keygen', ['-y', '-f', privFile]);
  const fields = (line: string) => line.trim().split(' ').slice(0, 2).join(' ');
  t.is(fields(derived.stdout), fields(pub));
  const lp = (await execa('ssh-keygen', ['-l', '-f', privFile])).stdout;
  const lq = (await execa('ssh-keygen', ['-l', '-f', pubFile])).stdout;
  t.is(lp.split(' ')[1], lq.split(' ')[1], 'same fingerprint');
  return lq;
}

test('ingress basic auth: the htpasswd line checks against the password beside it, after sync and after rotate --force', async (t) => {
  const s = await cleanedUp(t, exampleScenario('ingress-basic-auth.yaml'));
  await succeeds(t, s.run(['sync', '--now', '2026-01-01T00:00:00Z']));
  const first = (await file(s, 'gitops-secrets/sync', 'monitoring', 'grafana-basic-auth')).data;
  t.is(first.password!.length, 24);
  await checkHtpasswd(t, s, first.auth!, 'admin', first.password!);
  const admin = await file(s, 'gitops-secrets/sync', 'monitoring', 'grafana-admin');
  t.is(
    await typeOf(s, 'gitops-secrets/sync', 'monitoring', 'grafana-admin'),
    'kubernetes.io/basic-auth',
  );
  t.deepEqual(Object.keys(admin.data).sort(), ['password', 'username']);
  t.is(admin.data.username, 'admin');
  await s.mergePullRequest();

  // A derived key is never rotated alone.
  const alone = await forceRotate(s, 'monitoring/grafana-basic-auth', { key: 'auth' });
  t.is(alone.exitCode, 2);
  t.regex(alone.stderr, /--key auth is made from password and never rotated alone/);

  const rot = await succeeds(
    t,
    forceRotate(s, 'monitoring/grafana-basic-auth', {
      key: 'password',
      now: '2026-02-01T00:00:00Z',
    }),
  );
  t.regex(rot.stdout, /auth\s+rotated.*made from password, which changes too/);
  const after = (await file(s, 'gitops-secrets/rotate', 'monitoring', 'grafana-basic-auth')).data;
  t.not(after.password, first.password);
  t.not(after.auth, first.auth);
  await checkHtpasswd(t, s, after.auth!, 'admin', after.password!);
  // One commit holds both.
  const changed = await s.git(
    ['--git-dir', s.remote, 'show', '--name-only', '--format=', 'gitops-secrets/rotate'],
    s.dir,
  );
  t.is(changed.trim(), 'secrets/monitoring/grafana-basic-auth.yaml');
  t.deepEqual(await findLeaks(s, [first.password!, after.password!, first.auth!, after.auth!]), []);
});

test('Flux deploy key: ed25519 and RSA pairs check with ssh-keygen; rotate --force changes both halves together', async (t) => {
  const s = await cleanedUp(t, exampleScenario('flux-deploy-key.yaml'));
  await succeeds(t, s.run(['sync', '--now', '2026-01-01T00:00:00Z']));
  const flux = (await file(s, 'gitops-secrets/sync', 'flux-system', 'flux-git')).data;
  t.deepEqual(
    Object.keys(flux).sort(),
    ['identity', 'identity.pub'],
    'known_hosts waits for a person',
  );
  t.regex(flux['identity.pub']!, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ flux@cluster$/);
  t.regex(
    await checkSshPair(t, s, flux.identity!, flux['identity.pub']!),
    /^256 SHA256:\S+ flux@cluster \(ED25519\)$/,
  );

  const mirror = (await file(s, 'gitops-secrets/sync', 'git-mirror', 'mirror-ssh')).data;
  t.is(
    await typeOf(s, 'gitops-secrets/sync', 'git-mirror', 'mirror-ssh'),
    'kubernetes.io/ssh-auth',
  );
  t.regex(
    await checkSshPair(t, s, mirror['ssh-privatekey']!, mirror['ssh-publickey']!),
    /^3072 SHA256:\S+ mirror@cluster \(RSA\)$/,
  );
  await s.mergePullRequest();

  await succeeds(t, forceRotate(s, 'flux-system/flux-git', { now: '2026-02-01T00:00:00Z' }));
  const after = (await file(s, 'gitops-secrets/rotate', 'flux-system', 'flux-git')).data;
  t.not(after.identity, flux.identity);
  t.not(after['identity.pub'], flux['identity.pub']);
  await checkSshPair(t, s, after.identity!, after['identity.pub']!);
  t.deepEqual(
    (await file(s, 'gitops-secrets/rotate', 'git-mirror', 'mirror-ssh')).data,
    mirror,
    'the other Secret is left alone',
  );
});

test('DATABASE_URL from a shared password: WHATWG URL gives the password back, after sync, set --shared and a new template key', async (t) => {
  const s = await cleanedUp(t, exampleScenario('app-database-url.yaml'));
  await succeeds(t, s.run(['sync', '--now', '2026-01-01T00:00:00Z']));
  const app = (await file(s, 'gitops-secrets/sync', 'shop', 'app')).data;
  const db = (await file(s, 'gitops-secrets/sync', 'shop', 'app-db')).data;
  t.is(app.DB_PASSWORD, db.POSTGRES_PASSWORD);
  const url = new URL(app.DATABASE_URL!);
  t.is(decodeURIComponent(url.password), app.DB_PASSWORD!);
  t.is(url.username, 'app');
  t.is(url.host, 'app-db.shop.svc:5432');
  t.is(url.searchParams.get('sslmode'), 'require');
  t.deepEqual(JSON.parse(app.SETTINGS_JSON!), {
    database: { password: app.DB_PASSWORD },
    session: app.SESSION_KEY,
  });
  await s.mergePullRequest();

  // A person replaces the shared password: every Secret that uses it, URL included, in one go.
  const hard = 'p@ss:w/rd?#%&= "quoted" \\ 日本';
  await succeeds(t, s.run(['set', '--shared', 'app-db-password'], { input: `${hard}\n` }));
  const after = (await file(s, 'gitops-secrets/sync', 'shop', 'app')).data;
  t.is(after.DB_PASSWORD, hard);
  t.is((await file(s, 'gitops-secrets/sync', 'shop', 'app-db')).data.POSTGRES_PASSWORD, hard);
  const u = new URL(after.DATABASE_URL!);
  t.is(decodeURIComponent(u.password), hard);
  t.is(u.host, 'app-db.shop.svc:5432', 'the password cannot break out of the userinfo');
  t.is(JSON.parse(after.SETTINGS_JSON!).database.password, hard);
  t.is(after.SESSION_KEY, app.SESSION_KEY);
  await s.mergePullRequest();

  // A template key added to an existing Secret is made from the value the file holds (decrypted).
  const config = (await example('app-database-url.yaml')).replace(
    '      SESSION_KEY: { bytes: 32 }\n',
    '      SESSION_KEY: { bytes: 32 }\n      READER_URL: { template: "postgres://reader:{{ DB_PASSWORD | urlencode }}@replica/app" }\n',
  );
  await s.writeConfig(config);
  await s.commitAndPush('reader url');
  await succeeds(t, s.run(['sync', '--now', '2026-03-01T00:00:00Z']));
  const added = (await file(s, 'gitops-secrets/sync', 'shop', 'app')).data;
  t.is(decodeURIComponent(new URL(added.READER_URL!).password), hard);
  t.is(added.DATABASE_URL, after.DATABASE_URL);
  await s.mergePullRequest();

  // A forced rotation of the shared password: every key made from it changes in the same commit.
  await succeeds(
    t,
    forceRotate(s, 'shop/app', { key: 'DB_PASSWORD', now: '2026-04-01T00:00:00Z' }),
  );
  const rotated = (await file(s, 'gitops-secrets/rotate', 'shop', 'app')).data;
  t.not(rotated.DB_PASSWORD, hard);
  t.is(
    (await file(s, 'gitops-secrets/rotate', 'shop', 'app-db')).data.POSTGRES_PASSWORD,
    rotated.DB_PASSWORD,
  );
  for (const key of ['DATABASE_URL', 'READER_URL'] as const) {
    t.not(rotated[key], added[key]);
    t.is(decodeURIComponent(new URL(rotated[key]!).password), rotated.DB_PASSWORD!);
  }
  t.is(JSON.parse(rotated.SETTINGS_JSON!).database.password, rotated.DB_PASSWORD);
  t.is(rotated.SESSION_KEY, app.SESSION_KEY, 'keys not made from it stay');
  const commits = await s.git(
    ['--git-dir', s.remote, 'rev-list', '--count', 'main..gitops-secrets/rotate'],
    s.dir,
  );
  t.is(commits.trim(), '1');
  t.deepEqual(
    await findLeaks(s, [app.DB_PASSWORD!, hard, app.DATABASE_URL!, rotated.DB_PASSWORD!]),
    [],
  );
});

test('registry pull Secrets: .dockerconfigjson decodes to user:token, made when the token is set', async (t) => {
  const s = await cleanedUp(t, exampleScenario('registry-pull-secret.yaml'));
  const r = await succeeds(t, s.run(['sync', '--now', '2026-01-01T00:00:00Z']));
  t.regex(r.stdout, /ci\/ghcr-pull\s+\.dockerconfigjson\s+needs input\s+made from token/);
  const auths = (json: string) =>
    JSON.parse(json).auths as Record<string, { username: string; password: string; auth: string }>;
  const harbor = (await file(s, 'gitops-secrets/sync', 'ci', 'harbor-pull')).data;
  t.is(
    await typeOf(s, 'gitops-secrets/sync', 'ci', 'harbor-pull'),
    'kubernetes.io/dockerconfigjson',
  );
  const h = auths(harbor['.dockerconfigjson']!)['harbor.example.com']!;
  t.is(Buffer.from(h.auth, 'base64').toString(), `robot-pull:${harbor.token}`);
  t.is(h.password, harbor.token!);
  await s.mergePullRequest();

  const token = 'ghp_registryReadOnlyToken0123456789ab';
  await succeeds(t, s.run(['set', 'ci/ghcr-pull', 'token'], { input: `${token}\n` }));
  const ghcr = (await file(s, 'gitops-secrets/sync', 'ci', 'ghcr-pull')).data;
  t.is(ghcr.token, token);
  const g = auths(ghcr['.dockerconfigjson']!)['ghcr.io']!;
  t.is(Buffer.from(g.auth, 'base64').toString(), `ci-bot:${token}`);
  t.is(g.username, 'ci-bot');
  t.is(await typeOf(s, 'gitops-secrets/sync', 'ci', 'ghcr-pull'), 'kubernetes.io/dockerconfigjson');
  t.deepEqual(await findLeaks(s, [token, harbor.token!]), []);
});

test('invalid derived keys fail with file:line:col and what is allowed, and write nothing', async (t) => {
  const s = await cleanedUp(t, exampleScenario('keptn-bridge.yaml'));
  await s.writeConfig(`${secretHead('app', 'web')}      password: { length: 20 }
      auth: { htpasswd: { user: admin, from: passwd } }
      A: { template: "{{ B }}" }
      B: { template: "x{{ A | base64 }}" }
      URL: { template: "postgres://app:{{ DB_PASS | urlencode }}@db/app" }
  - name: mirror
    namespace: app
    keys:
      key: { ssh: { type: rsa, bits: 1024 } }
  - name: login
    namespace: app
    type: kubernetes.io/basic-auth
    keys:
      password: { length: 20 }
`);
  await s.commitAndPush('bad derived keys');
  for (const command of [['sync'], ['check'], ['rotate', '--force']]) {
    const r = await s.run(command);
    t.is(r.exitCode, 2, r.stderr);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    const lines = r.stderr.split('\n');
    const has = (re: RegExp) =>
      t.true(
        lines.some((l) => re.test(l)),
        `${re} in\n${r.stderr}`,
      );
    has(
      /^config\/secrets\.yaml:7:46: secrets\[0\]\.keys\.auth\.htpasswd\.from: no key "passwd" in this Secret; declared: password, /,
    );
    has(
      /^config\/secrets\.yaml:8:22: secrets\[0\]\.keys\.A\.template: derived keys form a cycle: A → B → A$/,
    );
    has(
      /^config\/secrets\.yaml:10:24: secrets\[0\]\.keys\.URL\.template: no key "DB_PASS" in this Secret/,
    );
    has(
      /^config\/secrets\.yaml:14:38: secrets\[1\]\.keys\.key\.ssh\.bits: must be 2048, 3072, 4096 \(RSA keys below 2048 bits are refused\)$/,
    );
    has(
      /^config\/secrets\.yaml:17:11: secrets\[2\]\.type: a kubernetes\.io\/basic-auth Secret needs the keys? username; /,
    );
  }
  t.is(await remoteBranches(s), '* main', 'nothing pushed');
  t.is((await s.git(['status', '--porcelain'])).trim(), '', 'nothing written');
});

test('set refuses a password an htpasswd line is made from when bcrypt would ignore part of it; nothing written', async (t) => {
  const s = await cleanedUp(t, exampleScenario('keptn-bridge.yaml'));
  await s.writeConfig(`${secretHead('app', 'web')}      password: { provided: true, description: the admin password }
      auth: { htpasswd: { user: admin, from: password } }
`);
  await s.commitAndPush('provided password');
  await refusesLongPassword(t, s);
  await succeeds(t, s.run(['set', 'app/web', 'password'], { input: 'short enough passphrase' }));
  const data = (await file(s, 'gitops-secrets/sync', 'app', 'web')).data;
  await checkHtpasswd(t, s, data.auth!, 'admin', 'short enough passphrase');
});

test('a derived key the sync branch made is made again from the base password a rotation merged meanwhile', async (t) => {
  const base = `${secretHead('app', 'web')}      password: { length: 20 }
`;
  const s = await cleanedUp(t, mergedScenario(base, '2026-01-01T00:00:00Z'));
  // 09:00: a rotation PR for the password.
  await succeeds(t, forceRotate(s, 'app/web', { key: 'password', now: '2026-02-01T09:00:00Z' }));
  // 10:00: someone adds an htpasswd line; the sync PR makes it from the base's (old) password.
  await s.writeConfig(`${base}      auth: { htpasswd: { user: admin, from: password } }\n`);
  await s.commitAndPush('basic auth');
  await succeeds(t, s.run(['sync', '--now', '2026-02-01T10:00:00Z']));
  // The rotation PR is merged; the next sync finds the file changed on both sides.
  await s.git(['fetch', '--quiet', 'origin']);
  await s.git(['merge', '--quiet', '--no-edit', 'origin/gitops-secrets/rotate']);
  await s.git(['push', '--quiet', 'origin', 'HEAD:main']);
  await succeeds(t, s.run(['sync', '--now', '2026-02-01T11:00:00Z']));
  const rotated = (await file(s, 'main', 'app', 'web')).data.password!;
  const data = (await file(s, 'gitops-secrets/sync', 'app', 'web')).data;
  t.is(data.password, rotated, 'the password is the rotated one');
  await checkHtpasswd(t, s, data.auth!, 'admin', rotated);
});

test('a new input without a value in an existing template: sync and check report it waiting, the value stays', async (t) => {
  const before = `${secretHead('shop', 'app')}      password: { length: 20 }
      HOST: { provided: true, description: the database host }
      URL: { template: "postgres://app:{{ password | urlencode }}@db/app" }
`;
  const s = await cleanedUp(t, mergedScenario(before, '2026-01-01T00:00:00Z'));
  const old = (await file(s, 'main', 'shop', 'app')).data;
  await s.writeConfig(before.replace('@db/app', '@{{ HOST }}/app'));
  await s.commitAndPush('the host is given');
  const r = await succeeds(t, s.run(['sync', '--now', '2026-02-01T00:00:00Z']));
  t.regex(r.stdout, /shop\/app\s+URL\s+needs input\s+made from HOST; it has no value yet/);
  const check = await s.run(['check']);
  t.regex(check.stdout, /empty slots[\s\S]*URL\s+needs input/);
  t.notRegex(check.stdout, /pending for sync|due for rotation/);
  t.notRegex(r.stdout, /^changes:/m, 'nothing to propose');
  t.deepEqual((await file(s, 'main', 'shop', 'app')).data, old);
  // Once the host is set, the URL is made from it and the password the file holds.
  await succeeds(t, s.run(['set', 'shop/app', 'HOST'], { input: 'db.example.com' }));
  const after = new URL((await file(s, 'gitops-secrets/sync', 'shop', 'app')).data.URL!);
  t.is(after.host, 'db.example.com');
  t.is(decodeURIComponent(after.password), old.password!);
});

test('check reports an ssh key whose type or size changed in the config; rotate --force makes the new one', async (t) => {
  const ed = `${secretHead('git', 'mirror')}      key: { ssh: { type: ed25519, comment: mirror } }
`;
  const s = await cleanedUp(t, mergedScenario(ed, '2026-01-01T00:00:00Z'));
  t.regex((await s.run(['check'])).stdout, /nothing pending/);
  await s.writeConfig(ed.replace('type: ed25519', 'type: rsa, bits: 2048'));
  await s.commitAndPush('rsa for an old server');
  const check = await s.run(['check']);
  t.is(check.exitCode, 3, check.stderr);
  t.regex(
    check.stdout,
    /ssh key git\/mirror key is ed25519, the config says rsa-2048: `gitops-secrets rotate --force --secret git\/mirror --key key` makes a new one/,
  );
  await succeeds(t, forceRotate(s, 'git/mirror', { key: 'key', now: '2026-02-01T00:00:00Z' }));
  const after = (await file(s, 'gitops-secrets/rotate', 'git', 'mirror')).data;
  t.regex(
    await checkSshPair(t, s, after.key!, after['key.pub']!),
    /^2048 SHA256:\S+ mirror \(RSA\)$/,
  );
  await s.mergePullRequest('gitops-secrets/rotate');
  t.regex((await s.run(['check'])).stdout, /nothing pending/);
});

test('a typed Secret is not written while its required key waits; the set that fills it writes the whole Secret', async (t) => {
  const s = await cleanedUp(t, makeScenario());
  await s.writeConfig(`version: 1
secrets:
  - name: mirror
    namespace: git
    type: kubernetes.io/ssh-auth
    keys:
      ssh-privatekey: { provided: true, description: the mirror's deploy key }
      known_hosts: { template: "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" }
`);
  await s.commitAndPush('mirror');
  const r = await succeeds(t, s.run(['sync', '--now', '2026-01-01T00:00:00Z']));
  t.regex(
    r.stdout,
    /git\/mirror\s+known_hosts\s+needs input\s+waits for ssh-privatekey: Kubernetes refuses a kubernetes\.io\/ssh-auth Secret without it/,
  );
  const listed = await s.git(
    ['--git-dir', s.remote, 'ls-tree', '-r', '--name-only', 'main'],
    s.dir,
  );
  t.false(listed.includes('secrets/git/mirror.yaml'));
  t.is(await remoteBranches(s), '* main');
  const key =
    '-----BEGIN OPENSSH PRIVATE KEY-----\nnot checked by Kubernetes\n-----END OPENSSH PRIVATE KEY-----';
  await succeeds(t, s.run(['set', 'git/mirror', 'ssh-privatekey'], { input: key }));
  t.is(await typeOf(s, 'gitops-secrets/sync', 'git', 'mirror'), 'kubernetes.io/ssh-auth');
  const data = (await file(s, 'gitops-secrets/sync', 'git', 'mirror')).data;
  t.deepEqual(Object.keys(data).sort(), ['known_hosts', 'ssh-privatekey']);
  t.is(data['ssh-privatekey'], key);
  t.regex(data.known_hosts!, /^github\.com ssh-ed25519 /);
});

test('set refuses a password that reaches an htpasswd line through a template when bcrypt would ignore part of it', async (t) => {
  const s = await cleanedUp(t, makeScenario());
  await s.writeConfig(`${secretHead('app', 'web')}      password: { provided: true, description: the admin password }
      salted: { template: "x-{{ password }}" }
      auth: { htpasswd: { user: admin, from: salted } }
`);
  await s.commitAndPush('templated password');
  await refusesLongPassword(t, s);
});
