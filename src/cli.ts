#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { check } from './commands/check.js';
import type { JobCommandOptions, Output, RepoOptions } from './commands/common.js';
import { type ActionRelease, init } from './commands/init.js';
import { list } from './commands/list.js';
import { rotate } from './commands/rotate.js';
import { readValue, type SetPorts, set } from './commands/set.js';
import { sync } from './commands/sync.js';
import { ExitCode, GitopsSecretsError, UsageError } from './errors.js';
import { openRepo } from './ports/git.js';
import { createGitHub, repoSlug } from './ports/github.js';
import { createSops } from './ports/sops.js';

/**
 * A reader that has gone away (`gitops-secrets check --json | head -1`) is not this tool's
 * failure: the rest of the output is dropped and the run finishes its work, with its own exit
 * code, instead of dying mid-job with a stack trace for an EPIPE.
 */
const closed = new Set<NodeJS.WriteStream>();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && !closed.has(stream)) throw e;
    closed.add(stream);
  });
}
const write = (stream: NodeJS.WriteStream) => (line: string) => {
  if (!closed.has(stream)) stream.write(`${line}\n`);
};
const io: Output = { out: write(process.stdout), err: write(process.stderr) };

/** The real ports: git, sops and GitHub, configured from the environment. */
function realPorts(env: NodeJS.ProcessEnv): SetPorts {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN || undefined;
  const inActions = env.GITHUB_ACTIONS === 'true';
  return {
    ...io,
    openGit: (dir) => openRepo(dir, env, token ? { token } : undefined),
    createSops: () => createSops(),
    pullRequests: {
      token,
      inActions,
      create: (remoteUrl) =>
        createGitHub({
          token: token!,
          repo: repoSlug(env, remoteUrl),
          baseUrl: env.GITHUB_API_URL || 'https://api.github.com',
          // The time limits (GITOPS_SECRETS_GITHUB_*TIMEOUT_MS) the port reads itself.
          ...(env.GITOPS_SECRETS_RETRY_BASE_MS
            ? { retryBaseMs: Number(env.GITOPS_SECRETS_RETRY_BASE_MS) }
            : {}),
        }),
    },
    actionOutputs: inActions ? env.GITHUB_OUTPUT || undefined : undefined,
    readValue: (label) => readValue(label),
  };
}

/** The options of every command that reads a repository, as commander spells them. */
interface RepoFlags {
  config: string;
  repo: string;
  base?: string;
  remote: string;
  push: boolean;
  dryRun?: boolean;
  json?: boolean;
  now?: string;
}

function repoFlags(cmd: Command): Command {
  return cmd
    .option('--config <path>', 'config file, relative to --repo', 'config/secrets.yaml')
    .option('--repo <dir>', 'the GitOps repository', '.')
    .option('--base <branch>', "base branch (default: the remote's default branch)")
    .option('--remote <name>', 'git remote to push to', 'origin')
    .option('--no-push', 'commit on the local branch only; no push, no pull request')
    .option('--dry-run', 'print the plan; write nothing')
    .option('--json', 'print one JSON document on stdout')
    .option('--now <iso-8601>', 'the clock for rotation decisions (default: now)')
    .addOption(new Option('--debug', 'print stack traces of unexpected errors').hideHelp());
}

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new UsageError(
      `--now ${text} is not an ISO-8601 date`,
      'e.g. --now 2026-11-22T00:00:00Z',
    );
  return new Date(t);
}

function repoOptions(f: RepoFlags): RepoOptions {
  return { repo: f.repo, config: f.config, now: parseNow(f.now), json: f.json ?? false };
}

function jobOptions(f: RepoFlags): JobCommandOptions {
  const { base, remote, push } = f;
  return { ...repoOptions(f), base, remote, push, dryRun: f.dryRun ?? false };
}

type Run = (command: () => Promise<number>) => Promise<void>;
type Ports = () => SetPorts;

function addSync(program: Command, run: Run, ports: Ports): void {
  repoFlags(program.command('sync'))
    .description('generate missing keys, encrypt, commit, push, open or update the PR')
    .option('--prune', 'remove secrets and keys that are no longer in the config')
    .option(
      '--rotate-data-key',
      'when recipients changed, also replace the data key (sops rotate), e.g. after removing a compromised recipient',
    )
    .action((f: RepoFlags & { prune?: boolean; rotateDataKey?: boolean }) =>
      run(() =>
        sync(
          { ...jobOptions(f), prune: f.prune ?? false, rotateDataKey: f.rotateDataKey ?? false },
          ports(),
        ),
      ),
    );
}

