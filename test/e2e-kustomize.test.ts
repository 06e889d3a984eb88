import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { parse, parseAllDocuments } from 'yaml';
import { handWrittenKsopsGenerator } from './helpers/ksops-generator.js';
import { KSOPS_STANDIN_DIR } from './helpers/kustomize.js';
import { makeScenario, type Scenario, TOOLS_BIN } from './helpers/scenario.js';

const KUSTOMIZE = join(TOOLS_BIN, 'kustomize');

const config = (extra: string, secrets: string[]) => `version: 1
output: secrets/{namespace}/{name}.yaml
${extra}secrets:
${secrets.join('')}`;
const DB =
  '  - { name: db, namespace: prod, keys: { password: { length: 24 }, user: { length: 8 } } }\n';
const API = '  - { name: api, namespace: prod, keys: { token: { length: 32 } } }\n';
const COOKIE = '  - { name: cookie, namespace: web, keys: { secret: { length: 40 } } }\n';

const KUSTOMIZATION = `# Flux's Kustomization points here: kustomize builds it, then the controller decrypts.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

resources:
  # plain manifests first
  - configmap.yaml    # not a secret
`;
const CONFIGMAP =
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\ndata:\n  mode: live\n';

/** secrets/prod/: a kustomization that lists only the ConfigMap beside it. */
const PROD_WITH_CONFIGMAP = {
  'secrets/prod/kustomization.yaml': 'resources:\n  - configmap.yaml\n',
  'secrets/prod/configmap.yaml': CONFIGMAP,
};

type Doc = Record<string, unknown> & { kind: string; metadata: { name: string }; sops?: unknown };

/** `kustomize build` of a directory of the repo (as the GitOps controller runs it). */
async function build(s: Scenario, dir: string, extra: string[] = [], path = s.env.PATH!) {
  const r = await execa(KUSTOMIZE, ['build', ...extra, dir], {
    cwd: s.repo,
    env: { ...s.env, PATH: path },
    reject: false,
  });
  const docs = r.exitCode === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc) : [];
  return { ...r, docs };
}

/** The text of a file in the scenario's working copy. */
const readRepo = (s: Scenario, path: string) => readFile(join(s.repo, path), 'utf8');

/** `kustomize build` with exec plugins on and the ksops stand-in on PATH (as Argo CD runs it). */
const buildWithKsops = (s: Scenario, dir: string) =>
  build(s, dir, ['--enable-alpha-plugins', '--enable-exec'], `${KSOPS_STANDIN_DIR}:${s.env.PATH}`);

