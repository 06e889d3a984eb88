/**
 * Bounded waits of the GitHub step: a time limit per request that takes effect (a `fetch`
 * with an AbortSignal; Octokit's hooks cannot pass a signal down to it), one limit for the
 * whole pull-request step, and rate-limit waits that are said aloud and never long.
 */

/** Time limit of one GitHub request (GITOPS_SECRETS_GITHUB_TIMEOUT_MS). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Time limit of the whole pull-request step (GITOPS_SECRETS_GITHUB_STEP_TIMEOUT_MS). */
export const STEP_TIMEOUT_MS = 90_000;
/** Longest rate-limit wait, in seconds; a longer one ends the run with the reset time. */
export const MAX_RATE_LIMIT_WAIT_S = 60;
/** How often a rate-limited request is tried again (Octokit's plugin: as often as asked). */
const MAX_RATE_LIMIT_RETRIES = 2;

/** A positive number from the environment, else the fallback. */
export function msFromEnv(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** `18:03:12Z` when within the day, else the full UTC timestamp. */
export function clockTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return Math.abs(ms - Date.now()) < 20 * 3600_000
    ? `${iso.slice(11, 19)}Z`
    : `${iso.slice(0, 19)}Z`;
}

/** `45 s`, `12 min`, `3 h`. */
export function duration(seconds: number): string {
  const s = Math.max(Math.ceil(seconds), 0);
  if (s < 120) return `${s} s`;
  if (s < 120 * 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/**
 * The clock of one pull-request step: it starts when the GitHub port is made, aborts every
 * request still running when the step's time is up, and gives each request its own limit.
 */
export class StepClock {
  readonly requestMs: number;
  readonly stepMs: number;
  /** `GET /repos/acme/infra/pulls` of the request made last (no query, never a header). */
  lastRequest = '';
  private readonly controller = new AbortController();
  private readonly endsAt: number;

  constructor(requestMs: number, stepMs: number) {
    this.requestMs = requestMs;
    this.stepMs = stepMs;
    this.endsAt = Date.now() + stepMs;
    const timer = setTimeout(() => {
      // Named AbortError: Octokit's retry plugin does not retry it (nor would it help).
      this.controller.abort(
        new DOMException('the pull-request step ran out of time', 'AbortError'),
      );
    }, stepMs);
    timer.unref();
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  get remainingMs(): number {
    return Math.max(this.endsAt - Date.now(), 0);
  }

  /** For Octokit's `request.fetch`: the global fetch, bounded by both limits. */
  readonly fetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    this.lastRequest = `${(init.method ?? 'GET').toUpperCase()} ${pathOf(url)}`;
    // A timeout (TimeoutError) is retried by Octokit's retry plugin, within the step's limit.
    const signals = [AbortSignal.timeout(this.requestMs), this.controller.signal];
    if (init.signal) signals.push(init.signal);
    return globalThis.fetch(input, { ...init, signal: AbortSignal.any(signals) });
  };
}

export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.replace(/[?#].*$/, '');
  }
}

/**
 * The throttling plugin's `onRateLimit`/`onSecondaryRateLimit`: wait (said on stderr) only if
 * the wait is short and fits in the step's time; otherwise GitHub's 403/429 ends the step, and
 * the error names the reset time.
 */
export function rateLimitHandler(clock: StepClock, notice: (line: string) => void) {
  return (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
    if (retryCount >= MAX_RATE_LIMIT_RETRIES) return false;
    if (retryAfter > MAX_RATE_LIMIT_WAIT_S) return false;
    if (retryAfter * 1000 >= clock.remainingMs) return false;
    const at = clockTime(Date.now() + retryAfter * 1000);
    notice(`GitHub rate limit: waiting ${duration(retryAfter)} (resets at ${at})`);
    return true;
  };
}