function addRotate(program: Command, run: Run, ports: Ports): void {
  repoFlags(program.command('rotate'))
    .description('rotate keys that are due (or --secret NS/NAME [--key K] --force)')
    .option(
      '--secret <ns/name>',
      'only this secret (repeatable)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--key <key>', 'only this key (with --secret)')
    .option('--force', 'rotate now, whatever the due date')
    .action((f: RepoFlags & { secret?: string[]; key?: string; force?: boolean }) =>
      run(() =>
        rotate(
          { ...jobOptions(f), secrets: f.secret ?? [], key: f.key, force: f.force ?? false },
          ports(),
        ),
      ),
    );
}

function addCheck(program: Command, run: Run): void {
  repoFlags(program.command('check'))
    .description('report pending work without any private key; exit 3 when work is pending')
    .action((f: RepoFlags) => run(() => check(repoOptions(f), io)));
}

function addSet(program: Command, run: Run, ports: Ports): void {
  repoFlags(program.command('set'))
    .description(
      'fill a provided slot (value from stdin or a hidden prompt): set NS/NAME KEY, or set --shared NAME',
    )
    .argument('[secret]', 'NAMESPACE/NAME of the secret')
    .argument('[key]', 'the provided key to fill')
    .option('--shared <name>', 'replace a shared value in every secret that uses it')
    .option('--env <environment>', 'the environment to fill, when the config has environments')
    .action(
      (
        secret: string | undefined,
        key: string | undefined,
        f: RepoFlags & { shared?: string; env?: string },
      ) => run(() => set({ ...jobOptions(f), secret, key, shared: f.shared, env: f.env }, ports())),
    );
}

function addList(program: Command, run: Run): void {
  repoFlags(program.command('list'))
    .description(
      'secrets, keys, sources, last rotation, next due, and where each shared value is used',
    )
    .action((f: RepoFlags) => run(() => list(repoOptions(f), io)));
}

function addInit(program: Command, run: Run): void {
  program
    .command('init')
    .description('write a starter config/secrets.yaml, a .sops.yaml (with --age) and the workflows')
    .option('--repo <dir>', 'the GitOps repository', '.')
    .option(
      '--config <path>',
      'where to write the config, relative to --repo',
      'config/secrets.yaml',
    )
    .option(
      '--age <recipient>',
      'age recipient for the .sops.yaml creation rule (age-keygen -y KEYFILE)',
    )
    .option('--force', 'overwrite existing files')
    .action((f: { repo: string; config: string; age?: string; force?: boolean }) =>
      run(async () =>
        init(
          {
            repo: f.repo,
            config: f.config,
            age: f.age,
            force: f.force ?? false,
            action: await actionRelease(),
          },
          io,
        ),
      ),
    );
}

/** The command line: argv to a command function. `run` gets the command, for its exit code. */
export function buildProgram(run: Run, ports: Ports = () => realPorts(process.env)): Command {
  const program = new Command('gitops-secrets')
    .description(
      'Declarative Kubernetes Secrets for GitOps repos: generate once, encrypt with sops, propose by pull request.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addSync(program, run, ports);
  addRotate(program, run, ports);
  addCheck(program, run);
  addSet(program, run, ports);
  addList(program, run);
  addInit(program, run);
  return program;
}

/** The package's package.json; the release workflow adds `gitopsSecrets.actionCommit`. */
interface PackageJson {
  version: string;
  gitopsSecrets?: { actionCommit?: string };
}

async function packageJson(): Promise<PackageJson> {
  return JSON.parse(
    await readFile(new URL('../package.json', import.meta.url), 'utf8'),
  ) as PackageJson;
}

async function version(): Promise<string> {
  return (await packageJson()).version;
}

/** The Action release `init`'s workflows use: this package's version and release commit. */
async function actionRelease(): Promise<ActionRelease> {
  const pkg = await packageJson();
  return { version: pkg.version, commit: pkg.gitopsSecrets?.actionCommit };
}

/** The one exit point: a command's exit code, or the exit code of what it threw. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(async (command) => {
    code = await command();
  });
  program.version(await version(), '-V, --version');
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    return exitCodeOf(e, argv.includes('--debug'));
  }
}

function exitCodeOf(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    const shown = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
    return shown.includes(e.code) ? ExitCode.ok : ExitCode.usage;
  }
  if (e instanceof GitopsSecretsError) {
    io.err(`error: ${e.message}`);
    if (e.remedy) io.err(`  fix: ${e.remedy}`);
    if (debug && e.stack) io.err(e.stack);
    return e.exitCode;
  }
  io.err(`error: unexpected failure: ${(e as Error)?.message ?? String(e)}`);
  io.err(debug ? String((e as Error)?.stack) : '  (run with --debug for details, and report it)');
  return ExitCode.external;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = ExitCode.external;
  },
);
