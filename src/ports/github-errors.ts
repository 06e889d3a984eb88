/**
 * What the GitHub port says when GitHub fails: Octokit's errors, answers that are not the
 * GitHub API's JSON, requests that got no answer and rate limits, each with what to do next.
 * Never the token: only a method, a path, a status and GitHub's own message.
 */
import { ExternalError } from '../errors.js';
import {
  clockTime,
  duration,
  MAX_RATE_LIMIT_WAIT_S,
  pathOf,
  type StepClock,
} from './github-limits.js';

/** What a call expects back: a list of PRs, one PR, the repository, any JSON. */
export type Shape = 'pulls' | 'pull' | 'repo' | 'json';

export interface ErrorContext {
  /** e.g. `open the pull request`. */
  what: string;
  /** `owner/name`. */
  slug: string;
  /** GITHUB_API_URL as given, credentials stripped. */
  baseUrl: string;
  clock: StepClock;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isPull = (v: unknown): boolean =>
  isObject(v) && typeof v.number === 'number' && typeof v.html_url === 'string';

const EXPECTED: Record<Shape, string> = {
  pulls: 'a list of pull requests',
  pull: 'a pull request',
  repo: 'a repository',
  json: 'an object or a list',
};

function fits(data: unknown, shape: Shape): boolean {
  switch (shape) {
    case 'pulls':
      return Array.isArray(data) && data.every(isPull);
    case 'pull':
      return isPull(data);
    case 'repo':
      return isObject(data) && typeof data.default_branch === 'string';
    default:
      return typeof data === 'object' && data !== null;
  }
}

/** Throws if a 2xx answer is not the JSON the GitHub API gives (an HTML page from a proxy…). */
export function checkShape(
  response: { data: unknown; url: string; headers: Record<string, unknown> },
  method: string,
  shape: Shape,
  ctx: ErrorContext,
): void {
  if (fits(response.data, shape)) return;
  const type = String(response.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  const text = typeof response.data === 'string' ? response.data.trimStart() : '';
  const got =
    typeof response.data !== 'string'
      ? `JSON that is not ${EXPECTED[shape]}`
      : type === 'text/html' || /^<(?:!doctype|html)/i.test(text)
        ? 'an HTML page'
        : `${type || 'a body without content-type'}, not JSON`;
  throw new ExternalError(
    'github',
    `GitHub could not ${ctx.what} in ${ctx.slug}: ${method} ${pathOf(response.url)} answered with ${got}; that is not the GitHub API`,
    `a proxy answered in GitHub's place, or GITHUB_API_URL (${ctx.baseUrl}) is wrong: it must be the REST API's base, https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server`,
  );
}

interface OctokitLikeError {
  name?: string;
  status?: number;
  code?: string;
  cause?: { code?: string; name?: string };
  request?: { method?: string; url?: string };
  response?: {
    headers?: Record<string, string | undefined>;
    data?: { message?: unknown; errors?: { message?: unknown }[] };
  };
}

/** A request that got no answer: in time for the step, or at all. */
function noAnswer(e: OctokitLikeError, ctx: ErrorContext): ExternalError {
  const msg = `GitHub could not ${ctx.what} in ${ctx.slug}`;
  const request = e.request?.url
    ? `${(e.request.method ?? 'GET').toUpperCase()} ${pathOf(e.request.url)}`
    : ctx.clock.lastRequest;
  const limits =
    'GITOPS_SECRETS_GITHUB_TIMEOUT_MS and GITOPS_SECRETS_GITHUB_STEP_TIMEOUT_MS set the limits';
  if (ctx.clock.expired) {
    return new ExternalError(
      'github',
      `${msg}: GitHub did not answer within ${duration(ctx.clock.stepMs / 1000)}, the time limit of the pull-request step (last request: ${request})`,
      `check that GitHub (GITHUB_API_URL: ${ctx.baseUrl}) is up and reachable; ${limits}`,
    );
  }
  const timedOut = [e.name, e.cause?.name].some((n) => n === 'TimeoutError' || n === 'AbortError');
  if (timedOut) {
    return new ExternalError(
      'github',
      `${msg}: GitHub did not answer ${request} within ${duration(ctx.clock.requestMs / 1000)}`,
      `check that GitHub (GITHUB_API_URL: ${ctx.baseUrl}) is up and reachable; ${limits}`,
    );
  }
  const why = e.cause?.code ?? e.code ?? 'network error';
  return new ExternalError(
    'github',
    `${msg}: could not reach the GitHub API at ${originOf(e.request?.url) ?? ctx.baseUrl} (${why})`,
    `check GITHUB_API_URL and the network; ${limits}`,
  );
}

function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

/** When a rate limit lifts, from GitHub's headers: x-ratelimit-reset, else retry-after. */
function rateLimitReset(headers: Record<string, string | undefined>): number | undefined {
  if (headers['x-ratelimit-remaining'] === '0' && Number(headers['x-ratelimit-reset']) > 0)
    return Number(headers['x-ratelimit-reset']) * 1000;
  const after = Number(headers['retry-after']);
  return Number.isFinite(after) && after >= 0 ? Date.now() + after * 1000 : undefined;
}

function rateLimited(status: number, said: string, e: OctokitLikeError, msg: string) {
  const reset = rateLimitReset(e.response?.headers ?? {});
  if (reset === undefined) {
    return new ExternalError(
      'github',
      `${msg}: ${status} ${said}`,
      'GitHub rate-limited this token and retrying did not help; wait until the limit resets and run again',
    );
  }
  const inS = (reset - Date.now()) / 1000;
  const at = clockTime(reset);
  const remedy =
    inS > MAX_RATE_LIMIT_WAIT_S
      ? `this run waits at most ${MAX_RATE_LIMIT_WAIT_S} s for a rate limit; run again after ${at}`
      : `retrying did not help; wait until ${at} and run again`;
  return new ExternalError(
    'github',
    `${msg}: ${status} ${said} (the rate limit resets at ${at}, in ${duration(inS)})`,
    remedy,
  );
}

/** Converts Octokit's RequestError (which carries the request and its headers) into our own. */
export function toError(err: unknown, ctx: ErrorContext): ExternalError {
  if (err instanceof ExternalError) return err;
  const e = err as OctokitLikeError;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const data = e.response?.data;
  const said = typeof data?.message === 'string' ? data.message.slice(0, 200) : '';
  const details = (data?.errors ?? [])
    .map((x) => (typeof x?.message === 'string' ? x.message : ''))
    .filter(Boolean)
    .join('; ');
  const msg = `GitHub could not ${ctx.what} in ${ctx.slug}`;
  // Octokit reports network failures and timeouts as status 500 without a response.
  if (status === undefined || (status === 500 && !e.response)) return noAnswer(e, ctx);
  const headers = e.response?.headers ?? {};
  if (
    (status === 403 || status === 429) &&
    (/rate limit/i.test(said) || headers['x-ratelimit-remaining'] === '0')
  ) {
    return rateLimited(status, said, e, msg);
  }
  return byStatus(status, `${msg}: ${status} ${said}`, details, ctx.slug);
}

function byStatus(status: number, head: string, details: string, slug: string): ExternalError {
  switch (status) {
    case 401:
      return new ExternalError(
        'github',
        head.endsWith(' ') ? `${head}Bad credentials` : head,
        'the token in GITHUB_TOKEN/GH_TOKEN is invalid or expired; create a new one',
      );
    case 403:
      return new ExternalError(
        'github',
        head.endsWith(' ') ? `${head}Forbidden` : head,
        'the token needs contents: write and pull-requests: write on this repository (fine-grained PAT: Contents and Pull requests read/write)',
      );
    case 404:
      return new ExternalError(
        'github',
        head.replace(/404 .*$/, '404 Not Found'),
        `check the repository name (${slug}, from GITHUB_REPOSITORY or the remote URL) and that the token can see it`,
      );
    case 422:
      return new ExternalError(
        'github',
        `${head}${details ? ` (${details})` : ''}`,
        'GitHub refused the request as invalid; check the base branch and pullRequest settings in the config',
      );
    default:
      return new ExternalError(
        'github',
        head.trimEnd(),
        status >= 500 ? 'GitHub had an error; run again later' : undefined,
      );
  }
}
