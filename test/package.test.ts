/**
 * The npm package as a user gets it: `npm pack` in a fresh copy of the repository (prepack
 * builds), the tarball's file list, then an install of that tarball with production dependencies
 * only into an empty project, whose `gitops-secrets` runs `--version`, `init` and a real `sync`
 * (real sops, real git, the loopback GitHub server) that opens the pull request.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { startGitHubServer } from './helpers/github-server.js';
import { example, findLeaks, makeScenario, ROOT, SENTINEL_TOKEN } from './helpers/scenario.js';

/** What the tarball holds: the bundle, the schema, README, licence; no map, no Action bundle. */
const PACKAGE_FILES = [
  'LICENSE',
  'README.md',
  'config/schema.json',
  'dist/cli.js',
  'dist/package.json',
  'package.json',
];

/** The repository as a fresh clone of this working tree has it (no dist/), with its node_modules. */
async function freshCopy(dir: string): Promise<string> {
  const copy = join(dir, 'clone');
  const listed = await execa(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
    },
  );
  for (const file of listed.stdout.split('\0')) {
    if (!file || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

test('npm pack, then installing the tarball with --omit=dev: --version, init and a sync that opens the PR', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-package-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clone = await freshCopy(dir);
  t.false(existsSync(join(clone, 'dist/cli.js')), 'a fresh clone has no build');
  const npm = (args: string[], cwd: string) =>
    execa('npm', [...args, '--no-audit', '--no-fund'], {
      cwd,
      env: { npm_config_loglevel: 'error' },
    });

  // What the release workflow does before `npm publish`: record the release commit.
  const commit = (await execa('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
  await npm(['pkg', 'set', `gitopsSecrets.actionCommit=${commit}`], clone);
  const packed = await npm(['pack', '--json', '--pack-destination', dir], clone);
  const [info] = JSON.parse(packed.stdout) as {
    name: string;
    version: string;
    filename: string;
    files: { path: string }[];
  }[];
  t.is(info!.name, '@gitops-secrets/cli');
  t.deepEqual(info!.files.map((f) => f.path).sort(), PACKAGE_FILES);

  const project = join(dir, 'project');
  mkdirSync(project);
  await writeFile(join(project, 'package.json'), '{ "name": "consumer", "private": true }\n');
  await npm(['install', '--omit=dev', '--prefer-offline', join(dir, info!.filename)], project);
  const bin = join(project, 'node_modules/.bin/gitops-secrets');
  t.is((await execa(bin, ['--version'])).stdout.trim(), info!.version);

  const initialized = join(dir, 'initialized');
  await execa(bin, ['init', '--repo', initialized]);
  const workflow = await readFile(
    join(initialized, '.github/workflows/gitops-secrets-sync.yml'),
    'utf8',
  );
  t.true(
    workflow.includes(`uses: gitops-secrets/gitops-secrets@${commit} # v${info!.version}\n`),
    workflow,
  );

  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.commitAndPush('add secrets config');
  const github = await startGitHubServer({
    tokens: [SENTINEL_TOKEN],
    repos: [{ owner: 'acme', repo: 'infra' }],
  });
  t.teardown(() => github.close());
  const r = await execa(bin, ['sync', '--json'], {
    cwd: s.repo,
    env: {
      ...s.env,
      GITHUB_TOKEN: SENTINEL_TOKEN,
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: 'acme/infra',
    },
    extendEnv: false,
    reject: false,
  });
  s.outputs.push(r.stdout, r.stderr);
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { pullRequest: { number: number; action: string } };
  t.like(out.pullRequest, { number: 1, action: 'created' });
  t.is(github.pulls('acme', 'infra').length, 1);
  const file = await s.show('gitops-secrets/sync', 'secrets/keptn/bridge-oauth.yaml');
  const { data } = await s.decrypt(file);
  t.deepEqual(Object.keys(data).sort(), ['database_encrypt_secret', 'session_secret']);
  t.deepEqual(await findLeaks(s, Object.values(data)), []);
});
