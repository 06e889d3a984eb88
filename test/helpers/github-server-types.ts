/** Public types of the loopback GitHub test server (see github-server.ts). */
import type { AuthId } from './github-dispatch.js';
import type { DelaySpec, FaultSpec } from './github-faults.js';

export interface RepoInit {
  owner: string;
  repo: string;
  /** Default `main`. */
  defaultBranch?: string;
  private?: boolean;
  /** If given, PR `head`/`base` must name one of these branches (422 otherwise). */
  branches?: string[];
}

export interface PullInit {
  title: string;
  /** `branch` or `owner:branch`. */
  head: string;
  /** Default: the repository's default branch. */
  base?: string;
  body?: string | null;
  state?: 'open' | 'closed';
  draft?: boolean;
  labels?: string[];
  /** Default: the server's `login`. */
  author?: string;
}

export interface GitHubServerOptions {
  /** Accepted tokens with write access. Default `['test-token']`. */
  tokens?: string[];
  /** Accepted tokens without write access (writes answer 403). */
  readOnlyTokens?: string[];
  repos?: RepoInit[];
  /** Login of the user behind every token (author of created PRs). Default `gitops-bot`. */
  login?: string;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; the raw text if it was not JSON; undefined if empty. */
  body: unknown;
  /** Request headers without `authorization`/`cookie`. */
  headers: Record<string, string>;
  auth: AuthId;
  /** e.g. `pulls/create`; undefined for unknown routes. */
  operationId: string | undefined;
  requestId: string;
  /** Undefined while in flight (or if the client went away first). */
  status: number | undefined;
  /** Answered by failNext(). */
  injected: boolean;
}

export interface PullSnapshot {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  draft: boolean;
  head: { ref: string; label: string; sha: string };
  base: { ref: string };
  labels: string[];
  requestedReviewers: string[];
  requestedTeams: string[];
  maintainerCanModify: boolean;
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface GitHubServer {
  /** e.g. `http://127.0.0.1:43121` — use as GITHUB_API_URL / Octokit baseUrl. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Schema violations, unimplemented routes, malformed requests. Tests assert it is empty. */
  readonly violations: string[];
  /** Requests GitHub accepts but that are probably client bugs (ignored filters, unknown params). */
  readonly warnings: string[];
  addRepo(init: RepoInit): void;
  /** Seeds a pull request directly (no validation, no request recorded). */
  addPull(owner: string, repo: string, init: PullInit): PullSnapshot;
  pulls(owner: string, repo: string): PullSnapshot[];
  /** Queues a canned answer for the next matching request(s), before auth and routing. */
  failNext(fault: FaultSpec): void;
  /** Delays (or, without `ms`, hangs) the next matching request(s) before handling them. */
  delayNext(delay: DelaySpec): void;
  /** Returns and clears the recorded violations. */
  takeViolations(): string[];
  close(): Promise<void>;
}
