/**
 * The files the tool reads as input, the config and `.sops.yaml`: files of the repository,
 * UTF-8 text, and a config that stays off the tool's own annotation prefix. Anything else is
 * exit 2 with a message naming the file, and nothing is written or pushed.
 */
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { makeScenario, type Scenario } from './helpers/scenario.js';

/** Recipients from .sops.yaml (the scenario writes one), so the tool reads it. */
const CONFIG = `version: 1
secrets:
  - name: app
    namespace: team
    keys:
      password: { length: 24 }
`;

async function scenario(t: ExecutionContext, commit = true): Promise<Scenario> {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  if (commit) {
    await s.writeConfig(CONFIG);
    await s.commitAndPush('add secrets config');
  }
  return s;
}

/** The run wrote nothing: no branch on the remote but main, no change in the checkout. */
async function nothingWritten(t: ExecutionContext, s: Scenario, status: string) {
  const heads = await s.git(['ls-remote', '--heads', 'origin']);
  t.deepEqual(
    heads
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[1]),
    ['refs/heads/main'],
  );
  t.is(await s.git(['status', '--porcelain']), status);
}

test('a config that is a symlink leading outside the repo is refused, exit 2, nothing written', async (t) => {
  const s = await scenario(t, false);
  const outside = join(s.dir, 'elsewhere.yaml');
  await writeFile(outside, CONFIG);
  await mkdir(join(s.repo, 'config'));
  await symlink(outside, join(s.repo, 'config/secrets.yaml'));
  await s.commitAndPush('config as a symlink');
  const status = await s.git(['status', '--porcelain']);
  for (const args of [['sync'], ['check'], ['sync', '--dry-run'], ['list']]) {
    const r = await s.run(args);
    t.is(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(
      r.stderr,
      /config config\/secrets\.yaml resolves to .*elsewhere\.yaml, outside the repository/,
    );
  }
  await nothingWritten(t, s, status);
});

test('--config with a path out of the repo is refused; a symlink that stays inside is followed', async (t) => {
  const s = await scenario(t);
  await writeFile(join(s.dir, 'outside.yaml'), CONFIG);
  const r = await s.run(['check', '--config', '../outside.yaml']);
  t.is(r.exitCode, 2, r.stderr);
  t.regex(
    r.stderr,
    /config \.\.\/outside\.yaml resolves to .*outside\.yaml, outside the repository/,
  );

  await symlink('secrets.yaml', join(s.repo, 'config/inside.yaml'));
  const ok = await s.run(['check', '--config', 'config/inside.yaml']);
  t.is(ok.exitCode, 3, ok.stderr); // pending: the key is not generated yet
});

test('a .sops.yaml symlink leading outside the working copy is refused by check', async (t) => {
  const s = await scenario(t);
  const outside = join(s.dir, 'sops-elsewhere.yaml');
  await writeFile(outside, await readFile(join(s.repo, '.sops.yaml'), 'utf8'));
  await rm(join(s.repo, '.sops.yaml'));
  await symlink(outside, join(s.repo, '.sops.yaml'));
  const r = await s.run(['check']);
  t.is(r.exitCode, 2, r.stderr);
  t.regex(
    r.stderr,
    /sops config \.sops\.yaml resolves to .*sops-elsewhere\.yaml, outside the repository/,
  );
});

test('a .sops.yaml committed as a symlink is refused by sync, exit 2, nothing pushed', async (t) => {
  const s = await scenario(t);
  const text = await readFile(join(s.repo, '.sops.yaml'), 'utf8');
  await writeFile(join(s.repo, 'rules.yaml'), text);
  await rm(join(s.repo, '.sops.yaml'));
  await symlink('rules.yaml', join(s.repo, '.sops.yaml')); // inside, but a blob of mode 120000
  await s.commitAndPush('.sops.yaml as a symlink');
  for (const args of [['sync'], ['sync', '--dry-run']]) {
    const r = await s.run(args);
    t.is(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /\.sops\.yaml on main is a symlink; refusing to read sops creation rules/);
  }
  await nothingWritten(t, s, '');
});

test('a config that is not UTF-8 is reported at the line and column of its first bad byte', async (t) => {
  const s = await scenario(t);
  const latin1 = Buffer.from(
    `version: 1\nsecrets:\n  - name: app # caf\xe9\n    namespace: team\n    keys:\n      password: { length: 24 }\n`,
    'latin1',
  );
  await writeFile(join(s.repo, 'config/secrets.yaml'), latin1);
  const status = await s.git(['status', '--porcelain']);
  for (const args of [['check'], ['sync']]) {
    const r = await s.run(args);
    t.is(r.exitCode, 2, r.stderr);
    t.regex(r.stderr, /config\/secrets\.yaml:3:20: not valid UTF-8 at 3:20 \(byte offset 39\)/);
    t.notRegex(r.stderr, /YAML/);
  }
  await nothingWritten(t, s, status);
});

test('a config with a UTF-8 BOM is read as usual', async (t) => {
  const s = await scenario(t);
  await writeFile(join(s.repo, 'config/secrets.yaml'), `\ufeff${CONFIG}# café\n`);
  const r = await s.run(['check']);
  t.is(r.exitCode, 3, r.stderr);
});

test('a .sops.yaml that is not UTF-8 is refused (working copy and base branch)', async (t) => {
  const s = await scenario(t);
  const text = await readFile(join(s.repo, '.sops.yaml'), 'utf8');
  await writeFile(join(s.repo, '.sops.yaml'), Buffer.from(`# \xff\n${text}`, 'latin1'));
  const check = await s.run(['check']);
  t.is(check.exitCode, 2, check.stderr);
  t.regex(check.stderr, /\.sops\.yaml: not valid UTF-8 at 1:3/);
  await s.commitAndPush('.sops.yaml in latin-1');
  const sync = await s.run(['sync']);
  t.is(sync.exitCode, 2, sync.stderr);
  t.regex(sync.stderr, /\.sops\.yaml on main: not valid UTF-8 at 1:3/);
  await nothingWritten(t, s, '');
});

test('an annotation under gitops-secrets.io/ is a config error at its line and column', async (t) => {
  const s = await scenario(t, false);
  await s.writeConfig(
    `${CONFIG.replace('    keys:', '    annotations:\n      gitops-secrets.io/state: "{}"\n    keys:')}`,
  );
  for (const args of [['check'], ['sync']]) {
    const r = await s.run(args);
    t.is(r.exitCode, 2, r.stderr);
    t.regex(
      r.stderr,
      /config\/secrets\.yaml:6:7: secrets\[0\]\.annotations\.gitops-secrets\.io\/state: annotation gitops-secrets\.io\/state uses the prefix gitops-secrets\.io\/, which is reserved/,
    );
  }
});
