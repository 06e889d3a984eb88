import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { ExternalError, UsageError } from '../errors.js';
import type { PullRequest, PullRequestPort } from './github-port.js';

export interface GitHubOptions {
  token: string;
  /** `owner/name`. */
  repo: string;
  /** GITHUB_API_URL; default https://api.github.com. */
  baseUrl: string;
  /** Base delay for retries of 5xx, in ms (Octokit's default is 1000). */
  retryBaseMs?: number;
  /** Time limit of one API request, in ms (default 60 s). */
  timeoutMs?: number;
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
export function createGitHub(options: GitHubOptions): PullRequestPort {
  const [owner, repo] = options.repo.split('/') as [string, string];
  let calls = 0;
  const octokit = new MyOctokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'gitops-secrets',
    log: quiet,
    retry: {
      doNotRetry: [400, 401, 403, 404, 410, 422, 451],
      ...(options.retryBaseMs !== undefined ? { retryAfterBaseValue: options.retryBaseMs } : {}),
    },
    throttle: {
      onRateLimit: (_after: number, _opts: unknown, _o: unknown, retryCount: number) =>
        retryCount < 2,
      onSecondaryRateLimit: (_after: number, _opts: unknown, _o: unknown, retryCount: number) =>
        retryCount < 2,
    },
  });
  octokit.hook.before('request', () => {
    calls++;
  });
  // A GitHub that never answers must not hang the run: a time limit per request.
  octokit.hook.wrap('request', (request, opts) =>
    request({
      ...opts,
      request: { ...opts.request, signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) },
    }),
  );

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toError(err, what, options.repo);
    }
  };
  const toPr = (d: {
    number: number;
    html_url: string;
    title: string;
    body?: string | null;
    labels?: { name?: string }[];
  }): PullRequest => ({
    number: d.number,
    url: d.html_url,
    title: d.title,
    body: d.body ?? '',
    labels: (d.labels ?? []).map((l) => l.name ?? '').filter(Boolean),
  });

  return {
    repo: options.repo,
    get calls() {
      return calls;
    },
    async defaultBranch() {
      const { data } = await call('read the repository', () =>
        octokit.rest.repos.get({ owner, repo }),
      );
      return data.default_branch;
    },
    async findOpen(head, base) {
      const { data } = await call('list pull requests', () =>
        octokit.rest.pulls.list({
          owner,
          repo,
          state: 'open',
          head: `${owner}:${head}`,
          base,
          per_page: 10,
        }),
      );
      const pr = data.find((p) => p.head.ref === head);
      return pr ? toPr(pr) : undefined;
    },
    async create(pr) {
      const { data } = await call('open the pull request', () =>
        octokit.rest.pulls.create({ owner, repo, ...pr, maintainer_can_modify: true }),
      );
      return toPr(data);
    },
    async update(number, pr) {
      const { data } = await call('update the pull request', () =>
        octokit.rest.pulls.update({ owner, repo, pull_number: number, ...pr }),
      );
      return toPr(data);
    },
    async addLabels(number, labels) {
      await call('label the pull request', () =>
        octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels }),
      );
    },
    async requestReviewers(number, reviewers, teamReviewers) {
      await call('request reviewers', () =>
        octokit.rest.pulls.requestReviewers({
          owner,
          repo,
          pull_number: number,
          reviewers,
          team_reviewers: teamReviewers,
        }),
      );
    },
  };
}

function baseUrlOf(err: unknown): string {
  const url = (err as { request?: { url?: unknown } }).request?.url;
  if (typeof url !== 'string') return 'GITHUB_API_URL';
  try {
    return new URL(url).origin;
  } catch {
    return 'GITHUB_API_URL';
  }
}

/** Converts Octokit's RequestError (which carries the request and its headers) into our own. */
function toError(err: unknown, what: string, slug: string): ExternalError {
  const e = err as {
    status?: number;
    response?: { data?: { message?: unknown; errors?: { message?: unknown }[] } };
  };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const data = e.response?.data;
  const said = typeof data?.message === 'string' ? data.message.slice(0, 200) : '';
  const details = (data?.errors ?? [])
    .map((x) => (typeof x?.message === 'string' ? x.message : ''))
    .filter(Boolean)
    .join('; ');
  const msg = `GitHub could not ${what} in ${slug}`;
  // Octokit reports network failures and timeouts as status 500 without a response.
  if (status === undefined || (status === 500 && !e.response)) {
    const cause = (err as { cause?: { code?: string; name?: string } }).cause;
    const why =
      (err as { name?: string }).name === 'AbortError' ||
      cause?.name === 'TimeoutError' ||
      cause?.name === 'AbortError'
        ? 'timed out'
        : (cause?.code ?? (err as { code?: string }).code ?? 'network error');
    return new ExternalError(
      'github',
      `${msg}: could not reach the GitHub API at ${baseUrlOf(err)} (${why})`,
      'check GITHUB_API_URL and the network; GITOPS_SECRETS_GITHUB_TIMEOUT_MS sets the time limit',
    );
  }
  if ((status === 403 || status === 429) && /rate limit/i.test(said)) {
    return new ExternalError(
      'github',
      `${msg}: ${status} ${said}`,
      'GitHub rate-limited this token and retrying did not help; wait until the limit resets and run again',
    );
  }
  switch (status) {
    case 401:
      return new ExternalError(
        'github',
        `${msg}: 401 ${said || 'Bad credentials'}`,
        'the token in GITHUB_TOKEN/GH_TOKEN is invalid or expired; create a new one',
      );
    case 403:
      return new ExternalError(
        'github',
        `${msg}: 403 ${said || 'Forbidden'}`,
        'the token needs contents: write and pull-requests: write on this repository (fine-grained PAT: Contents and Pull requests read/write)',
      );
    case 404:
      return new ExternalError(
        'github',
        `${msg}: 404 Not Found`,
        `check the repository name (${slug}, from GITHUB_REPOSITORY or the remote URL) and that the token can see it`,
      );
    case 422:
      return new ExternalError(
        'github',
        `${msg}: 422 ${said}${details ? ` (${details})` : ''}`,
        'GitHub refused the request as invalid; check the base branch and pullRequest settings in the config',
      );
    default:
      return new ExternalError(
        'github',
        `${msg}: ${status} ${said}`,
        status >= 500 ? 'GitHub had an error; run again later' : undefined,
      );
  }
}
