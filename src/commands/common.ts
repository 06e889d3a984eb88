import { appendFile, realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { repoRelative } from '../apply/carried-files.js';
import type { PullRequestContext } from '../apply/pull-request.js';
import { type JobOptions, type JobResult, runJob } from '../apply/run-job.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { formatJob } from '../format.js';
import { kustomizationKind } from '../model/kustomize-upkeep.js';
import type { Job } from '../plan/plan.js';
import { type RestartHint, restartHints } from '../plan/summary.js';
import type { GitPort } from '../ports/git.js';
import { type Memo, openMemo } from '../ports/memo.js';
import type { SopsPort } from '../ports/sops.js';

/** Where a command prints. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What `sync`, `rotate` and `set` need besides printing; the CLI passes the real ones. */
export interface JobCommandPorts extends Output {
  /** Opens the repository; called only once the config is valid. */
  openGit(dir: string): Promise<GitPort>;
  createSops(): SopsPort;
  pullRequests: PullRequestContext;
  /** The file GitHub Actions reads step outputs from (GITHUB_OUTPUT), inside Actions only. */
  actionOutputs: string | undefined;
}

/** Options every command that reads a repository takes. */
export interface RepoOptions {
  /** The repository (`--repo`). */
  repo: string;
  /** The config file, relative to the repository (`--config`). */
  config: string;
  now: Date;
  json: boolean;
}

/** Options of the commands that run a job (`sync`, `rotate`, `set`). */
export interface JobCommandOptions extends RepoOptions {
  base: string | undefined;
  remote: string;
  push: boolean;
  dryRun: boolean;
}

/** A repository's root, its config, and the readings of earlier runs there. */
export interface LoadedConfig {
  root: string;
  config: Config;
  path: string;
  /** The config's text, as read (the job carries it without reading it again). */
  text: string;
  memo: Memo;
}

/**
 * The repository's root and its config, checked (exit 2 with every problem). Nothing else is
 * read, and no git command runs, before the config is found valid.
 */
export async function loadRepoConfig(o: RepoOptions): Promise<LoadedConfig> {
  const root = resolve(o.repo);
  const path = isAbsolute(o.config) ? o.config : resolve(root, o.config);
  const memo = openMemo(root);
  const configMemo = {
    get: (key: string) => memo.get<Config>('config', key),
    set: (key: string, config: Config) => memo.set('config', key, config),
  };
  let text = '';
  const config = await loadConfig(path, o.config, (t) => (text = t), root, configMemo);
  return { root, path, text, config, memo };
}

/** Runs a job with a valid config and prints its outcome (and the GitHub Actions outputs). */
export async function runJobCommand(
  job: Job,
  o: JobCommandOptions,
  loaded: LoadedConfig,
  ports: JobCommandPorts,
  extra: Pick<JobOptions, 'prune' | 'rotate' | 'rotateDataKey' | 'adjust'>,
): Promise<ExitCode> {
  const git = await ports.openGit(loaded.root);
  const log = o.json ? ports.err : ports.out;
  const configPath = repoRelative(git.root, await realpath(loaded.path).catch(() => loaded.path));
  const { remote, base, push, dryRun, now } = o;
  const result = await runJob(
    loaded.config,
    { job, remote, base, push, dryRun, now, configPath, configText: loaded.text, ...extra },
    { git, sops: ports.createSops(), log, pullRequests: ports.pullRequests, memo: loaded.memo },
  );
  const restart = restartHints(loaded.config, result.rows);
  if (o.json) ports.out(JSON.stringify(jobJson(result, o.dryRun, restart), null, 2));
  else for (const line of formatJob(result, o.dryRun, restart)) ports.out(line);
  if (ports.actionOutputs) await writeActionOutputs(ports.actionOutputs, result);
  return ExitCode.ok;
}

/**
 * `--json` of a job. `changes[].action` is the change's kind (generated, rotated, provided,
 * removed, re-keyed; `forced: true` on a forced rotation); `restart` lists the restart command of
 * each changed secret that declares one.
 */
export function jobJson(r: JobResult, dryRun: boolean, restart: RestartHint[]) {
  return {
    job: r.job,
    dryRun,
    base: r.base,
    branch: r.branch,
    changes: r.rows.filter((x) => x.action !== 'needs input'),
    needsInput: r.rows.filter((x) => x.action === 'needs input'),
    restart,
    orphans: r.plan.prune ? [] : r.plan.orphans,
    commit: r.commit ?? null,
    pushed: r.pushed,
    pullRequest: r.pullRequest
      ? { number: r.pullRequest.number, url: r.pullRequest.url, action: r.pullRequest.action }
      : null,
    sopsProcesses: r.sopsProcesses,
    carriedFiles: (r.carriedFiles ?? []).map((f) => ({ path: f.path, kind: f.kind })),
    // Only when there are any: the output of a repo without kustomizations stays as it was.
    ...(r.kustomizations && r.kustomizations.length > 0
      ? {
          kustomizations: r.kustomizations.map((k) => ({
            path: k.path,
            kind: kustomizationKind(k),
            added: k.added,
            removed: k.removed,
            ...(k.moved ? { moved: k.moved } : {}),
          })),
        }
      : {}),
  };
}

async function writeActionOutputs(file: string, r: JobResult): Promise<void> {
  const lines = [
    `pull-request-number=${r.pullRequest?.number ?? ''}`,
    `pull-request-url=${r.pullRequest?.url ?? ''}`,
    `commit=${r.commit ?? ''}`,
  ];
  await appendFile(file, `${lines.join('\n')}\n`);
}