/** `Kind/name` of each built document, in build order. */
const kindsAndNames = (docs: Doc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`);

/** The remote's sync branch as `git ls-remote` prints it ('' when there is none). */
const syncBranch = (s: Scenario) =>
  s.git(['ls-remote', 'origin', 'refs/heads/gitops-secrets/sync']);

/** `sync` succeeds (stderr shown if not) and its pull request is merged. */
async function syncAndMerge(t: ExecutionContext, s: Scenario) {
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  await s.mergePullRequest();
}

/** `check` exits 0 (stdout shown if not). */
async function checkPasses(t: ExecutionContext, s: Scenario) {
  const c = await s.run(['check']);
  t.is(c.exitCode, 0, c.stdout);
}

/** The build succeeded and yielded exactly `expected` (`Kind/name`, in any order). */
function assertBuiltSorted(
  t: ExecutionContext,
  built: Awaited<ReturnType<typeof build>>,
  expected: string[],
) {
  t.is(built.exitCode, 0, built.stderr);
  t.deepEqual(kindsAndNames(built.docs).sort(), expected);
}

/**
 * What Flux's kustomize-controller does after the build: each resource that carries sops
 * metadata is decrypted on its own (here: written to a file and given to the real sops). Like
 * Flux, without the MAC check: kustomize writes the fields of a resource in its own order, and
 * sops's MAC covers the order of the values (Flux's decryptor leaves `checkSopsMac` off for
 * this reason). The manifests in the repo are decrypted with the MAC check (see the test).
 */
async function decryptBuilt(s: Scenario, doc: Doc): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(s.dir, 'tmp', 'built-'));
  try {
    const file = join(dir, `${doc.metadata.name}.yaml`);
    await writeFile(file, JSON.stringify(doc));
    const r = await execa(
      join(TOOLS_BIN, 'sops'),
      ['decrypt', '--ignore-mac', '--input-type', 'json', '--output-type', 'json', file],
      {
        env: s.env,
      },
    );
    const plain = JSON.parse(r.stdout) as { data: Record<string, string> };
    return Object.fromEntries(
      Object.entries(plain.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A scenario whose repo holds `files` and the config `cfg`, pushed; cleaned up after the test. */
async function repoWith(
  t: ExecutionContext,
  files: Record<string, string>,
  cfg: string,
): Promise<Scenario> {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  for (const [path, text] of Object.entries(files)) await s.writeConfig(text, path);
  await s.writeConfig(cfg);
  await s.commitAndPush('config and kustomization');
  return s;
}

test('sync lists each new Secret in the kustomization (comments kept); kustomize build yields them still encrypted, and sops decrypts each built one; --prune takes the entry out', async (t) => {
  const s = await repoWith(
    t,
    { 'secrets/kustomization.yaml': KUSTOMIZATION, 'secrets/configmap.yaml': CONFIGMAP },
    config('', [DB, API, COOKIE]),
  );
  const dry = JSON.parse((await s.run(['sync', '--dry-run', '--json'])).stdout);
  t.deepEqual(dry.kustomizations, [
    {
      path: 'secrets/kustomization.yaml',
      kind: 'kustomization updated: 3 entries added',
      added: ['secrets/prod/api.yaml', 'secrets/prod/db.yaml', 'secrets/web/cookie.yaml'],
      removed: [],
    },
  ]);
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /secrets\/kustomization\.yaml: kustomization updated: 3 entries added/);
  await s.mergePullRequest();
  const kust = await readRepo(s, 'secrets/kustomization.yaml');
  t.is(
    kust,
    `${KUSTOMIZATION}  - prod/api.yaml\n  - prod/db.yaml\n  - web/cookie.yaml\n`,
    'the entries follow the last one; every comment and the spacing before it kept',
  );
  // What Flux does: build, then decrypt each resource.
  const built = await build(s, 'secrets');
  t.is(built.exitCode, 0, built.stderr);
  const secrets = built.docs.filter((d) => d.kind === 'Secret');
  t.deepEqual(secrets.map((d) => d.metadata.name).sort(), ['api', 'cookie', 'db']);
  t.true(built.docs.some((d) => d.kind === 'ConfigMap'));
  for (const d of secrets) {
    t.truthy(d.sops, `${d.metadata.name} still carries its sops metadata`);
    for (const v of Object.values(d.data as Record<string, string>))
      t.regex(v, /^ENC\[AES256_GCM,/);
  }
  const keys = Object.fromEntries(
    await Promise.all(
      secrets.map(async (d) => [d.metadata.name, Object.keys(await decryptBuilt(s, d)).sort()]),
    ),
  );
  t.deepEqual(keys, { api: ['token'], cookie: ['secret'], db: ['password', 'user'] });
  const db = await decryptBuilt(s, secrets.find((d) => d.metadata.name === 'db')!);
  t.is(db.password!.length, 24);
  // The same values as the committed manifest, decrypted with its MAC checked.
  t.deepEqual(db, (await s.decrypt(await readRepo(s, 'secrets/prod/db.yaml'))).data);
  t.is((await s.run(['check'])).exitCode, 0, 'check: every manifest listed, nothing dangling');

  // The api Secret leaves the config: --prune removes its file and its entry, in one commit.
  await s.writeConfig(config('', [DB, COOKIE]));
  await s.commitAndPush('drop api');
  const pruned = await s.run(['sync', '--prune']);
  t.is(pruned.exitCode, 0, pruned.stderr);
  t.regex(pruned.stdout, /secrets\/kustomization\.yaml: kustomization updated: 1 removed/);
  const head = await s.git(
    ['--git-dir', s.remote, 'show', '--stat', '--format=', 'gitops-secrets/sync'],
    s.dir,
  );
  t.regex(head, /secrets\/kustomization\.yaml/);
  t.regex(head, /secrets\/prod\/api\.yaml/);
  await s.mergePullRequest();
  t.is(
    await readRepo(s, 'secrets/kustomization.yaml'),
    `${KUSTOMIZATION}  - prod/db.yaml\n  - web/cookie.yaml\n`,
  );
  const after = await build(s, 'secrets');
  t.is(after.exitCode, 0, after.stderr);
  t.deepEqual(
    after.docs
      .filter((d) => d.kind === 'Secret')
      .map((d) => d.metadata.name)
      .sort(),
    ['cookie', 'db'],
  );
  t.is((await s.run(['sync'])).exitCode, 0);
  t.is(
    (await syncBranch(s)).split('\t')[0],
    (await s.git(['rev-parse', 'HEAD'])).trim(),
    'a second sync has nothing to change',
  );
});

test('ksops mode: sync writes a generator in ksops format and lists the files; kustomize build with a ksops stand-in yields the decrypted Secrets', async (t) => {
  const s = await repoWith(
    t,
    {
      'secrets/kustomization.yaml':
        '# built by Argo CD with ksops\nresources:\n  - configmap.yaml\n',
      'secrets/configmap.yaml': CONFIGMAP,
    },
    config('kustomize: ksops\n', [DB, COOKIE]),
  );
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /secrets\/secret-generator\.yaml: ksops generator added: 2 entries added/);
  await s.mergePullRequest();
  t.is(
    await readRepo(s, 'secrets/kustomization.yaml'),
    '# built by Argo CD with ksops\nresources:\n  - configmap.yaml\ngenerators:\n  - secret-generator.yaml\n',
  );
  // ksops's documented format (its README): a KRM exec function named ksops, found on PATH,
  // with the files to decrypt relative to the kustomization's directory.
  const gen = parse(await readRepo(s, 'secrets/secret-generator.yaml'));
  t.is(gen.apiVersion, 'viaduct.ai/v1');
  t.is(gen.kind, 'ksops');
  t.is(typeof gen.metadata.name, 'string');
  t.deepEqual(Object.keys(gen).sort(), ['apiVersion', 'files', 'kind', 'metadata']);
  t.deepEqual(parse(gen.metadata.annotations['config.kubernetes.io/function']), {
    exec: { path: 'ksops' },
  });
  t.deepEqual(gen.files, ['prod/db.yaml', 'web/cookie.yaml']);

  // Without exec plugins enabled, kustomize refuses: the generator is really run.
  t.not((await build(s, 'secrets')).exitCode, 0);
  const built = await buildWithKsops(s, 'secrets');
  t.is(built.exitCode, 0, built.stderr);
  const secrets = built.docs.filter((d) => d.kind === 'Secret');
  t.deepEqual(secrets.map((d) => d.metadata.name).sort(), ['cookie', 'db']);
  for (const d of secrets) t.falsy(d.sops, 'decrypted by the generator');
  const db = secrets.find((d) => d.metadata.name === 'db')!.data as Record<string, string>;
  t.deepEqual(Object.keys(db).sort(), ['password', 'user']);
  t.is(Buffer.from(db.password!, 'base64').toString('utf8').length, 24);

  // Pruned: the generator's entry goes; the build still works.
  await s.writeConfig(config('kustomize: ksops\n', [DB]));
  await s.commitAndPush('drop cookie');
  t.is((await s.run(['sync', '--prune'])).exitCode, 0);
  await s.mergePullRequest();
  t.deepEqual(parse(await readRepo(s, 'secrets/secret-generator.yaml')).files, ['prod/db.yaml']);
  const again = await buildWithKsops(s, 'secrets');
  t.is(again.exitCode, 0, again.stderr);
  t.deepEqual(
    again.docs.filter((d) => d.kind === 'Secret').map((d) => d.metadata.name),
    ['db'],
  );
});

test('check reports a manifest no kustomization lists and an entry naming a missing manifest (exit 3); sync fixes both', async (t) => {
  const s = await repoWith(
    t,
    { 'secrets/kustomization.yaml': KUSTOMIZATION, 'secrets/configmap.yaml': CONFIGMAP },
    config('', [DB]),
  );
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest();
  // By hand: the db entry taken out, one for a managed path that does not exist put in.
  await s.writeConfig(`${KUSTOMIZATION}  - ./prod/gone.yaml\n`, 'secrets/kustomization.yaml');
  await s.commitAndPush('edit by hand');
  const c = await s.run(['check']);
  t.is(c.exitCode, 3, c.stderr);
  t.regex(
    c.stdout,
    /not listed by secrets\/kustomization\.yaml \(sync adds it\): secrets\/prod\/db\.yaml/,
  );
  t.regex(
    c.stdout,
    /secrets\/kustomization\.yaml lists secrets\/prod\/gone\.yaml, which does not exist \(sync removes the entry\)/,
  );
  const json = JSON.parse((await s.run(['check', '--json'])).stdout);
  t.deepEqual(json.kustomizations, [
    {
      path: 'secrets/kustomization.yaml',
      unlisted: ['secrets/prod/db.yaml'],
      dangling: ['secrets/prod/gone.yaml'],
    },
  ]);
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(
    r.stdout,
    /kustomization updated: 1 entry added, 1 removed\n.*only the kustomizations above change/,
  );
  t.is(
    await s.git(['--git-dir', s.remote, 'log', '-1', '--format=%s', 'gitops-secrets/sync'], s.dir),
    'chore(secrets): list the manifests in secrets/kustomization.yaml',
  );
  await s.mergePullRequest();
  t.is(await readRepo(s, 'secrets/kustomization.yaml'), `${KUSTOMIZATION}  - prod/db.yaml\n`);
  t.is((await s.run(['check'])).exitCode, 0);
  // kustomize: off: nothing is looked at.
  await s.writeConfig(`${KUSTOMIZATION}  - ./prod/gone.yaml\n`, 'secrets/kustomization.yaml');
  await s.writeConfig(config('kustomize: off\n', [DB]));
  t.is((await s.run(['check'])).exitCode, 0);
});

test('a kustomization that cannot be parsed or edited: exit 2 naming file:line:col, nothing committed', async (t) => {
  const s = await repoWith(
    t,
    { 'secrets/prod/kustomization.yaml': 'resources:\n  - a.yaml\n  - [b.yaml\n' },
    config('', [DB]),
  );
  const r = await s.run(['sync']);
  t.is(r.exitCode, 2, r.stdout);
  t.regex(r.stderr, /secrets\/prod\/kustomization\.yaml:\d+:\d+: is not valid YAML/);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.is(await syncBranch(s), '');
  t.is(await s.git(['branch', '--list', 'gitops-secrets/sync']), '');
  const c = await s.run(['check']);
  t.is(c.exitCode, 2);
  t.regex(c.stderr, /secrets\/prod\/kustomization\.yaml:\d+:\d+:/);

  await s.writeConfig(
    'resources: configmap.yaml # one string\n',
    'secrets/prod/kustomization.yaml',
  );
  await s.commitAndPush('not a list');
  const r2 = await s.run(['sync']);
  t.is(r2.exitCode, 2);
  t.regex(r2.stderr, /secrets\/prod\/kustomization\.yaml:1:12: resources: is not a list/);
  t.is(await syncBranch(s), '');
});

test('a kustomization that is a symlink is refused: exit 1, nothing committed', async (t) => {
  const s = await repoWith(
    t,
    { 'elsewhere/kustomization.yaml': 'resources: []\n' },
    config('', [DB]),
  );
  await mkdir(join(s.repo, 'secrets'), { recursive: true });
  await symlink('../elsewhere/kustomization.yaml', join(s.repo, 'secrets/kustomization.yaml'));
  await s.commitAndPush('a symlinked kustomization');
  const r = await s.run(['sync']);
  t.is(r.exitCode, 1, r.stdout);
  t.regex(
    r.stderr,
    /refusing to read or write a kustomization that is a symlink: secrets\/kustomization\.yaml/,
  );
  t.is(await syncBranch(s), '');
  // check refuses it the same way (it used to pass over it, as if there were no kustomization).
  const c = await s.run(['check']);
  t.is(c.exitCode, 1, c.stdout);
  t.regex(
    c.stderr,
    /refusing to read or write a kustomization that is a symlink: secrets\/kustomization\.yaml/,
  );
});

test('a kustomization in the Secrets directory, beside a ConfigMap: only the Secrets are listed; the build has them all', async (t) => {
  const s = await repoWith(
    t,
    {
      'secrets/prod/kustomization.yaml': 'resources:\n- configmap.yaml # settings\n',
      'secrets/prod/configmap.yaml': CONFIGMAP,
    },
    config('', [DB, API]),
  );
  await syncAndMerge(t, s);
  t.is(
    await readRepo(s, 'secrets/prod/kustomization.yaml'),
    'resources:\n- configmap.yaml # settings\n- api.yaml\n- db.yaml\n',
  );
  const built = await build(s, 'secrets/prod');
  assertBuiltSorted(t, built, ['ConfigMap/settings', 'Secret/api', 'Secret/db']);
  await checkPasses(t, s);
});

test('ksops detected from a generator in a subdirectory: its files are written relative to the kustomization, where kustomize runs ksops', async (t) => {
  const generator = handWrittenKsopsGenerator('existing', 'files: []\n');
  const s = await repoWith(
    t,
    {
      'secrets/kustomization.yaml': 'generators:\n  - ./generators/ksops.yaml\n',
      'secrets/generators/ksops.yaml': generator,
    },
    config('', [DB]),
  );
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /secrets\/generators\/ksops\.yaml: ksops generator updated: 1 entry added/);
  await s.mergePullRequest();
  t.is(
    await readRepo(s, 'secrets/generators/ksops.yaml'),
    generator.replace('files: []', 'files:\n- prod/db.yaml'),
  );
  const built = await buildWithKsops(s, 'secrets');
  t.is(built.exitCode, 0, built.stderr);
  t.deepEqual(kindsAndNames(built.docs), ['Secret/db']);
});

test('ksops: pruning the last file of a generator leaves `files: []`, and the build (strict ksops stand-in) still succeeds', async (t) => {
  // The generator's kustomization is secrets/prod's; the web Secret keeps the config non-empty.
  const s = await repoWith(
    t,
    {
      'secrets/prod/kustomization.yaml':
        '# Argo CD builds this with ksops\nresources:\n  - configmap.yaml\n',
      'secrets/prod/configmap.yaml': CONFIGMAP,
    },
    config('kustomize: ksops\n', [DB, COOKIE]),
  );
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest();
  const generator = join(s.repo, 'secrets/prod/secret-generator.yaml');
  t.deepEqual(parse(await readFile(generator, 'utf8')).files, ['db.yaml']);

  await s.writeConfig(config('kustomize: ksops\n', [COOKIE]));
  await s.commitAndPush('drop db');
  const pruned = await s.run(['sync', '--prune']);
  t.is(pruned.exitCode, 0, pruned.stderr);
  t.regex(
    pruned.stdout,
    /secrets\/prod\/secret-generator\.yaml: ksops generator updated: 1 removed/,
  );
  await s.mergePullRequest();
  const text = await readFile(generator, 'utf8');
  t.regex(text, /^files: \[\]$/m, 'an empty list, not a `files:` with no value (null)');
  t.deepEqual(parse(text).files, []);
  // ksops fails on a generator without its `files` list; the strict stand-in does the same.
  const built = await buildWithKsops(s, 'secrets/prod');
  t.is(built.exitCode, 0, built.stderr);
  t.deepEqual(kindsAndNames(built.docs), ['ConfigMap/settings']);
  t.is((await s.run(['check'])).exitCode, 0, 'check: nothing left to do');
});

test('a manifest a kustomization further up lists is not listed again by the nearest one (kustomize would refuse the id registered twice)', async (t) => {
  const s = await repoWith(
    t,
    {
      // The outer one builds the inner directory, and lists the db Secret itself.
      'secrets/kustomization.yaml': 'resources:\n  - prod/db.yaml\n  - prod\n',
      ...PROD_WITH_CONFIGMAP,
    },
    config('', [DB, API]),
  );
  await syncAndMerge(t, s);
  t.is(
    await readRepo(s, 'secrets/prod/kustomization.yaml'),
    'resources:\n  - configmap.yaml\n  - api.yaml\n',
  );
  t.is(await readRepo(s, 'secrets/kustomization.yaml'), 'resources:\n  - prod/db.yaml\n  - prod\n');
  const built = await build(s, 'secrets');
  assertBuiltSorted(t, built, ['ConfigMap/settings', 'Secret/api', 'Secret/db']);
  await checkPasses(t, s);
});

test('a listed generator the tool cannot read (not valid YAML, a symlink) stops sync and check: exit 2 naming file:line:col, nothing committed, nothing listed under resources:', async (t) => {
  const s = await repoWith(
    t,
    {
      'secrets/kustomization.yaml': 'generators:\n  - ksops.yaml\n',
      'secrets/ksops.yaml': 'apiVersion: viaduct.ai/v1\nkind: ksops\nfiles: [\n',
    },
    config('', [DB]),
  );
  const r = await s.run(['sync']);
  t.is(r.exitCode, 2, r.stdout);
  t.regex(r.stderr, /secrets\/ksops\.yaml:\d+:\d+: is not valid YAML/);
  t.regex(r.stderr, /nothing was written/);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.is(await syncBranch(s), '');
  const c = await s.run(['check']);
  t.is(c.exitCode, 2, c.stdout);
  t.regex(c.stderr, /secrets\/ksops\.yaml:\d+:\d+: is not valid YAML/);

  // A symlink: its blob is the path it points to, which the tool does not follow.
  await writeFile(
    join(s.repo, 'elsewhere.yaml'),
    'apiVersion: viaduct.ai/v1\nkind: ksops\nfiles: []\n',
  );
  await rm(join(s.repo, 'secrets/ksops.yaml'));
  await symlink('../elsewhere.yaml', join(s.repo, 'secrets/ksops.yaml'));
  await s.commitAndPush('the generator is a symlink');
  for (const args of [['sync'], ['check']]) {
    const out = await s.run(args);
    t.is(out.exitCode, 2, `${args[0]}: ${out.stdout}`);
    t.regex(out.stderr, /secrets\/ksops\.yaml:1:1: is a symlink/);
  }
  t.is(await syncBranch(s), '');
  t.is(await readRepo(s, 'secrets/kustomization.yaml'), 'generators:\n  - ksops.yaml\n');
});

test('a Secret listed only by a kustomization further up (the repo root): sync leaves the nearest one alone, and --prune takes the entry out up there', async (t) => {
  const s = await repoWith(
    t,
    {
      'kustomization.yaml': 'resources:\n  - secrets/prod/db.yaml # listed at the root\n',
      ...PROD_WITH_CONFIGMAP,
    },
    config('', [DB, API]),
  );
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest();
  t.is(
    await readRepo(s, 'secrets/prod/kustomization.yaml'),
    'resources:\n  - configmap.yaml\n  - api.yaml\n',
  );
  t.is((await s.run(['check'])).exitCode, 0);
  await s.writeConfig(config('', [API]));
  await s.commitAndPush('drop db');
  const pruned = await s.run(['sync', '--prune']);
  t.is(pruned.exitCode, 0, pruned.stderr);
  t.regex(pruned.stdout, /kustomization\.yaml: kustomization updated: 1 removed/);
  await s.mergePullRequest();
  t.is(await readRepo(s, 'kustomization.yaml'), 'resources: []\n');
  const built = await build(s, '.');
  t.is(built.exitCode, 0, built.stderr);
  t.deepEqual(built.docs, []);
  t.is((await s.run(['check'])).exitCode, 0);
});
