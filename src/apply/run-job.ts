import { checkpoint } from '../checkpoint.js';
import type { Config } from '../config/types.js';
import { SOPS_YAML } from '../model/sops-yaml-check.js';
import { isEmptyPlan, type Job, type Plan, selectionPaths } from '../plan/plan.js';
import { type ChangeRow, changeRows } from '../plan/summary.js';
import type { GitPort } from '../ports/git.js';
import type { Memo } from '../ports/memo.js';
import type { SopsPort } from '../ports/sops.js';
import { type CarriedFile, workingCopyFiles } from './carried-files.js';
import { commitAndPush } from './commit.js';
import { renewedDataKeys } from './data-key.js';
import { type KustomizationFile, kustomizationEdits, kustomizationKind } from './kustomizations.js';
import { JOB_BRANCH, type Located, locateJob } from './locate.js';
import { type PlanOptions, planJob, refuseBlockedPaths } from './plan-job.js';
import { type PrOutcome, type PullRequestContext, upsertPullRequest } from './pull-request.js';
import { carryValues, infos, readRepoState } from './repo-state.js';

export interface JobOptions extends PlanOptions {
  remote: string;
  /** The base branch; undefined: the remote's default branch. */
  base: string | undefined;
  push: boolean;
  dryRun: boolean;
  /** The config's path in the repository: carried to the base when the working copy's differs. */
  configPath?: string | undefined;
  /** The config's text as loadConfig read it (not read from disk again). */
  configText?: string | undefined;
}

export interface JobPorts {
  git: GitPort;
  sops: SopsPort;
  /** Builds the PR port once the remote URL is known; undefined when there is no token. */
  pullRequests: PullRequestContext;
  log: (line: string) => void;
  /** Readings of earlier runs (src/ports/memo.ts); none by default. */
  memo?: Memo;
}

export interface JobResult {
  job: Job;
  branch: string;
  base: string;
  rows: ChangeRow[];
  plan: Plan;
  commit: string | undefined;
  pushed: boolean;
  pullRequest: PrOutcome | undefined;
  sopsProcesses: number;
  /** The plan had work beyond what the job branch already holds. */
  work: boolean;
  /** The working copy's config and `.sops.yaml` the commit carries (they differ from the base's). */
  carriedFiles?: CarriedFile[];
  /** Kustomizations (and ksops generators) the commit changes so that they list the manifests. */
  kustomizations?: KustomizationFile[];
}

/**
 * `sync` and `rotate`: locate the base and the job branch, read what they hold (plaintext
 * metadata only), plan, apply in a work tree, commit, push, open or update the pull request.
 */
export async function runJob(
  config: Config,
  options: JobOptions,
  ports: JobPorts,
): Promise<JobResult> {
  const { git } = ports;
  // Work trees of crashed runs go first (this never fails: what it cannot remove stays for the
  // next run).
  await git.pruneStale();
  const where = await locateJob(git, options);
  const scope = options.job === 'rotate' ? selectionPaths(config, options.rotate) : undefined;
  const also = options.configPath ? [options.configPath] : [];
  const state = await readRepoState(git, config, where, scope, also, ports.memo);
  const ownConfig = options.configPath
    ? { path: options.configPath, text: options.configText }
    : undefined;
  const files = await workingCopyFiles(git, where, ownConfig, options.remote);
  const sopsYaml = files.find((f) => f.path === SOPS_YAML);
  // The run plans with the `.sops.yaml` it proposes.
  if (sopsYaml && !config.sops.hasRecipients) state.sopsYamlText = sopsYaml.text;
  const plan = planJob(config, options, state);
  const kustomizations =
    options.job === 'sync' ? await kustomizationEdits(git, config, where, plan, state) : [];
  await refuseBlockedPaths(git, where.baseSha, plan, [
    ...state.fromBranch,
    ...state.rolloutFromBranch.keys(),
    ...files.map((f) => f.path),
    ...kustomizations.map((k) => k.path),
  ]);
  const carried = carryValues(plan, state);
  const renewed = await renewedDataKeys(git, state);
  const rows = changeRows(plan, state.base, infos(state.existing), config.shared, renewed);
  const result: JobResult = {
    job: options.job,
    branch: JOB_BRANCH[options.job],
    base: where.base,
    rows,
    plan,
    commit: undefined,
    pushed: false,
    pullRequest: undefined,
    sopsProcesses: 0,
    work:
      !isEmptyPlan(plan) ||
      files.some((f) => !f.proposed) ||
      kustomizations.some((k) => !k.proposed),
    carriedFiles: files,
    kustomizations,
  };
  if (options.dryRun) return result;
  checkpoint('planned');
  if (result.work) {
    const done = await commitAndPush(
      {
        job: options.job,
        branch: result.branch,
        remote: options.remote,
        push: options.push,
        rotateDataKey: options.rotateDataKey ?? false,
        where,
        state,
        plan,
        rows,
        carried,
        files,
        kustomizations,
      },
      ports,
    );
    result.commit = done.commit;
    result.pushed = done.pushed;
  }
  result.sopsProcesses = ports.sops.started;
  result.pullRequest = await pullRequestStep(config, options, ports, where, result);
  return result;
}

/**
 * Opens or updates the job's pull request when the branch has changes: a new commit, or (for
 * the PR's upkeep) the changes an earlier run pushed.
 */
async function pullRequestStep(
  config: Config,
  options: JobOptions,
  ports: JobPorts,
  where: Located,
  result: JobResult,
): Promise<PrOutcome | undefined> {
  const hasBranchChanges =
    result.pushed ||
    (options.push &&
      where.remoteBranchSha !== undefined &&
      (result.rows.some((r) => r.action !== 'needs input') ||
        (result.carriedFiles ?? []).length > 0 ||
        (result.kustomizations ?? []).length > 0));
  if (!options.push || !where.remoteUrl || !hasBranchChanges) return undefined;
  const outcome = await upsertPullRequest(ports.pullRequests, {
    remoteUrl: where.remoteUrl,
    config,
    job: result.job,
    branch: result.branch,
    base: result.base,
    rows: result.rows,
    plan: result.plan,
    wrote: result.pushed,
    carriedFiles: (result.carriedFiles ?? []).map((f) => ({ path: f.path, kind: f.kind })),
    kustomizations: (result.kustomizations ?? []).map((k) => ({
      path: k.path,
      kind: kustomizationKind(k),
    })),
    log: ports.log,
  });
  checkpoint('pull-request');
  return outcome;
}
