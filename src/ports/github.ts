import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { UsageError } from '../errors.js';
import { checkShape, type ErrorContext, type Shape, toError } from './github-errors.js';
import {
  msFromEnv,
  REQUEST_TIMEOUT_MS,
  rateLimitHandler,
  STEP_TIMEOUT_MS,
  StepClock,
} from './github-limits.js';
import type { PullRequest, PullRequestPort, PullRequestState } from './github-port.js';

export interface GitHubOptions {
  token: string;
  /** `owner/name`. */
  repo: string;
  /** GITHUB_API_URL; default https://api.github.com. */
  baseUrl: string;
  /** Base delay for retries of 5xx, in ms (Octokit's default is 1000). */
  retryBaseMs?: number;
  /** Time limit of one API request, in ms (default 30 s; GITOPS_SECRETS_GITHUB_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Time limit of the whole PR step, in ms (default 90 s; GITOPS_SECRETS_GITHUB_STEP_TIMEOUT_MS). */
  stepTimeoutMs?: number;
  /** Where rate-limit waits are announced; default stderr. */
  notice?: (line: string) => void;
}

const MyOctokit = Octokit.plugin(retry, throttling);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Where the repository slug comes from: GITHUB_REPOSITORY, else the remote URL. */
export function repoSlug(env: NodeJS.ProcessEnv, remoteUrl: string): string {
  if (env.GITHUB_REPOSITORY && /^[^/\s]+\/[^/\s]+$/.test(env.GITHUB_REPOSITORY))
    return env.GITHUB_REPOSITORY;
  const slug = parseRemoteSlug(remoteUrl);
  if (!slug) {
    throw new UsageError(
      `cannot tell the GitHub repository from the remote URL ${stripCredentials(remoteUrl)}`,
      'set GITHUB_REPOSITORY=owner/name',
    );
  }
  return slug;
}

/** owner/name from https, ssh and scp-like remote URLs. */
export function parseRemoteSlug(url: string): string | undefined {
  const m =
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?[^/]+(?::\d+)?\/(.+?)\/([^/]+?)(?:\.git)?\/?$/.exec(url) ??
    /^(?:[^@/]+@)?[^:/]+:(?!\/)(.+?)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  if (!m) return undefined;
  const owner = m[1]!.split('/').pop()!;
  return `${owner}/${m[2]}`;
}

function stripCredentials(url: string): string {
  return url.replace(/\/\/[^@/]+@/, '//');
}

/** The PR port on Octokit, with GitHub's retry and throttling rules; errors converted here. */
/**
 * The pull-request port for the repository behind `remoteUrl`, configured from the environment:
 * GITHUB_REPOSITORY (else the remote's owner/name), GITHUB_API_URL, GITOPS_SECRETS_RETRY_BASE_MS;
 * the time limits (GITOPS_SECRETS_GITHUB_*TIMEOUT_MS) the port reads itself.
 */
export function gitHubFor(
  env: NodeJS.ProcessEnv,
  token: string,
  remoteUrl: string,
): PullRequestPort {
  return createGitHub({
    token,
    repo: repoSlug(env, remoteUrl),
    baseUrl: env.GITHUB_API_URL || 'https://api.github.com',
    ...(env.GITOPS_SECRETS_RETRY_BASE_MS
      ? { retryBaseMs: Number(env.GITOPS_SECRETS_RETRY_BASE_MS) }
      : {}),
  });
}

export function createGitHub(options: GitHubOptions): PullRequestPort {
  const env = process.env;
  // A limit that is not a positive number (NaN from a mistyped env var) is the default.
  const clock = new StepClock(
    msFromEnv(
      String(options.timeoutMs ?? env.GITOPS_SECRETS_GITHUB_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS,
    ),
    msFromEnv(
      String(options.stepTimeoutMs ?? env.GITOPS_SECRETS_GITHUB_STEP_TIMEOUT_MS),
      STEP_TIMEOUT_MS,
    ),
  );
  const notice = options.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const onLimit = rateLimitHandler(clock, notice);
  const octokit = new MyOctokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'gitops-secrets',
    log: quiet,
    // Each request's time limit is applied by this fetch: Octokit's hooks cannot hand a signal
    // to the fetch (every hook gets the options of the first call), and `timeout` is ignored.
    request: { fetch: clock.fetch },
    retry: {
      // 429 too: a rate limit is the throttling plugin's (it reads retry-after; blind retries do not).
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      ...(options.retryBaseMs !== undefined ? { retryAfterBaseValue: options.retryBaseMs } : {}),
    },
    throttle: { onRateLimit: onLimit, onSecondaryRateLimit: onLimit },
  });
  return new GitHubPort(octokit, options, clock);
}

