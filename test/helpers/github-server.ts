/**
 * A GitHub REST API test server on loopback, used by the tests (and the benchmark) in place
 * of api.github.com. In-memory state; request bodies and JSON responses are validated against
 * GitHub's OpenAPI description (test/fixtures/github-openapi.json).
 *
 *   const github = await startGitHubServer({ repos: [{ owner: 'acme', repo: 'infra' }] });
 *   // ... run the CLI with GITHUB_API_URL=github.url and GITHUB_TOKEN=test-token ...
 *   t.deepEqual(github.violations, []);
 *   await github.close();
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthId, DispatchState, IncomingCall } from './github-dispatch.js';
import { dispatch } from './github-dispatch.js';
import type { CannedResponse, DelaySpec, FaultSpec, RequestKey } from './github-faults.js';
import { defaultErrorBody, MatchQueue } from './github-faults.js';
import type { PullState, RepoState, UrlBase } from './github-objects.js';
import { stableId, timestamp } from './github-objects.js';
import type { OperationInfo } from './github-openapi-validator.js';
import { gitHubOpenApi } from './github-openapi-validator.js';
import type { Reply } from './github-routes.js';
import { ensureLabel, insertPull } from './github-routes.js';

import type {
  GitHubServer,
  GitHubServerOptions,
  PullSnapshot,
  RecordedRequest,
  RepoInit,
} from './github-server-types.js';

export type { AuthId } from './github-dispatch.js';
export type { CannedResponse, DelaySpec, FaultSpec, RequestMatcher } from './github-faults.js';
export { primaryRateLimit, secondaryRateLimit, serverError } from './github-faults.js';
export type {
  GitHubServer,
  GitHubServerOptions,
  PullInit,
  PullSnapshot,
  RecordedRequest,
  RepoInit,
} from './github-server-types.js';

const RATE_LIMIT = 5000;
const ANON_RATE_LIMIT = 60;

const repoKey = (owner: string, name: string): string => `${owner}/${name}`.toLowerCase();

function snapshot(pull: PullState): PullSnapshot {
  return {
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    draft: pull.draft,
    head: { ref: pull.headRef, label: `${pull.headRepo.owner}:${pull.headRef}`, sha: pull.headSha },
    base: { ref: pull.baseRef },
    labels: [...pull.labels],
    requestedReviewers: [...pull.requestedReviewers],
    requestedTeams: [...pull.requestedTeams],
    maintainerCanModify: pull.maintainerCanModify,
    author: pull.author,
    createdAt: pull.createdAt,
    updatedAt: pull.updatedAt,
    closedAt: pull.closedAt,
  };
}

function requestId(): string {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();
  return `${hex(2)}:${hex(3)}:${hex(4)}:${hex(4)}:${hex(4)}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const api = gitHubOpenApi();
  const tokens = options.tokens ?? ['test-token'];
  const readOnlyTokens = options.readOnlyTokens ?? [];
  const login = options.login ?? 'gitops-bot';
  const repos = new Map<string, RepoState>();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const warnings: string[] = [];
  const faults = new MatchQueue<FaultSpec>();
  const delays = new MatchQueue<DelaySpec>();
  const used = new Map<AuthId, number>();
  const timers = new Set<NodeJS.Timeout>();
  const resetAt = String(Math.floor(Date.now() / 1000) + 3600);
  const base: UrlBase = { api: '', html: '' };
  let closing = false;

  const addRepo = (init: RepoInit): void => {
    repos.set(repoKey(init.owner, init.repo), {
      owner: init.owner,
      name: init.repo,
      id: stableId('repo', repoKey(init.owner, init.repo)),
      defaultBranch: init.defaultBranch ?? 'main',
      private: init.private ?? false,
      branches: init.branches ? new Set(init.branches) : undefined,
      createdAt: timestamp(),
      pulls: [],
      labels: new Map(),
      nextNumber: 1,
    });
  };
  for (const repo of options.repos ?? []) addRepo(repo);
  const findRepo = (owner: string, name: string) => repos.get(repoKey(owner, name));
  const dispatchState: DispatchState = { api, base, login, findRepo, violations, warnings };
  const requireRepo = (owner: string, name: string): RepoState => {
    const repo = findRepo(owner, name);
    if (!repo) throw new Error(`github-server: unknown repository ${owner}/${name}`);
    return repo;
  };

  const identify = (header: string | undefined): AuthId => {
    const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header ?? '');
    if (!header) return 'none';
    if (!match?.[1]) return 'unknown';
    const write = tokens.indexOf(match[1]);
    if (write >= 0) return `token#${write + 1}`;
    const readOnly = readOnlyTokens.indexOf(match[1]);
    return readOnly >= 0 ? `read-only#${readOnly + 1}` : 'unknown';
  };

  /** Resolves after `ms` (never, if not finite) or when the response closes (client gone, close()). */
  const wait = (ms: number, res: ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) {
          clearTimeout(timer);
          timers.delete(timer);
        }
        resolve();
      };
      if (Number.isFinite(ms)) {
        timer = setTimeout(done, ms);
        timers.add(timer);
      }
      res.once('close', done);
    });

  function send(
    res: ServerResponse,
    record: RecordedRequest,
    reply: Reply | CannedResponse,
    op?: OperationInfo,
  ): void {
    if (res.destroyed || res.headersSent) return;
    const count = (used.get(record.auth) ?? 0) + 1;
    used.set(record.auth, count);
    const limit = record.auth.includes('#') ? RATE_LIMIT : ANON_RATE_LIMIT;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': record.requestId,
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(limit - count, 0)),
      'x-ratelimit-reset': resetAt,
      'x-ratelimit-used': String(count),
      'x-ratelimit-resource': 'core',
    };
    for (const [name, value] of Object.entries(reply.headers ?? {}))
      headers[name.toLowerCase()] = value;
    let payload = '';
    const body =
      reply.body === undefined && record.injected ? defaultErrorBody(reply.status) : reply.body;
    if (typeof body === 'string') {
      payload = body;
      if (
        !reply.headers ||
        !Object.keys(reply.headers).some((h) => h.toLowerCase() === 'content-type')
      ) {
        headers['content-type'] = 'text/html; charset=utf-8';
      }
    } else if (body !== undefined && body !== null) {
      payload = JSON.stringify(body);
    } else {
      delete headers['content-type'];
    }
    if (op && !record.injected) {
      const problems = api.checkResponse(op, reply.status, body ?? null);
      for (const problem of problems) {
        violations.push(
          `response ${reply.status} to ${record.method} ${record.path} (${op.operationId}): ${problem}`,
        );
      }
    }
    record.status = reply.status;
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base.api);
    const method = (req.method ?? 'GET').toUpperCase();
    const match = api.match(method, url.pathname);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name !== 'authorization' && name !== 'cookie' && value !== undefined) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    const record: RecordedRequest = {
      seq: requests.length + 1,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      headers,
      auth: identify(req.headers.authorization),
      operationId: match?.operation.operationId,
      requestId: requestId(),
      status: undefined,
      injected: false,
    };
    requests.push(record);
    const raw = await readBody(req);
    let parsed: unknown;
    let parseError = false;
    if (raw.trim() !== '') {
      try {
        parsed = JSON.parse(raw);
      } catch {
        parseError = true;
        parsed = undefined;
      }
    }
    record.body = parseError ? raw : parsed;

    const key: RequestKey = { method, path: url.pathname, template: match?.operation.path };
    const delay = delays.take(key);
    if (delay) {
      await wait(delay.ms ?? Number.POSITIVE_INFINITY, res);
      if (res.destroyed || closing) return;
    }
    const fault = faults.take(key);
    if (fault && !fault.afterHandling) {
      record.injected = true;
      send(res, record, fault);
      return;
    }
    const call: IncomingCall = {
      method,
      path: url.pathname,
      query: record.query,
      auth: record.auth,
      match,
      body: parsed,
      parseError,
    };
    if (fault?.afterHandling) {
      dispatch(dispatchState, call); // side effects happen, the answer is lost
      record.injected = true;
      send(res, record, fault);
      return;
    }
    const { reply, op } = dispatch(dispatchState, call);
    send(res, record, reply, op);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`server error on ${req.method} ${req.url}: ${String(error)}`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(defaultErrorBody(500)));
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  base.api = url;
  base.html = url;

  return {
    url,
    port,
    requests,
    violations,
    warnings,
    addRepo,
    addPull(owner, name, init) {
      const repo = requireRepo(owner, name);
      const colon = init.head.indexOf(':');
      const headRef = colon >= 0 ? init.head.slice(colon + 1) : init.head;
      const headRepo = colon >= 0 ? requireRepo(init.head.slice(0, colon), repo.name) : repo;
      const pull = insertPull(repo, {
        title: init.title,
        headRepo,
        headRef,
        baseRef: init.base ?? repo.defaultBranch,
        body: init.body ?? null,
        draft: init.draft ?? false,
        author: init.author ?? login,
      });
      for (const label of init.labels ?? []) pull.labels.push(ensureLabel(repo, label).name);
      if (init.state === 'closed') {
        pull.state = 'closed';
        pull.closedAt = pull.createdAt;
      }
      return snapshot(pull);
    },
    pulls: (owner, name) => requireRepo(owner, name).pulls.map(snapshot),
    failNext: (fault) => faults.push(fault),
    delayNext: (delay) => delays.push(delay),
    takeViolations: () => violations.splice(0, violations.length),
    async close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      faults.clear();
      delays.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
