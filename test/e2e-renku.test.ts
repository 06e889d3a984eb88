import test from 'ava';
import { example, findLeaks, makeScenario, type Scenario } from './helpers/scenario.js';

const API_TOKEN = 'vendor-token-1234567890-prod';
const NEW_DB_PASSWORD = 'replaced-everywhere-Password-0987654321';

async function merge(s: Scenario) {
  await s.mergePullRequest('gitops-secrets/sync');
}

const secret = (s: Scenario, env: string, name: string) =>
  s.show('gitops-secrets/sync', `secrets/${env}/renku/${name}.yaml`).then((t) => s.decrypt(t));

test('Renku slots end to end: sync, set a slot from stdin, list where-used, replace a shared value, prune', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('renku-slots.yaml'));
  await s.commitAndPush('renku config');

  // 1. sync: every environment gets its own values; the slot needs input.
  const first = await s.run(['sync']);
  t.is(first.exitCode, 0, first.stderr);
  t.regex(first.stdout, /renku\/analytics@prod\s+API_TOKEN\s+needs input/);
  const devA = (await secret(s, 'dev', 'analytics')).data;
  const prodA = (await secret(s, 'prod', 'analytics')).data;
  const prodR = (await secret(s, 'prod', 'reporting')).data;
  t.is(prodA.DB_PASSWORD, prodR.DATABASE_PASSWORD, 'one shared value per environment');
  t.not(devA.DB_PASSWORD, prodA.DB_PASSWORD, 'each environment its own value');
  t.false('API_TOKEN' in prodA);

  // 2. set the slot for prod from stdin.
  const tooShort = await s.run(['set', 'renku/analytics', 'API_TOKEN', '--env', 'prod'], {
    input: 'short',
  });
  t.is(tooShort.exitCode, 2);
  t.regex(tooShort.stderr, /shorter than minLength 16 \(the value is not shown\)/);
  const set = await s.run(['set', 'renku/analytics', 'API_TOKEN', '--env', 'prod'], {
    input: `${API_TOKEN}\n`,
  });
  t.is(set.exitCode, 0, set.stderr);
  t.regex(set.stdout, /renku\/analytics@prod\s+API_TOKEN\s+provided\s+value provided by a person/);
  t.is((await secret(s, 'prod', 'analytics')).data.API_TOKEN, API_TOKEN);
  t.false('API_TOKEN' in (await secret(s, 'dev', 'analytics')).data, 'dev keeps its empty slot');
  t.is(
    (await secret(s, 'prod', 'analytics')).data.DB_PASSWORD,
    prodA.DB_PASSWORD,
    'set changes nothing else',
  );

  // 3. list shows where the shared value is used, per environment.
  await merge(s);
  const listed = await s.run(['list', '--json']);
  t.is(listed.exitCode, 0, listed.stderr);
  const l = JSON.parse(listed.stdout) as {
    shared: { name: string; environment: string; usedBy: { secret: string; key: string }[] }[];
    secrets: {
      id: string;
      environment: string;
      keys: { key: string; state: string; source: string }[];
    }[];
  };
  const prodShared = l.shared.find((x) => x.environment === 'prod')!;
  t.deepEqual(
    prodShared.usedBy.map((u) => `${u.secret} ${u.key}`),
    ['renku/analytics DB_PASSWORD', 'renku/reporting DATABASE_PASSWORD'],
  );
  const state = (env: string, key: string) =>
    l.secrets
      .find((x) => x.id === 'renku/analytics' && x.environment === env)!
      .keys.find((k) => k.key === key)!.state;
  t.is(state('prod', 'API_TOKEN'), 'present');
  t.is(state('dev', 'API_TOKEN'), 'needs input');
  const human = await s.run(['list']);
  t.log(`gitops-secrets list:\n${human.stdout}`);
  t.regex(
    human.stdout,
    /analytics-db-password\s+prod\s+present.*renku\/analytics DB_PASSWORD, renku\/reporting DATABASE_PASSWORD/,
  );

  // 4. replace the shared value everywhere at once (prod only).
  const replace = await s.run(['set', '--shared', 'analytics-db-password', '--env', 'prod'], {
    input: NEW_DB_PASSWORD,
  });
  t.is(replace.exitCode, 0, replace.stderr);
  t.is((await secret(s, 'prod', 'analytics')).data.DB_PASSWORD, NEW_DB_PASSWORD);
  t.is((await secret(s, 'prod', 'reporting')).data.DATABASE_PASSWORD, NEW_DB_PASSWORD);
  t.is((await secret(s, 'dev', 'reporting')).data.DATABASE_PASSWORD, devA.DB_PASSWORD);
  await merge(s);

  // 5. a secret removed from the config: reported, removed only by --prune.
  const config = (await example('renku-slots.yaml')).replace(
    / {2}- name: session-broker[\s\S]*$/,
    '',
  );
  await s.writeConfig(config);
  await s.commitAndPush('drop session-broker');
  const check = await s.run(['check']);
  t.is(check.exitCode, 3);
  t.regex(check.stdout, /orphaned.*\n.*secrets\/dev\/renku\/session-broker.yaml/);
  const noPrune = await s.run(['sync', '--json']);
  t.is(JSON.parse(noPrune.stdout).commit, null);
  t.is(JSON.parse(noPrune.stdout).orphans.length, 2);
  const prune = await s.run(['sync', '--prune']);
  t.is(prune.exitCode, 0, prune.stderr);
  t.regex(prune.stdout, /renku\/session-broker\s+\(all keys\)\s+removed/);
  const files = await s.git(
    ['--git-dir', s.remote, 'ls-tree', '-r', '--name-only', 'gitops-secrets/sync'],
    s.dir,
  );
  t.false(files.includes('session-broker'));
  t.true(files.includes('secrets/prod/renku/analytics.yaml'));

  t.deepEqual(
    await findLeaks(s, [API_TOKEN, NEW_DB_PASSWORD, devA.DB_PASSWORD!, prodA.DB_PASSWORD!]),
    [],
  );
});

