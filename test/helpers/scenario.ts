import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLS_BIN = join(ROOT, '.tools/bin');
export const CLI = join(ROOT, 'dist/cli.js');
/** A token no output may ever show. */
export const SENTINEL_TOKEN = 'ghp_SENTINELtokenDoNotLeak0123456789abcd';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A scratch GitOps repo: a bare remote, a clone with a config, and a throwaway age key. */
export interface Scenario {
  dir: string;
  repo: string;
  remote: string;
  keyFile: string;
  recipient: string;
  env: Record<string, string>;
  /** Everything the CLI printed in this scenario, for leak checks. */
  outputs: string[];
  run(
    args: string[],
    options?: { env?: Record<string, string | undefined>; input?: string; cwd?: string },
  ): Promise<CliResult>;
  git(args: string[], cwd?: string): Promise<string>;
  writeConfig(text: string, path?: string): Promise<void>;
  commitAndPush(message: string): Promise<void>;
  /** Merges a job branch into main as a reviewer would (fast-forward), and pulls it here. */
  mergePullRequest(branch?: string): Promise<void>;
  /** A file as committed on a ref of the remote. */
  show(ref: string, path: string): Promise<string>;
  decrypt(
    ciphertext: string,
    filename?: string,
  ): Promise<{ data: Record<string, string>; metadata: Record<string, unknown> }>;
  cleanup(): Promise<void>;
}

export async function makeScenario(options: { sopsYaml?: boolean } = {}): Promise<Scenario> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-test-'));
  const repo = join(dir, 'repo');
  const remote = join(dir, 'remote.git');
  const keyFile = join(dir, 'test-only-age-key.txt');
  const home = join(dir, 'home');
  await mkdir(home);
  const env: Record<string, string> = {
    PATH: `${TOOLS_BIN}:${process.env.PATH ?? ''}`,
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test User',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test User',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    SOPS_AGE_KEY_FILE: keyFile,
    TMPDIR: join(dir, 'tmp'),
  };
  await mkdir(env.TMPDIR!);
  await writeFile(env.GIT_CONFIG_GLOBAL!, '[init]\n\tdefaultBranch = main\n');
  const clean = { ...process.env };
  for (const k of [
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'GITHUB_ACTIONS',
    'GITHUB_REPOSITORY',
    'GITHUB_API_URL',
    'GITHUB_OUTPUT',
    'SOPS_AGE_KEY',
    'SOPS_AGE_RECIPIENTS',
  ])
    delete clean[k];
  const baseEnv = { ...clean, ...env };
  await execa(join(TOOLS_BIN, 'age-keygen'), ['-o', keyFile], { env: baseEnv });
  const recipient = (
    await execa(join(TOOLS_BIN, 'age-keygen'), ['-y', keyFile], { env: baseEnv })
  ).stdout.trim();
  const git = async (args: string[], cwd = repo) =>
    (await execa('git', args, { cwd, env: baseEnv })).stdout;
  await git(['init', '--quiet', '--bare', '-b', 'main', remote], dir);
  await git(['init', '--quiet', '-b', 'main', repo], dir);
  await git(['remote', 'add', 'origin', remote]);
  await writeFile(join(repo, 'README.md'), '# gitops repo\n');
  if (options.sopsYaml !== false) {
    await writeFile(
      join(repo, '.sops.yaml'),
      `creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${recipient}\n`,
    );
  }
  await git(['add', '-A']);
  await git(['commit', '--quiet', '-m', 'init']);
  await git(['push', '--quiet', 'origin', 'main']);

  const outputs: string[] = [];
  const scenario: Scenario = {
    dir,
    repo,
    remote,
    keyFile,
    recipient,
    env: baseEnv as Record<string, string>,
    outputs,
    async run(args, opts = {}) {
      const r = await execa('node', [CLI, ...args], {
        cwd: opts.cwd ?? repo,
        env: { ...baseEnv, ...opts.env },
        extendEnv: false,
        reject: false,
        input: opts.input ?? '',
        timeout: 120_000,
      });
      const result = {
        exitCode: r.exitCode ?? -1,
        stdout: String(r.stdout),
        stderr: String(r.stderr),
      };
      outputs.push(result.stdout, result.stderr);
      return result;
    },
    git,
    async writeConfig(text, path = 'config/secrets.yaml') {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), text);
    },
    async commitAndPush(message) {
      await git(['add', '-A']);
      await git(['commit', '--quiet', '-m', message]);
      await git(['push', '--quiet', 'origin', 'HEAD:main']);
    },
    async mergePullRequest(branch = 'gitops-secrets/sync') {
      await git(['fetch', '--quiet', 'origin']);
      await git(['merge', '--quiet', '--ff-only', `origin/${branch}`]);
      await git(['push', '--quiet', 'origin', 'HEAD:main']);
    },
    async show(ref, path) {
      return git(['--git-dir', remote, 'show', `${ref}:${path}`], dir);
    },
    async decrypt(ciphertext, filename = 'secret.yaml') {
      const r = await execa(
        join(TOOLS_BIN, 'sops'),
        [
          'decrypt',
          '--filename-override',
          filename,
          '--input-type',
          'yaml',
          '--output-type',
          'yaml',
        ],
        {
          input: ciphertext,
          env: baseEnv,
          cwd: dir,
        },
      );
      const { parse } = await import('yaml');
      const doc = parse(r.stdout) as {
        data?: Record<string, string>;
        metadata: Record<string, unknown>;
      };
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(doc.data ?? {}))
        data[k] = Buffer.from(v, 'base64').toString('utf8');
      return { data, metadata: doc.metadata };
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
  return scenario;
}

