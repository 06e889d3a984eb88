import type { Config } from '../config/types.js';
import type { Job, Plan } from '../core/plan.js';
import { pullRequestBody } from '../core/pr-body.js';
import { type ChangeRow, commitSubject } from '../core/summary.js';
import { ExternalError } from '../errors.js';
import type { PullRequestPort } from '../ports/github-port.js';

/** Marks a PR whose labels and reviewers are not all set yet. */
export const SETUP_PENDING = '<!-- gitops-secrets:setup-pending -->';

export interface PullRequestContext {
  /** From GITHUB_TOKEN or GH_TOKEN; only ever passed to the ports, never printed. */
  token: string | undefined;
  inActions: boolean;
  create(remoteUrl: string): PullRequestPort | Promise<PullRequestPort>;
}

export interface PrOutcome {
  number: number;
  url: string;
  action: 'created' | 'updated' | 'unchanged';
  apiCalls: number;
}

export interface UpsertInput {
  remoteUrl: string;
  config: Config;
  job: Job;
  branch: string;
  base: string;
  rows: ChangeRow[];
  plan: Plan;
  /** This run pushed a new commit. */
  wrote: boolean;
  log: (line: string) => void;
}

/** Opens the job's PR, or updates the one already open; never opens a second. */
export async function upsertPullRequest(
  ctx: PullRequestContext,
  input: UpsertInput,
): Promise<PrOutcome | undefined> {
  if (!ctx.token) {
    if (!input.wrote) return undefined;
    if (ctx.inActions) {
      throw new ExternalError(
        'github',
        `pushed ${input.branch}, but no GITHUB_TOKEN or GH_TOKEN is set, so no pull request was opened`,
        'pass `github-token` to the action (or set GITHUB_TOKEN) with contents: write and pull-requests: write',
      );
    }
    input.log(
      `notice: no GITHUB_TOKEN or GH_TOKEN; pushed ${input.branch} but opened no pull request (open one from ${input.branch} into ${input.base})`,
    );
    return undefined;
  }
  const port = await ctx.create(input.remoteUrl);
  const title = commitSubject(input.job, input.rows);
  const body = pullRequestBody({
    job: input.job,
    base: input.base,
    rows: input.rows,
    config: input.config,
  });
  const { labels, reviewers, teamReviewers } = input.config.pullRequest;

  const needsSetup = labels.length > 0 || reviewers.length > 0 || teamReviewers.length > 0;

  /** Labels and reviewers; a PR whose setup was interrupted (crash, error) carries PENDING. */
  const setup = async (number: number, currentLabels: string[]) => {
    const missing = labels.filter((l) => !currentLabels.includes(l));
    if (missing.length > 0) await port.addLabels(number, missing);
    if (reviewers.length > 0 || teamReviewers.length > 0) {
      try {
        await port.requestReviewers(number, reviewers, teamReviewers);
      } catch (err) {
        // GitHub refuses some reviewers (the PR's author, non-collaborators) with 422: say so,
        // keep the PR.
        if (!(err instanceof ExternalError && / 422 /.test(err.message))) throw err;
        input.log(`warning: ${err.message}; check pullRequest.reviewers in the config`);
      }
    }
  };

  const update = async (
    number: number,
    current: { title: string; body: string; labels: string[]; url: string },
  ) => {
    let action: PrOutcome['action'] = 'unchanged';
    if (current.body.includes(SETUP_PENDING)) {
      await setup(number, current.labels);
    } else {
      const missing = labels.filter((l) => !current.labels.includes(l));
      if (missing.length > 0) await port.addLabels(number, missing);
    }
    if (current.title !== title || current.body !== body) {
      await port.update(number, { title, body });
      action = 'updated';
    }
    return { number, url: current.url, action, apiCalls: port.calls };
  };

  const open = await port.findOpen(input.branch, input.base);
  if (open) {
    const out = await update(open.number, open);
    input.log(
      `${out.action === 'updated' ? 'updated' : 'pull request is up to date:'} #${out.number} ${out.url}`,
    );
    return out;
  }
  let created: Awaited<ReturnType<PullRequestPort['create']>>;
  try {
    const first = needsSetup ? `${body}\n${SETUP_PENDING}` : body;
    created = await port.create({ head: input.branch, base: input.base, title, body: first });
  } catch (err) {
    // Another run opened it between our look-up and our create: update that one instead.
    if (err instanceof ExternalError && /already exists/i.test(err.message)) {
      const raced = await port.findOpen(input.branch, input.base);
      if (raced) {
        const out = await update(raced.number, raced);
        input.log(`updated #${out.number} ${out.url}`);
        return out;
      }
    }
    throw err;
  }
  if (needsSetup) {
    // Labels and reviewers, then the final body: a run stopped in between finishes it next time.
    await setup(created.number, []);
    await port.update(created.number, { title, body });
  }
  input.log(`opened #${created.number} ${created.url}`);
  return { number: created.number, url: created.url, action: 'created', apiCalls: port.calls };
}
