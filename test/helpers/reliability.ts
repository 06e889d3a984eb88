/**
 * Shared harness of the reliability tests (crash, concurrency, hostile repo, faulty services,
 * leaks): a scenario with a loopback GitHub server and the sentinel token, every sops call made
 * through the argv-recording shim, NODE_DEBUG=execa on every run, and one leak check that
 * searches everything the scenario produced for every value it saw.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa, type ResultPromise } from 'execa';
import { type GitHubServer, type PullSnapshot, startGitHubServer } from './github-server.js';
import {
  CLI,
  type CliResult,
  findLeaks,
  makeScenario,
  ROOT,
  type Scenario,
  SENTINEL_TOKEN,
  TOOLS_BIN,
} from './scenario.js';

export const FAKE_SOPS = join(ROOT, 'fixtures/fake-sops');
export const REAL_SOPS = join(TOOLS_BIN, 'sops');
export const OWNER = 'acme';
export const REPO = 'infra';

/** The Keptn Bridge secret: two generated keys, a PR label. */
export const KEPTN_CONFIG = `version: 1
output: secrets/{namespace}/{name}.yaml
pullRequest:
  labels: [secrets]
secrets:
  - name: bridge-oauth
    namespace: keptn
    keys:
      session_secret: { length: 45 }
      database_encrypt_secret: { length: 32 }
`;

type Env = Record<string, string | undefined>;

