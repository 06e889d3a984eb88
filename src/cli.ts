#!/usr/bin/env node
import { appendFile, readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { type JobOptions, type JobResult, type Located, locateJob, runJob } from './apply/job.js';
import { check } from './commands/check.js';
import { init } from './commands/init.js';
import { list } from './commands/list.js';
import { checkValue, readValue, resolveSlots, setInPlan } from './commands/set.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { type ManifestPrefetch, prefetchFor } from './core/manifest-prefetch.js';
import { ExitCode, GitopsSecretsError, UsageError } from './errors.js';
import { formatCheck, formatJob, formatList } from './format.js';
import type { Job } from './plan/plan.js';
import { type GitPort, openRepo } from './ports/git.js';
import { createSops } from './ports/sops.js';

interface CommonOptions {
  config: string;
  repo: string;
  base?: string;
  remote: string;
  push: boolean;
  dryRun?: boolean;
  json?: boolean;
  now?: string;
  debug?: boolean;
}

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
const write = (stream: NodeJS.WriteStream, line: string) => {
  if (!closed.has(stream)) stream.write(`${line}\n`);
};
const out = (line: string) => write(process.stdout, line);
const err = (line: string) => write(process.stderr, line);

function common(cmd: Command): Command {
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

async function configFor(o: CommonOptions, onText?: (repo: string, text: string) => void) {
  const repo = resolve(o.repo);
  const path = isAbsolute(o.config) ? o.config : resolve(repo, o.config);
  const seen = onText && ((t: string) => onText(repo, t));
  return { repo, config: await loadConfig(path, o.config, seen, repo) };
}

/**
 * The config of a command that reads the working tree's manifests (`check`, `list`): they are
 * read on a worker thread while the config is parsed.
 */
async function configAndManifests(o: CommonOptions) {
  let prefetch: ManifestPrefetch | undefined;
  const { repo, config } = await configFor(o, (root, text) => {
    prefetch = prefetchFor(root, text);
  });
  return { repo, config, prefetch };
}

/** git work a job can start before its config is parsed. */
interface EarlyJob {
  token: string | undefined;
  git: Promise<GitPort>;
  located: Promise<Located>;
  /** The config is valid: the early work may now contact the remote (and fetch). */
  configValid(): void;
  /** The config is not: stop the git processes and wait until they have ended. */
  stop(): Promise<void>;
}

function startJob(job: Job, o: CommonOptions, repo: string): EarlyJob {
  const token = process.env.GITHUB_TOKEN || process.env.GH_TOKEN || undefined;
  const abort = new AbortController();
  let allow = () => {};
  let deny = (_: Error) => {};
  const configValid = new Promise<void>((res, rej) => {
    allow = res;
    deny = rej;
  });
  const git = openRepo(repo, process.env, token ? { token } : undefined, abort.signal);
  const located = git.then((g) =>
    locateJob(g, { job, remote: o.remote, base: o.base, push: o.push }, configValid),
  );
  // Awaited by the job, or settled by stop(); until then a failure is not "unhandled".
  for (const p of [configValid, git, located]) p.catch(() => undefined);
  return {
    token,
    git,
    located,
    configValid: () => allow(),
    async stop() {
      abort.abort();
      deny(new Error('stopped'));
      await Promise.allSettled([git, located]);
    },
  };
}

async function runJobCommand(
  job: Job,
  o: CommonOptions & { prune?: boolean; secret?: string[]; key?: string; force?: boolean },
) {
  const now = parseNow(o.now);
  // The local repository is read (its remote, the local job branch) while the config is parsed:
  // git works on another core meanwhile. A wrong config stops it, and is the error reported;
  // the remote is contacted only once the config is valid.
  const early = startJob(job, o, resolve(o.repo));
  let repo: string;
  let config: Config;
  try {
    ({ repo, config } = await configFor(o));
    if (job === 'rotate') checkSelection(config, o);
  } catch (e) {
    await early.stop();
    throw e;
  }
  return executeJob(job, o, config, repo, now, undefined, early);
}

function checkSelection(config: Config, o: CommonOptions & { secret?: string[]; key?: string }) {
  const declared = new Set(config.secrets.map((x) => `${x.namespace}/${x.name}`));
  for (const s of o.secret ?? []) {
    if (!declared.has(s)) {
      throw new UsageError(
        `--secret ${s} is not in ${o.config}`,
        'use NAMESPACE/NAME of a declared secret',
      );
    }
  }
  if (o.key && !config.secrets.some((x) => x.keys.some((k) => k.name === o.key))) {
    throw new UsageError(`--key ${o.key} is not a key of any declared secret`);
  }
  if (o.key && !(o.secret && o.secret.length > 0)) {
    throw new UsageError('--key needs --secret NS/NAME');
  }
}

async function executeJob(
  job: Job,
  o: CommonOptions & {
    prune?: boolean;
    secret?: string[];
    key?: string;
    force?: boolean;
    rotateDataKey?: boolean;
  },
  config: Config,
  repo: string,
  now: Date,
  adjust?: JobOptions['adjust'],
  early: EarlyJob = startJob(job, o, repo),
) {
  early.configValid();
  const { token } = early;
  const git = await early.git;
  const sops = createSops();
  const log = o.json ? err : out;
  const result = await runJob(
    config,
    {
      job,
      remote: o.remote,
      base: o.base,
      push: o.push,
      dryRun: o.dryRun ?? false,
      prune: o.prune ?? false,
      rotateDataKey: o.rotateDataKey ?? false,
      now,
      ...(job === 'rotate'
        ? { rotate: { secrets: o.secret ?? [], key: o.key, force: o.force ?? false } }
        : {}),
      ...(adjust ? { adjust } : {}),
    },
    {
      git,
      sops,
      log,
      pullRequests: {
        token,
        inActions: process.env.GITHUB_ACTIONS === 'true',
        // Octokit is loaded only when a pull request is opened or updated: a third of the
        // bundle, which every other run (check, a no-op sync, --no-push) need not parse.
        create: async (remoteUrl) => {
          const { createGitHub, repoSlug } = await import('./ports/github.js');
          return createGitHub({
            token: token!,
            repo: repoSlug(process.env, remoteUrl),
            baseUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
            ...(process.env.GITOPS_SECRETS_GITHUB_TIMEOUT_MS
              ? { timeoutMs: Number(process.env.GITOPS_SECRETS_GITHUB_TIMEOUT_MS) }
              : {}),
            ...(process.env.GITOPS_SECRETS_RETRY_BASE_MS
              ? { retryBaseMs: Number(process.env.GITOPS_SECRETS_RETRY_BASE_MS) }
              : {}),
          });
        },
      },
    },
    early.located,
  );
  if (o.json) out(JSON.stringify(jobJson(result, o.dryRun ?? false), null, 2));
  else for (const line of formatJob(result, o.dryRun ?? false)) out(line);
  await writeActionOutputs(result);
  return ExitCode.ok;
}

function jobJson(r: JobResult, dryRun: boolean) {
  return {
    job: r.job,
    dryRun,
    base: r.base,
    branch: r.branch,
    changes: r.rows.filter((x) => x.action !== 'needs input'),
    needsInput: r.rows.filter((x) => x.action === 'needs input'),
    orphans: r.plan.prune ? [] : r.plan.orphans,
    commit: r.commit ?? null,
    pushed: r.pushed,
    pullRequest: r.pullRequest
      ? { number: r.pullRequest.number, url: r.pullRequest.url, action: r.pullRequest.action }
      : null,
    sopsProcesses: r.sopsProcesses,
  };
}

async function writeActionOutputs(r: JobResult) {
  const file = process.env.GITHUB_OUTPUT;
  if (!file || process.env.GITHUB_ACTIONS !== 'true') return;
  const lines = [
    `pull-request-number=${r.pullRequest?.number ?? ''}`,
    `pull-request-url=${r.pullRequest?.url ?? ''}`,
    `commit=${r.commit ?? ''}`,
  ];
  await appendFile(file, `${lines.join('\n')}\n`);
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('gitops-secrets')
    .description(
      'Declarative Kubernetes Secrets for GitOps repos: generate once, encrypt with sops, propose by pull request.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  common(program.command('sync'))
    .description('generate missing keys, encrypt, commit, push, open or update the PR')
    .option('--prune', 'remove secrets and keys that are no longer in the config')
    .option(
      '--rotate-data-key',
      'when recipients changed, also replace the data key (sops rotate), e.g. after removing a compromised recipient',
    )
    .action(async (o) => setExit(await runJobCommand('sync', o)));

  common(program.command('rotate'))
    .description('rotate keys that are due (or --secret NS/NAME [--key K] --force)')
    .option(
      '--secret <ns/name>',
      'only this secret (repeatable)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--key <key>', 'only this key (with --secret)')
    .option('--force', 'rotate now, whatever the due date')
    .action(async (o) => setExit(await runJobCommand('rotate', o)));

  common(program.command('check'))
    .description('report pending work without any private key; exit 3 when work is pending')
    .action(async (o: CommonOptions) => {
      const now = parseNow(o.now);
      const { repo, config, prefetch } = await configAndManifests(o);
      const result = await check(config, repo, now, prefetch);
      if (o.json) out(JSON.stringify(result, null, 2));
      else for (const line of formatCheck(result)) out(line);
      setExit(result.pending ? ExitCode.pending : ExitCode.ok);
    });

  common(program.command('set'))
    .description(
      'fill a provided slot (value from stdin or a hidden prompt): set NS/NAME KEY, or set --shared NAME',
    )
    .argument('[secret]', 'NAMESPACE/NAME of the secret')
    .argument('[key]', 'the provided key to fill')
    .option('--shared <name>', 'replace a shared value in every secret that uses it')
    .option('--env <environment>', 'the environment to fill, when the config has environments')
    .action(
      async (
        secret: string | undefined,
        key: string | undefined,
        o: CommonOptions & { shared?: string; env?: string },
      ) => {
        const now = parseNow(o.now);
        const { repo, config } = await configFor(o);
        if (o.shared && (secret || key))
          throw new UsageError('use either NS/NAME KEY or --shared NAME, not both');
        const target = { secret, key, shared: o.shared, environment: o.env };
        const { slots, rules, label } = resolveSlots(config, target);
        const value = o.dryRun ? 'dry-run' : await readValue(label);
        if (!o.dryRun) checkValue(value, rules, label);
        const reason = o.shared
          ? `shared value ${o.shared} replaced by a person`
          : 'value provided by a person';
        setExit(await executeJob('sync', o, config, repo, now, setInPlan(slots, value, reason)));
      },
    );

  common(program.command('list'))
    .description(
      'secrets, keys, sources, last rotation, next due, and where each shared value is used',
    )
    .action(async (o: CommonOptions) => {
      const now = parseNow(o.now);
      const { repo, config, prefetch } = await configAndManifests(o);
      const result = await list(config, repo, now, prefetch);
      if (o.json) out(JSON.stringify(result, null, 2));
      else for (const line of formatList(result)) out(line);
    });

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
    .action(async (o: { repo: string; config: string; age?: string; force?: boolean }) => {
      const written = await init({
        repo: resolve(o.repo),
        config: o.config,
        age: o.age,
        force: o.force ?? false,
      });
      for (const f of written) out(`wrote ${f}`);
      if (!o.age)
        out(
          'no --age given: add recipients to .sops.yaml or to `sops:` in the config before the first sync',
        );
      out(`next: edit ${o.config}, then run \`gitops-secrets check\` and \`gitops-secrets sync\``);
    });

  return program;
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  program.version(await version(), '-V, --version');
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return ExitCode.ok;
      return ExitCode.usage;
    }
    if (e instanceof GitopsSecretsError) {
      err(`error: ${e.message}`);
      if (e.remedy) err(`  fix: ${e.remedy}`);
      if (debug && e.stack) err(e.stack);
      return e.exitCode;
    }
    err(`error: unexpected failure: ${(e as Error)?.message ?? String(e)}`);
    err(debug ? String((e as Error)?.stack) : '  (run with --debug for details, and report it)');
    return ExitCode.external;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = ExitCode.external;
  },
);
