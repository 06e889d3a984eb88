/**
 * The command line, on commander: argv to a command function with its options object. No side
 * effects: src/cli.ts (the CLI and its one exit point) and src/action/ (the GitHub Action) each
 * build the ports and decide what an exit code or an error means.
 */
import { Command, Option } from 'commander';
import { check } from './commands/check.js';
import type { JobCommandOptions, Output, RepoOptions } from './commands/common.js';
import { type ActionRelease, init } from './commands/init.js';
import { list } from './commands/list.js';
import { rotate } from './commands/rotate.js';
import { type SetPorts, set } from './commands/set.js';
import { sync } from './commands/sync.js';
import { UsageError } from './errors.js';

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

/** The options of `init`, as commander spells them. */
interface InitFlags {
  repo: string;
  config: string;
  age?: string;
  flux?: boolean;
  argocd?: boolean;
  force?: boolean;
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

export type Run = (command: () => Promise<number>) => Promise<void>;
export type Ports = () => SetPorts;

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

function addCheck(program: Command, run: Run, io: Output, ports: Ports): void {
  repoFlags(program.command('check'))
    .description(
      'report pending work without any private key; exit 3 when work is to do beyond what is proposed',
    )
    .action((f: RepoFlags) =>
      run(() => check({ ...repoOptions(f), remote: f.remote }, io, ports())),
    );
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

function addList(program: Command, run: Run, io: Output, ports: Ports): void {
  repoFlags(program.command('list'))
    .description(
      'secrets, keys, sources, last rotation, next due, and where each shared value is used',
    )
    .action((f: RepoFlags) =>
      run(() => list({ ...repoOptions(f), remote: f.remote }, io, ports())),
    );
}

function addInit(program: Command, { run, io, actionRelease }: ProgramContext): void {
  program
    .command('init')
    .description(
      'write a starter config/secrets.yaml, a .sops.yaml (with --age), the workflows and, with --flux or --argocd, the kustomization that applies the Secrets',
    )
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
    .addOption(
      new Option(
        '--flux',
        'also write secrets/kustomization.yaml and flux/gitops-secrets.yaml, a Flux Kustomization that decrypts with sops (docs/flux.md)',
      ).conflicts('argocd'),
    )
    .addOption(
      new Option(
        '--argocd',
        'also write secrets/kustomization.yaml with a ksops generator for Argo CD, and print the repo-server set-up (docs/argocd.md)',
      ).conflicts('flux'),
    )
    .option('--force', 'overwrite existing files (never a kustomization or its ksops generator)')
    .action((f: InitFlags) =>
      run(async () =>
        init(
          {
            repo: f.repo,
            config: f.config,
            age: f.age,
            force: f.force ?? false,
            gitops: f.flux ? 'flux' : f.argocd ? 'argocd' : undefined,
            action: await actionRelease(),
          },
          io,
        ),
      ),
    );
}

/** What the command line runs commands with. */
export interface ProgramContext {
  /** Gets each command, to run it and keep its exit code. */
  run: Run;
  /** The ports of the commands that run a job, built once one runs. */
  ports: Ports;
  /** Where `check`, `list` and `init` print. */
  io: Output;
  /** The Action release `init` writes into the workflows. */
  actionRelease: () => Promise<ActionRelease>;
}

/** The command line: argv to a command function. `run` gets the command, for its exit code. */
export function buildProgram({ run, ports, io, actionRelease }: ProgramContext): Command {
  const program = new Command('gitops-secrets')
    .description(
      'Declarative Kubernetes Secrets for GitOps repos: generate once, encrypt with sops, propose by pull request.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addSync(program, run, ports);
  addRotate(program, run, ports);
  addCheck(program, run, io, ports);
  addSet(program, run, ports);
  addList(program, run, io, ports);
  addInit(program, { run, ports, io, actionRelease });
  return program;
}

/** Parses argv and runs the command it names: its exit code (errors are thrown). */
export async function execute(
  argv: string[],
  context: Omit<ProgramContext, 'run'>,
): Promise<number> {
  let code = 0;
  const program = buildProgram({
    ...context,
    run: async (command) => {
      code = await command();
    },
  });
  await program.parseAsync(argv, { from: 'user' });
  return code;
}
