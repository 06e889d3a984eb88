/** A pull request, as far as the tool must know. */
export interface PullRequest {
  number: number;
  url: string;
  title: string;
  body: string;
  labels: string[];
}

export type PullRequestState = 'open' | 'closed';

/** What the tool needs from GitHub: find, create and update one PR per job branch. */
export interface PullRequestPort {
  /** The repository as `owner/name`. */
  readonly repo: string;
  defaultBranch(): Promise<string>;
  findOpen(head: string, base: string): Promise<PullRequest | undefined>;
  /** Every PR from this head branch, open or closed, into any base; newest first. */
  listForHead(head: string): Promise<(PullRequest & { state: PullRequestState; base: string })[]>;
  create(pr: { head: string; base: string; title: string; body: string }): Promise<PullRequest>;
  update(number: number, pr: { title: string; body: string }): Promise<PullRequest>;
  addLabels(number: number, labels: string[]): Promise<void>;
  requestReviewers(number: number, reviewers: string[], teamReviewers: string[]): Promise<void>;
  /** API calls made so far. */
  readonly calls: number;
}