export async function example(name: string): Promise<string> {
  return readFile(join(ROOT, 'config/examples', name), 'utf8');
}

/** A scratch repo whose main holds one of the shipped example configs, pushed to the remote. */
export async function exampleScenario(name: string): Promise<Scenario> {
  const s = await makeScenario();
  await s.writeConfig(await example(name));
  await s.commitAndPush('add secrets config');
  return s;
}

/** A scratch repo whose main holds `config` and what `sync --now <now>` made of it (PR merged). */
export async function mergedScenario(config: string, now: string): Promise<Scenario> {
  const s = await makeScenario();
  await s.writeConfig(config);
  await s.commitAndPush('config');
  const r = await s.run(['sync', '--now', now]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await s.mergePullRequest('gitops-secrets/sync');
  return s;
}

/**
 * Searches every git object of the repo and the remote (all of them, reachable or not:
 * `cat-file --batch-all-objects`), every output captured, and the scratch directory's files for
 * each value, plain and in its base64 form (as it stands under a Secret's `data:` when sops left
 * it unencrypted), and for the sentinel token.
 */
export async function findLeaks(
  s: Scenario,
  values: string[],
  extra: string[] = [],
): Promise<string[]> {
  const needles = new Map<string, string>();
  for (const v of values) {
    if (v.length < 6) continue;
    needles.set(v, 'a value');
    needles.set(Buffer.from(v).toString('base64'), 'a value (base64)');
  }
  needles.set(SENTINEL_TOKEN, 'the token');
  needles.set(
    Buffer.from(`x-access-token:${SENTINEL_TOKEN}`).toString('base64'),
    'the token (basic auth)',
  );
  const haystacks: [string, string][] = [];
  for (const gitDir of [join(s.repo, '.git'), s.remote]) {
    const r = await execa(
      'git',
      ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch'],
      { env: s.env, stripFinalNewline: false, maxBuffer: 512 * 1024 * 1024 },
    );
    haystacks.push([`git objects of ${gitDir}`, r.stdout]);
    for (const f of ['config', 'FETCH_HEAD', 'packed-refs']) {
      haystacks.push([`${gitDir}/${f}`, await readFile(join(gitDir, f), 'utf8').catch(() => '')]);
    }
  }
  for (const [i, o] of s.outputs.entries()) haystacks.push([`output #${i}`, o]);
  for (const [i, o] of extra.entries()) haystacks.push([`extra #${i}`, o]);
  const files = await execa(
    'grep',
    [
      '-rlF',
      '--exclude=test-only-age-key.txt',
      '-e',
      SENTINEL_TOKEN,
      ...values
        .filter((v) => v.length >= 6)
        .flatMap((v) => ['-e', v, '-e', Buffer.from(v).toString('base64')]),
      s.dir,
    ],
    { reject: false },
  );
  const leaks: string[] = [];
  if (files.stdout.trim()) leaks.push(`files under the scratch dir: ${files.stdout.trim()}`);
  for (const [where, text] of haystacks) {
    for (const [needle, what] of needles)
      if (text.includes(needle)) leaks.push(`${what} in ${where}`);
  }
  return leaks;
}

/** The argv of every git command a run started, from git's own trace (GIT_TRACE2_EVENT). */
export async function gitTrace(file: string): Promise<string[][]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; argv?: string[] })
    .filter((e) => e.event === 'start' && e.argv)
    .map((e) => e.argv!.slice(1));
}

/** Runs the CLI with git's trace on: its result, and the argv of every git command it started. */
export async function runTraced(
  s: Scenario,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ r: CliResult; git: string[][] }> {
  const trace = join(s.dir, `trace-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const r = await s.run(args, { env: { ...env, GIT_TRACE2_EVENT: trace } });
  return { r, git: await gitTrace(trace) };
}
