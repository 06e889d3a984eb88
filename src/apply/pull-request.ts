import type { Config } from '../config/types.js';
import { ExternalError } from '../errors.js';
import type { Job, Plan } from '../plan/plan.js';
import { pullRequestBody } from '../plan/pr-body.js';
import { type ChangeRow, commitSubject } from '../plan/summary.js';
import type { PullRequest, PullRequestPort } from '../ports/github-port.js';

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
  /** The working copy's files the commit carries (config, `.sops.yaml`). */
  carriedFiles?: { path: string; kind: string }[];
  /** Kustomizations the commit changes, with what changed in each (one line each). */
  kustomizations?: { path: string; kind: string }[];
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
  try {
    return await new PullRequestStep(port, input).run();
  } catch (err) {
    throw withBranchPushed(err, input.branch);
  }
}

/** Every GitHub failure happens after the push: say that a later run finishes the PR. */
function withBranchPushed(err: unknown, branch: string): unknown {
  if (!(err instanceof ExternalError) || err.step !== 'github') return err;
  const pushed = `${branch} is pushed, so a later run finishes the pull request`;
  return new ExternalError('github', err.message, err.remedy ? `${err.remedy}; ${pushed}` : pushed);
}

/** One run of the PR step: find, open or update, label, request reviewers. */
class PullRequestStep {
  private readonly title: string;
  private readonly body: string;
  private readonly config: Config['pullRequest'];

  constructor(
    private readonly port: PullRequestPort,
    private readonly input: UpsertInput,
  ) {
    this.title = commitSubject(
      input.job,
      input.rows,
      (input.kustomizations ?? []).map((k) => k.path),
    );
    this.body = pullRequestBody({
      job: input.job,
      base: input.base,
      rows: input.rows,
      config: input.config,
      ...(input.carriedFiles ? { carriedFiles: input.carriedFiles } : {}),
      ...(input.kustomizations ? { kustomizations: input.kustomizations } : {}),
    });
    this.config = input.config.pullRequest;
  }

  async run(): Promise<PrOutcome> {
    const { port, input, title, body } = this;
    const open = await port.findOpen(input.branch, input.base);
    if (open) {
      const out = await this.update(open);
      input.log(
        `${out.action === 'updated' ? 'updated' : 'pull request is up to date:'} #${out.number} ${out.url}`,
      );
      return out;
    }
    const { labels, reviewers, teamReviewers } = this.config;
    const needsSetup = labels.length > 0 || reviewers.length > 0 || teamReviewers.length > 0;
    let created: PullRequest;
    try {
      const first = needsSetup ? `${body}\n${SETUP_PENDING}` : body;
      created = await port.create({ head: input.branch, base: input.base, title, body: first });
    } catch (err) {
      if (!(err instanceof ExternalError && /already exists/i.test(err.message))) throw err;
      return this.resolveExisting(err);
    }
    if (needsSetup) {
      // Labels and reviewers, then the final body: a run stopped in between finishes it next time.
      await this.setup(created.number, []);
      await port.update(created.number, { title, body });
    }
    input.log(`opened #${created.number} ${created.url}`);
    return { number: created.number, url: created.url, action: 'created', apiCalls: port.calls };
  }

  /**
   * GitHub says a PR from the branch already exists (another run won a race, or its lists lag):
   * look again at every PR of the branch, open or closed, into any base. The open one into our
   * base is updated; anything else is said as found.
   */
  private async resolveExisting(refusal: ExternalError): Promise<PrOutcome> {
    const { input } = this;
    const all = await this.port.listForHead(input.branch);
    const ours = all.find((p) => p.state === 'open' && p.base === input.base);
    if (ours) {
      const out = await this.update(ours);
      input.log(`updated #${out.number} ${out.url}`);
      return out;
    }
    const elsewhere = all.find((p) => p.state === 'open');
    const closed = all.filter((p) => p.state === 'closed');
    const closedNote = closed.length
      ? ` (closed: ${closed.map((p) => `#${p.number} into ${p.base}`).join(', ')})`
      : '';
    if (elsewhere) {
      throw new ExternalError(
        'github',
        `GitHub could not open a pull request from ${input.branch} into ${input.base}: PR #${elsewhere.number} for ${input.branch} into ${elsewhere.base} is open${closedNote}`,
        `pass --base ${elsewhere.base}, or close #${elsewhere.number} (${elsewhere.url})`,
      );
    }
    throw new ExternalError(
      'github',
      `${refusal.message}, but no open pull request from ${input.branch} turns up${closedNote}`,
      "GitHub's lists can lag behind its writes: run again in a minute",
    );
  }

  /** Labels and reviewers; a PR whose setup was interrupted (crash, error) carries PENDING. */
  private async setup(number: number, currentLabels: string[]): Promise<void> {
    const { labels, reviewers, teamReviewers } = this.config;
    const missing = labels.filter((l) => !currentLabels.includes(l));
    if (missing.length > 0) await this.port.addLabels(number, missing);
    if (reviewers.length > 0 || teamReviewers.length > 0) {
      try {
        await this.port.requestReviewers(number, reviewers, teamReviewers);
      } catch (err) {
        // GitHub refuses some reviewers (the PR's author, non-collaborators) with 422: say so,
        // keep the PR.
        if (!(err instanceof ExternalError && / 422 /.test(err.message))) throw err;
        this.input.log(`warning: ${err.message}; check pullRequest.reviewers in the config`);
      }
    }
  }

  private async update(current: PullRequest): Promise<PrOutcome> {
    const { port, title, body } = this;
    let action: PrOutcome['action'] = 'unchanged';
    if (current.body.includes(SETUP_PENDING)) {
      await this.setup(current.number, current.labels);
    } else {
      const missing = this.config.labels.filter((l) => !current.labels.includes(l));
      if (missing.length > 0) await port.addLabels(current.number, missing);
    }
    if (current.title !== title || current.body !== body) {
      await port.update(current.number, { title, body });
      action = 'updated';
    }
    return { number: current.number, url: current.url, action, apiCalls: port.calls };
  }
}
