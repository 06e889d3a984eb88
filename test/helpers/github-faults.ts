/**
 * Fault injection for the loopback GitHub test server: request matchers, queued canned
 * failures/delays, and ready-made GitHub failure responses (rate limits, 5xx).
 */
import { STATUS_CODES } from 'node:http';

export interface RequestMatcher {
  /** HTTP method, case-insensitive. Omitted: any method. */
  method?: string;
  /**
   * Omitted: any path. A string matches the request path exactly (without query) or the
   * operation's path template (e.g. `/repos/{owner}/{repo}/pulls`); a RegExp is tested against
   * the request path.
   */
  path?: string | RegExp;
}

export interface CannedResponse {
  status: number;
  /** Extra/overriding response headers (names are lower-cased). */
  headers?: Record<string, string>;
  /**
   * JSON body (objects/arrays/numbers), raw text (strings, sent as text/html unless a
   * content-type header is given), or `null` for an empty body. Omitted: a GitHub-style
   * `{ message, documentation_url, status }` error for `status`.
   */
  body?: unknown;
}

export interface FaultSpec extends RequestMatcher, CannedResponse {
  /**
   * Handle the request normally (its side effects happen, e.g. the PR gets created) but answer
   * with this failure instead — like a 502/timeout from GitHub after the write went through.
   */
  afterHandling?: boolean;
  /** How many matching requests to answer with this failure (default 1; may be Infinity). */
  times?: number;
}

export interface DelaySpec extends RequestMatcher {
  /** Delay before normal handling; omitted or Infinity: hang until the client gives up or close(). */
  ms?: number;
  /** How many matching requests to delay (default 1; may be Infinity). */
  times?: number;
}

export interface RequestKey {
  method: string;
  path: string;
  template: string | undefined;
}

export function matchesRequest(matcher: RequestMatcher, key: RequestKey): boolean {
  if (matcher.method && matcher.method.toUpperCase() !== key.method.toUpperCase()) return false;
  if (matcher.path === undefined) return true;
  if (typeof matcher.path === 'string') {
    return matcher.path === key.path || matcher.path === key.template;
  }
  matcher.path.lastIndex = 0;
  return matcher.path.test(key.path);
}

/** A FIFO of specs that are consumed (`times`) by matching requests. */
export class MatchQueue<T extends RequestMatcher & { times?: number }> {
  private readonly entries: Array<{ spec: T; left: number }> = [];

  push(spec: T): void {
    const left = spec.times ?? 1;
    if (!(left > 0)) throw new RangeError('times must be > 0');
    this.entries.push({ spec, left });
  }

  take(key: RequestKey): T | undefined {
    const index = this.entries.findIndex((entry) => matchesRequest(entry.spec, key));
    const entry = this.entries[index];
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.entries.splice(index, 1);
    return entry.spec;
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}

const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'Bad credentials',
  403: 'Forbidden',
  404: 'Not Found',
  422: 'Validation Failed',
  500: 'Server Error',
  502: 'Server Error',
};

export const RATE_LIMIT_DOCS =
  'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';

export function defaultErrorBody(status: number): Record<string, string> {
  return {
    message: DEFAULT_MESSAGES[status] ?? STATUS_CODES[status] ?? 'Error',
    documentation_url: 'https://docs.github.com/rest',
    status: String(status),
  };
}

/** 5xx answer (default 500 `Server Error`). */
export function serverError(status = 500): CannedResponse {
  return { status, body: defaultErrorBody(status) };
}

/** GitHub's secondary ("abuse") rate limit: 403 with `retry-after`. */
export function secondaryRateLimit(
  options: { retryAfter?: number; status?: 403 | 429 } = {},
): CannedResponse {
  const { retryAfter = 1, status = 403 } = options;
  return {
    status,
    headers: { 'retry-after': String(retryAfter) },
    body: {
      message:
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
        'If you reach out to GitHub Support for help, please include the request ID.',
      documentation_url: `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`,
      status: String(status),
    },
  };
}

/** GitHub's primary rate limit: 403 (or 429) with `x-ratelimit-remaining: 0` and a reset time. */
export function primaryRateLimit(
  options: { resetInSeconds?: number; status?: 403 | 429; limit?: number } = {},
): CannedResponse {
  const { resetInSeconds = 1, status = 403, limit = 5000 } = options;
  return {
    status,
    headers: {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': String(limit),
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000 + resetInSeconds)),
      'x-ratelimit-resource': 'core',
    },
    body: {
      message: 'API rate limit exceeded for user ID 1.',
      documentation_url: `${RATE_LIMIT_DOCS}#exceeding-the-rate-limit`,
      status: String(status),
    },
  };
}