type Api = InstanceType<typeof MyOctokit>;
type Response<T> = { data: T; url: string; headers: Record<string, unknown> };

class GitHubPort implements PullRequestPort {
  readonly repo: string;
  private count = 0;
  private readonly owner: string;
  private readonly name: string;

  constructor(
    private readonly octokit: Api,
    private readonly options: GitHubOptions,
    private readonly clock: StepClock,
  ) {
    this.repo = options.repo;
    [this.owner, this.name] = options.repo.split('/') as [string, string];
    octokit.hook.before('request', () => {
      this.count++;
    });
  }

  get calls(): number {
    return this.count;
  }

  /** One API call: its errors converted, its answer checked to be the API's JSON. */
  private async call<T>(
    what: string,
    method: string,
    shape: Shape,
    fn: () => Promise<Response<T>>,
  ): Promise<T> {
    const ctx: ErrorContext = {
      what,
      slug: this.repo,
      baseUrl: stripCredentials(this.options.baseUrl),
      clock: this.clock,
    };
    let response: Response<T>;
    try {
      response = await fn();
    } catch (err) {
      throw toError(err, ctx);
    }
    checkShape(response, method, shape, ctx);
    return response.data;
  }

  async defaultBranch() {
    const { owner, name: repo } = this;
    const data = await this.call('read the repository', 'GET', 'repo', () =>
      this.octokit.rest.repos.get({ owner, repo }),
    );
    return data.default_branch;
  }

  /** The pull requests from branch `head` (asked as `owner:head`; the head ref checked too). */
  private async pullsFrom(
    head: string,
    query: { state: 'open' | 'all'; base?: string; per_page: number },
  ) {
    const { owner, name: repo } = this;
    const data = await this.call('list pull requests', 'GET', 'pulls', () =>
      this.octokit.rest.pulls.list({ owner, repo, head: `${owner}:${head}`, ...query }),
    );
    return data.filter((p) => p.head?.ref === head);
  }

  async findOpen(head: string, base: string) {
    const [pr] = await this.pullsFrom(head, { state: 'open', base, per_page: 10 });
    return pr ? toPr(pr) : undefined;
  }

  async listForHead(head: string) {
    const pulls = await this.pullsFrom(head, { state: 'all', per_page: 100 });
    return pulls.map((p) => ({
      ...toPr(p),
      state: p.state as PullRequestState,
      base: p.base?.ref ?? '',
    }));
  }

  async create(pr: { head: string; base: string; title: string; body: string }) {
    const { owner, name: repo } = this;
    const data = await this.call('open the pull request', 'POST', 'pull', () =>
      this.octokit.rest.pulls.create({ owner, repo, ...pr, maintainer_can_modify: true }),
    );
    return toPr(data);
  }

  async update(number: number, pr: { title: string; body: string }) {
    const { owner, name: repo } = this;
    const data = await this.call('update the pull request', 'PATCH', 'pull', () =>
      this.octokit.rest.pulls.update({ owner, repo, pull_number: number, ...pr }),
    );
    return toPr(data);
  }

  async addLabels(number: number, labels: string[]) {
    const { owner, name: repo } = this;
    await this.call('label the pull request', 'POST', 'json', () =>
      this.octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels }),
    );
  }

  async requestReviewers(number: number, reviewers: string[], teamReviewers: string[]) {
    const { owner, name: repo } = this;
    await this.call('request reviewers', 'POST', 'json', () =>
      this.octokit.rest.pulls.requestReviewers({
        owner,
        repo,
        pull_number: number,
        reviewers,
        team_reviewers: teamReviewers,
      }),
    );
  }
}

function toPr(d: {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  labels?: { name?: string }[];
}): PullRequest {
  return {
    number: d.number,
    url: d.html_url,
    title: typeof d.title === 'string' ? d.title : '',
    body: typeof d.body === 'string' ? d.body : '',
    labels: (Array.isArray(d.labels) ? d.labels : []).map((l) => l?.name ?? '').filter(Boolean),
  };
}