test('set refuses what is not a slot, with the reason, exit 2 and nothing written', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('renku-slots.yaml'));
  await s.commitAndPush('renku config');
  const cases: [string[], RegExp][] = [
    [
      ['set', 'renku/session-broker', 'SESSION_KEY', '--env', 'prod'],
      /SESSION_KEY is generated by gitops-secrets \(random, 64 characters\); only provided slots are set by hand/,
    ],
    [
      ['set', 'renku/analytics', 'DB_PASSWORD', '--env', 'prod'],
      /takes its value from shared.analytics-db-password[\s\S]*set --shared analytics-db-password --env prod/,
    ],
    [
      ['set', 'renku/analytics', 'API_TOKEN'],
      /the config has environments; pass --env \(one of dev, prod\)/,
    ],
    [
      ['set', 'renku/nope', 'X', '--env', 'dev'],
      /renku\/nope is not a secret in config\/secrets.yaml/,
    ],
    [['set', '--shared', 'nope', '--env', 'dev'], /no shared value "nope"/],
  ];
  for (const [args, message] of cases) {
    const r = await s.run(args, { input: 'some-value-that-is-long-enough' });
    t.is(r.exitCode, 2, args.join(' '));
    t.regex(r.stderr, message);
  }
  const empty = await s.run(['set', 'renku/analytics', 'API_TOKEN', '--env', 'dev'], { input: '' });
  t.is(empty.exitCode, 2);
  t.regex(empty.stderr, /the input was empty/);
  t.is(await s.git(['--git-dir', s.remote, 'branch', '--list', 'gitops-secrets/*'], s.dir), '');
});

test('init writes a config that validates, a .sops.yaml for the given recipient and workflows; refuses to overwrite', async (t) => {
  const s = await makeScenario({ sopsYaml: false });
  t.teardown(() => s.cleanup());
  const r = await s.run(['init', '--age', s.recipient]);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /wrote config\/secrets.yaml/);
  t.regex(r.stdout, /wrote \.sops\.yaml/);
  t.regex(r.stdout, /wrote \.github\/workflows\/gitops-secrets-rotate.yml/);
  const again = await s.run(['init', '--age', s.recipient]);
  t.is(again.exitCode, 2);
  t.regex(again.stderr, /not overwriting config\/secrets.yaml, \.sops\.yaml/);
  t.is((await s.run(['check'])).exitCode, 3, 'the starter config is valid and has work pending');
  await s.commitAndPush('init');
  const sync = await s.run(['sync']);
  t.is(sync.exitCode, 0, sync.stderr);
  const data = (
    await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/default/example-app.yaml'))
  ).data;
  t.is(data.SESSION_KEY!.length, 48);
  t.is(Buffer.from(data.ENCRYPTION_KEY!, 'base64').length, 32);
  t.is((await s.run(['init', '--force', '--age', 'not-a-recipient'])).exitCode, 2);
});

test('on a terminal, set prompts for the value and does not echo it', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(
    'version: 1\nsecrets:\n  - name: a\n    namespace: b\n    keys:\n      T: { provided: true, description: a token }\n',
  );
  await s.commitAndPush('config');
  const { execa } = await import('execa');
  const { CLI } = await import('./helpers/scenario.js');
  // util-linux `script` gives the CLI a real pseudo-terminal; the value is typed after the prompt.
  const typed = 'typed-on-a-terminal-42';
  const run = execa('script', ['-qc', `node ${CLI} set b/a T`, '/dev/null'], {
    cwd: s.repo,
    env: s.env,
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  // Type only once the prompt is shown, as a person would (the terminal echoes earlier input).
  let shown = '';
  run.stdout?.on('data', (chunk: Buffer) => {
    const before = shown;
    shown += chunk.toString();
    if (!before.includes('input hidden') && shown.includes('input hidden')) {
      setTimeout(() => run.stdin?.end(`${typed}\r`), 300);
    }
  });
  const r = await run;
  const screen = String(r.stdout) + String(r.stderr);
  s.outputs.push(screen);
  t.is(r.exitCode, 0, screen);
  t.regex(screen, /value for b\/a T \(input hidden\):/);
  t.false(screen.includes(typed), 'the typed value is not echoed');
  t.is((await s.decrypt(await s.show('gitops-secrets/sync', 'secrets/b/a.yaml'))).data.T, typed);
  t.deepEqual(await findLeaks(s, [typed]), []);
});