export interface Harness {
  s: Scenario;
  github: GitHubServer;
  /** Env of every run: token, API URL, recording sops shim, NODE_DEBUG=execa. */
  env: Record<string, string>;
  /** One line per sops call (its argv), from every run of the scenario. */
  argvLog: string;
  /** Every plaintext value the test has seen (decrypted, provided); searched by `expectNoLeaks`. */
  values: Set<string>;
  run(args: string[], options?: { env?: Env; cwd?: string; input?: string }): Promise<CliResult>;
  /**
   * Starts the CLI and hands back the process (to kill it, or to race it); `detached`: in a
   * process group of its own (its pid is the group's id), to kill it with all it started.
   */
  start(args: string[], options?: { env?: Env; cwd?: string; detached?: boolean }): ResultPromise;
  /** Waits for a started process; its output joins the scenario's outputs. */
  finish(p: ResultPromise): Promise<CliResult & { signal: string | undefined }>;
  pulls(): PullSnapshot[];
  openPulls(): PullSnapshot[];
  /** The remote's commit of a branch, or undefined. */
  head(branch: string): Promise<string | undefined>;
  /** Decrypted `data` of every file under `secrets/` on a remote branch; values are recorded. */
  branchValues(branch: string): Promise<Record<string, Record<string, string>>>;
  /** Commits on a remote branch since the base branch. */
  commitsAhead(branch: string, base?: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function makeHarness(config: string): Promise<Harness> {
  const s = await makeScenario();
  await s.writeConfig(config);
  await s.commitAndPush('config');
  const github = await startGitHubServer({
    tokens: [SENTINEL_TOKEN],
    repos: [{ owner: OWNER, repo: REPO }],
  });
  const argvLog = join(s.dir, 'sops-argv.log');
  const env: Record<string, string> = {
    GITHUB_TOKEN: SENTINEL_TOKEN,
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITOPS_SECRETS_RETRY_BASE_MS: '50',
    GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'record-argv.sh'),
    REAL_SOPS,
    SOPS_ARGV_LOG: argvLog,
    NODE_DEBUG: 'execa',
  };
  const values = new Set<string>();
  const result = (r: {
    exitCode?: number | undefined;
    stdout: unknown;
    stderr: unknown;
  }): CliResult => {
    const out = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    s.outputs.push(out.stdout, out.stderr);
    return out;
  };
  const h: Harness = {
    s,
    github,
    env,
    argvLog,
    values,
    run(args, options = {}) {
      return s.run(args, {
        env: { ...env, ...options.env },
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.input !== undefined ? { input: options.input } : {}),
      });
    },
    start(args, options = {}) {
      return execa('node', [CLI, ...args], {
        cwd: options.cwd ?? s.repo,
        env: { ...s.env, ...env, ...options.env },
        extendEnv: false,
        reject: false,
        input: '',
        timeout: 120_000,
        detached: options.detached ?? false,
      });
    },
    async finish(p) {
      const r = await p;
      return { ...result(r), signal: r.signal };
    },
    pulls: () => github.pulls(OWNER, REPO),
    openPulls: () => github.pulls(OWNER, REPO).filter((p) => p.state === 'open'),
    async head(branch) {
      const out = await s.git(
        ['--git-dir', s.remote, 'for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`],
        s.dir,
      );
      return out.trim() || undefined;
    },
    async branchValues(branch) {
      const files = (
        await s.git(
          ['--git-dir', s.remote, 'ls-tree', '-r', '--name-only', branch, '--', 'secrets'],
          s.dir,
        )
      )
        .split('\n')
        .filter(Boolean);
      const out: Record<string, Record<string, string>> = {};
      for (const f of files) {
        out[f] = (await s.decrypt(await s.show(branch, f), f)).data;
        for (const v of Object.values(out[f])) values.add(v);
      }
      return out;
    },
    async commitsAhead(branch, base = 'main') {
      const out = await s.git(
        ['--git-dir', s.remote, 'rev-list', `${base}..${branch}`, '--'],
        s.dir,
      );
      return out.split('\n').filter(Boolean);
    },
    async close() {
      await github.close();
      await s.cleanup();
    },
  };
  return h;
}

/** Env that routes every sops call through a chain of fault shims, then the recording one. */
export function sopsChain(shims: { name: 'kill-parent-at.sh' | 'barrier.sh'; env: Env }[]): Env {
  const env: Env = {};
  let next = join(FAKE_SOPS, 'record-argv.sh');
  for (const shim of [...shims].reverse()) {
    const nextVar = shim.name === 'kill-parent-at.sh' ? 'SOPS_KILL_NEXT' : 'SOPS_BARRIER_NEXT';
    Object.assign(env, shim.env, { [nextVar]: next });
    next = join(FAKE_SOPS, shim.name);
  }
  env.GITOPS_SECRETS_SOPS = next;
  return env;
}

/** Waits until every sops process a killed run left behind has exited. */
export async function waitForOrphans(pidFile: string, timeoutMs = 20_000): Promise<void> {
  const pids = (await readFile(pidFile, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const until = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Decrypts whatever a killed run left in its temporary worktree (ciphertext only, if any). */
export async function leftoverValues(h: Harness): Promise<string[]> {
  const tmp = h.s.env.TMPDIR!;
  const found: string[] = [];
  const entries = await readdir(tmp, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile() || !/\.ya?ml$/.test(e.name)) continue;
    const text = await readFile(join(e.parentPath, e.name), 'utf8');
    if (!text.includes('sops:')) continue;
    try {
      const { data } = await h.s.decrypt(text, e.name);
      for (const v of Object.values(data)) {
        found.push(v);
        h.values.add(v);
      }
    } catch {
      // A file sops was rewriting when the run died: not a readable document.
    }
  }
  return found;
}

/** Nothing a crashed run left behind is in the way: worktrees, temp dirs, lock files. */
export async function expectCleanState(t: ExecutionContext, h: Harness): Promise<void> {
  const { s } = h;
  const list = await s.git(['worktree', 'list', '--porcelain']);
  t.deepEqual(
    list.split('\n').filter((l) => l.startsWith('worktree ')),
    [`worktree ${s.repo}`],
    'only the user checkout is a worktree',
  );
  t.is(await s.git(['worktree', 'prune', '--dry-run', '--verbose']), '', 'nothing to prune');
  t.deepEqual(
    await readdir(join(s.repo, '.git/worktrees')).catch(() => []),
    [],
    'no worktree admin dirs',
  );
  t.deepEqual(await readdir(s.env.TMPDIR!), [], 'no temp dirs left');
  const locks = await execa('find', [join(s.repo, '.git'), s.remote, '-name', '*.lock'], {
    reject: false,
  });
  t.is(locks.stdout.trim(), '', 'no git lock files');
  t.is(
    await s.git(['status', '--porcelain', '--untracked-files=all']),
    '',
    'the user checkout is untouched',
  );
}

let leakChecks = 0;
let leakNeedles = 0;

/** The one leak check: every value seen, and the sentinel token, nowhere they must not be. */
export async function expectNoLeaks(
  t: ExecutionContext,
  h: Harness,
  extraValues: Iterable<string> = [],
): Promise<void> {
  for (const v of extraValues) h.values.add(v);
  const values = [...h.values];
  const argv = await readFile(h.argvLog, 'utf8').catch(() => '');
  const pulls = h.pulls();
  const extra = [
    argv,
    ...pulls.map((p) => `${p.title}\n${p.body ?? ''}`),
    ...h.github.requests.map((r) => JSON.stringify(r.body ?? '')),
    ...h.github.requests.map((r) => JSON.stringify(r.headers)),
  ];
  const leaks = await findLeaks(h.s, values, extra);
  // The shared helper skips values shorter than 6 characters; say so rather than pass silently.
  const short = values.filter((v) => v.length < 6);
  t.deepEqual(short, [], 'every value is long enough to be searched for');
  t.deepEqual(leaks, [], 'no value and no token anywhere');
  leakChecks += 1;
  leakNeedles += values.length + 1;
}

export function leakCheckCount(): { checks: number; needles: number } {
  return { checks: leakChecks, needles: leakNeedles };
}
