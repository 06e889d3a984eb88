import type { Config } from '../config/types.js';
import { ConfigError, ExternalError } from '../errors.js';
import type { ManifestInfo, ManifestProblem } from '../model/manifest.js';
import { readSopsRules } from '../model/recipients.js';
import { readSopsYaml } from '../model/sops-yaml.js';
import { checkSopsYaml, ruleSelected } from '../model/sops-yaml-check.js';
import {
  isEmptyPlan,
  type Job,
  plan as makePlan,
  type Plan,
  type RotateSelection,
} from '../plan/plan.js';
import type { GitPort } from '../ports/git.js';
import type { RepoState } from './repo-state.js';

export interface PlanOptions {
  job: Job;
  now: Date;
  prune: boolean;
  rotate?: RotateSelection;
  /** Re-encrypting for new recipients also replaces the data key (`sops rotate`). */
  rotateDataKey?: boolean;
  /** Changes the plan before it is applied (`set` puts a person's value in). */
  adjust?: (plan: Plan, existing: Map<string, ManifestInfo | ManifestProblem>) => void;
}

/**
 * The job's plan from the repo state. Refused before anything is written: encryption selectors
 * of `.sops.yaml` that would leave values unencrypted, or that sops would refuse next to the
 * config's encryptedRegex (exit 2), and manifests that cannot be used as they are (exit 1).
 */
export function planJob(config: Config, options: PlanOptions, state: RepoState): Plan {
  const sopsYaml = readSopsYaml(state.sopsYamlText);
  const selectors = checkSopsYaml(config, sopsYaml);
  if (selectors.problems.length > 0) throw new ConfigError(selectors.problems);
  const plan = makePlan({
    config,
    job: options.job,
    existing: state.existing,
    now: options.now,
    prune: options.prune,
    sopsRules: readSopsRules(sopsYaml),
    base: state.base,
    ...(options.rotate ? { rotate: options.rotate } : {}),
  });
  if (plan.problems.length > 0) throw repoProblems(plan.problems);
  // A rule's own (safe) selector applies to its files: sops refuses a second one.
  for (const f of plan.files) if (selectors.ruleSelects.has(f.path)) f.sops = ruleSelected(f.sops);
  options.adjust?.(plan, state.existing);
  if (options.rotateDataKey) {
    for (const f of plan.files) if (f.reencrypt) f.reencrypt.reason += ', with a new data key';
  }
  return plan;
}

export function repoProblems(problems: ManifestProblem[]): ExternalError {
  const lines = problems.map((p) => `  ${p.path} ${p.problem}; fix: ${p.remedy}`);
  return new ExternalError(
    'repo',
    `${problems.length === 1 ? '1 manifest cannot be used as it is' : `${problems.length} manifests cannot be used as they are`}:\n${lines.join('\n')}`,
  );
}

/** The paths a plan writes (or removes), and those carried from the job branch. */
function pathsWritten(plan: Plan, carried: string[]): Set<string> {
  const paths = new Set<string>(carried);
  for (const f of plan.files) {
    if (f.reencrypt || f.changes.some((c) => c.action !== 'needs-input')) paths.add(f.path);
    if (f.changes.some((c) => c.action === 'rotate' || c.action === 'set'))
      for (const p of f.secret.rollout) paths.add(p);
  }
  if (plan.prune) for (const o of plan.orphans) if (o.keys.length === 0) paths.add(o.path);
  return paths;
}

/**
 * A path the run would write, reached through a symlink committed in the base, is refused: the
 * commit would otherwise silently replace the symlink with a directory (or a file). So is one
 * below a file, or at a directory, of the base: the commit would delete that file or directory.
 */
export async function refuseBlockedPaths(
  git: GitPort,
  baseSha: string,
  plan: Plan,
  carried: string[],
): Promise<void> {
  if (isEmptyPlan(plan)) return;
  const paths = [...pathsWritten(plan, carried)].sort();
  if (paths.length === 0) return;
  const found = await git.blockers(baseSha, paths);
  const links = paths.flatMap((p) => {
    const link = found.symlinks.find((l) => p === l || p.startsWith(`${l}/`));
    return link ? [`  ${p}: ${link} is a symlink`] : [];
  });
  if (found.symlinks.length > 0)
    throw new ExternalError(
      'repo',
      `refusing to write through symlinks in the repo:\n${links.join('\n')}`,
      'replace each symlink with the directory or file itself, or change `output` (or `rollout`) in the config',
    );
  // A file where a directory must be (or the reverse): the commit would delete it.
  const lines = paths.flatMap((p) => {
    const file = found.files.find((f) => p.startsWith(`${f}/`));
    if (file) return [`  ${p}: ${file} is a file in the repo, not a directory`];
    return found.dirs.includes(p) ? [`  ${p}: is a directory in the repo, not a file`] : [];
  });
  if (lines.length > 0)
    throw new ExternalError(
      'repo',
      `refusing to replace what the repo holds at these paths:\n${lines.join('\n')}`,
      'move the file or directory out of the way, or change `output` (or `rollout`) in the config',
    );
}
