/**
 * Handlers for the REST operations implemented by the loopback GitHub test server, keyed by
 * operationId. Requests reaching a handler are authenticated, target an existing repository
 * and have a schema-valid body.
 */

import type { LabelState, PullState, RepoState, UrlBase } from './github-objects.js';
import {
  fakeSha,
  labelObject,
  pullObject,
  repoObject,
  stableId,
  timestamp,
} from './github-objects.js';
import type { OperationInfo } from './github-openapi-validator.js';

export interface RouteContext {
  base: UrlBase;
  op: OperationInfo;
  repo: RepoState;
  params: Record<string, string>;
  query: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: schema-validated JSON body
  body: any;
  /** Login of the authenticated user. */
  login: string;
  findRepo(owner: string, name: string): RepoState | undefined;
  /** Records a "GitHub accepts this, but it is probably a client bug" note. */
  warn(message: string): void;
  /** Records a server-side violation (unsupported feature). */
  violation(message: string): void;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (ctx: RouteContext) => Reply;

export function errorReply(op: OperationInfo | undefined, status: number, message: string): Reply {
  return {
    status,
    body: {
      message,
      documentation_url: op?.docsUrl ?? 'https://docs.github.com/rest',
      status: String(status),
    },
  };
}

export interface ValidationError {
  resource: string;
  code: string;
  field?: string;
  message?: string;
}

export function validationFailed(op: OperationInfo, errors: ValidationError[]): Reply {
  return {
    status: 422,
    body: { message: 'Validation Failed', errors, documentation_url: op.docsUrl, status: '422' },
  };
}

const lc = (value: string): string => value.toLowerCase();

function findPull(ctx: RouteContext, param: 'pull_number' | 'issue_number'): PullState | undefined {
  const number = Number(ctx.params[param]);
  return ctx.repo.pulls.find((pull) => pull.number === number);
}

function duplicateOf(repo: RepoState, pull: Pick<PullState, 'headRepo' | 'headRef' | 'baseRef'>) {
  return repo.pulls.find(
    (other) =>
      other.state === 'open' &&
      other.headRepo === pull.headRepo &&
      other.headRef === pull.headRef &&
      other.baseRef === pull.baseRef,
  );
}

const alreadyExists = (pull: Pick<PullState, 'headRepo' | 'headRef'>): ValidationError => ({
  resource: 'PullRequest',
  code: 'custom',
  message: `A pull request already exists for ${pull.headRepo.owner}:${pull.headRef}.`,
});

export function ensureLabel(repo: RepoState, name: string): LabelState {
  const existing = repo.labels.get(lc(name));
  if (existing) return existing;
  const label: LabelState = {
    id: stableId('label', `${repo.owner}/${repo.name}/${lc(name)}`),
    name,
    color: 'ededed',
    description: null,
  };
  repo.labels.set(lc(name), label);
  return label;
}

export interface NewPull {
  title: string;
  headRepo: RepoState;
  headRef: string;
  baseRef: string;
  body?: string | null;
  draft?: boolean;
  author: string;
  maintainerCanModify?: boolean;
}

export function insertPull(repo: RepoState, init: NewPull): PullState {
  const number = repo.nextNumber++;
  const now = timestamp();
  const pull: PullState = {
    number,
    id: stableId('pull', `${repo.owner}/${repo.name}#${number}`),
    state: 'open',
    title: init.title,
    body: init.body ?? null,
    draft: init.draft ?? false,
    headRepo: init.headRepo,
    headRef: init.headRef,
    headSha: fakeSha(init.headRepo.owner, init.headRepo.name, init.headRef, number),
    baseRef: init.baseRef,
    baseSha: fakeSha(repo.owner, repo.name, init.baseRef),
    author: init.author,
    labels: [],
    requestedReviewers: [],
    requestedTeams: [],
    maintainerCanModify: init.maintainerCanModify ?? false,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
  repo.pulls.push(pull);
  return pull;
}

function branchError(ctx: RouteContext, repo: RepoState, field: string, ref: string) {
  if (!repo.branches || repo.branches.has(ref)) return undefined;
  return validationFailed(ctx.op, [{ resource: 'PullRequest', field, code: 'invalid' }]);
}

const createPull: Handler = (ctx) => {
  const { repo, body } = ctx;
  if (body.issue !== undefined) {
    ctx.violation('pulls/create with `issue` (issue conversion) is not implemented');
    return errorReply(ctx.op, 422, 'Issue conversion is not supported by the test server');
  }
  if (typeof body.title !== 'string') {
    return validationFailed(ctx.op, [{ resource: 'Issue', field: 'title', code: 'missing_field' }]);
  }
  const head = String(body.head);
  const colon = head.indexOf(':');
  const headOwner = colon >= 0 ? head.slice(0, colon) : repo.owner;
  const headRef = colon >= 0 ? head.slice(colon + 1) : head;
  const headRepo = lc(headOwner) === lc(repo.owner) ? repo : ctx.findRepo(headOwner, repo.name);
  if (!headRepo || headRef === '') {
    return validationFailed(ctx.op, [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
  }
  const baseRef = String(body.base);
  const invalid =
    branchError(ctx, repo, 'base', baseRef) ?? branchError(ctx, headRepo, 'head', headRef);
  if (invalid) return invalid;
  if (headRepo === repo && headRef === baseRef) {
    const message = `No commits between ${baseRef} and ${headRef}`;
    return validationFailed(ctx.op, [{ resource: 'PullRequest', code: 'custom', message }]);
  }
  if (duplicateOf(repo, { headRepo, headRef, baseRef })) {
    return validationFailed(ctx.op, [alreadyExists({ headRepo, headRef })]);
  }
  const pull = insertPull(repo, {
    title: body.title,
    headRepo,
    headRef,
    baseRef,
    body: body.body,
    draft: body.draft,
    author: ctx.login,
    maintainerCanModify: body.maintainer_can_modify,
  });
  const created = pullObject(ctx.base, repo, pull, true);
  return { status: 201, body: created, headers: { location: String(created.url) } };
};

const listPulls: Handler = (ctx) => {
  const { query, repo } = ctx;
  const state = query.state ?? 'open';
  let pulls = repo.pulls.filter((pull) => state === 'all' || pull.state === state);
  if (query.head !== undefined) {
    const colon = query.head.indexOf(':');
    if (colon < 0) {
      ctx.warn(
        `pulls/list head=${JSON.stringify(query.head)} has no "owner:" prefix; GitHub ignores the filter`,
      );
    } else {
      const owner = lc(query.head.slice(0, colon));
      const ref = query.head.slice(colon + 1);
      pulls = pulls.filter((pull) => lc(pull.headRepo.owner) === owner && pull.headRef === ref);
    }
  }
  if (query.base !== undefined) pulls = pulls.filter((pull) => pull.baseRef === query.base);
  const sort = query.sort ?? 'created';
  const direction = query.direction ?? (sort === 'created' ? 'desc' : 'asc');
  const key = (pull: PullState) => (sort === 'updated' ? pull.updatedAt : pull.createdAt);
  pulls = [...pulls].sort((a, b) => key(a).localeCompare(key(b)) || a.number - b.number);
  if (direction === 'desc') pulls.reverse();

  const perPage = Math.min(Math.max(Number(query.per_page ?? 30) || 30, 1), 100);
  const page = Math.max(Number(query.page ?? 1) || 1, 1);
  const pageCount = Math.max(Math.ceil(pulls.length / perPage), 1);
  const slice = pulls.slice((page - 1) * perPage, page * perPage);
  const headers: Record<string, string> = {};
  if (pageCount > 1) {
    const pageUrl = (n: number) => {
      const params = new URLSearchParams({ ...query, page: String(n) });
      return `<${ctx.base.api}/repos/${repo.owner}/${repo.name}/pulls?${params}>`;
    };
    const links: string[] = [];
    if (page > 1) links.push(`${pageUrl(page - 1)}; rel="prev"`);
    if (page < pageCount) links.push(`${pageUrl(page + 1)}; rel="next"`);
    links.push(`${pageUrl(pageCount)}; rel="last"`);
    if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
    headers.link = links.join(', ');
  }
  return { status: 200, body: slice.map((p) => pullObject(ctx.base, repo, p, false)), headers };
};

const getPull: Handler = (ctx) => {
  const pull = findPull(ctx, 'pull_number');
  if (!pull) return errorReply(ctx.op, 404, 'Not Found');
  return { status: 200, body: pullObject(ctx.base, ctx.repo, pull, true) };
};

const updatePull: Handler = (ctx) => {
  const pull = findPull(ctx, 'pull_number');
  if (!pull) return errorReply(ctx.op, 404, 'Not Found');
  const body = ctx.body ?? {};
  if (body.base !== undefined && body.base !== pull.baseRef) {
    const invalid = branchError(ctx, ctx.repo, 'base', body.base);
    if (invalid) return invalid;
    if (duplicateOf(ctx.repo, { ...pull, baseRef: body.base })) {
      return validationFailed(ctx.op, [alreadyExists(pull)]);
    }
  }
  if (body.state === 'open' && pull.state === 'closed' && duplicateOf(ctx.repo, pull)) {
    return validationFailed(ctx.op, [alreadyExists(pull)]);
  }
  const now = timestamp();
  if (body.title !== undefined) pull.title = body.title;
  if (body.body !== undefined) pull.body = body.body;
  if (body.base !== undefined) pull.baseRef = body.base;
  if (body.maintainer_can_modify !== undefined)
    pull.maintainerCanModify = body.maintainer_can_modify;
  if (body.state !== undefined && body.state !== pull.state) {
    pull.state = body.state;
    pull.closedAt = body.state === 'closed' ? now : null;
  }
  pull.updatedAt = now;
  return { status: 200, body: pullObject(ctx.base, ctx.repo, pull, true) };
};

const addLabels: Handler = (ctx) => {
  const pull = findPull(ctx, 'issue_number');
  if (!pull) return errorReply(ctx.op, 404, 'Not Found');
  const requested: unknown[] = Array.isArray(ctx.body?.labels) ? ctx.body.labels : [];
  for (const item of requested) {
    const name = typeof item === 'string' ? item : String((item as { name: string }).name);
    const label = ensureLabel(ctx.repo, name);
    if (!pull.labels.some((existing) => lc(existing) === lc(label.name)))
      pull.labels.push(label.name);
  }
  if (requested.length > 0) pull.updatedAt = timestamp();
  const labels = pull.labels.flatMap((name) => {
    const label = ctx.repo.labels.get(lc(name));
    return label ? [labelObject(ctx.base, ctx.repo, label)] : [];
  });
  return { status: 200, body: labels };
};

const requestReviewers: Handler = (ctx) => {
  const pull = findPull(ctx, 'pull_number');
  if (!pull) return errorReply(ctx.op, 404, 'Not Found');
  const reviewers: string[] = ctx.body?.reviewers ?? [];
  const teams: string[] = ctx.body?.team_reviewers ?? [];
  if (reviewers.some((login) => lc(login) === lc(pull.author))) {
    return errorReply(ctx.op, 422, 'Review cannot be requested from pull request author.');
  }
  for (const login of reviewers) {
    if (!pull.requestedReviewers.some((r) => lc(r) === lc(login)))
      pull.requestedReviewers.push(login);
  }
  for (const slug of teams) {
    if (!pull.requestedTeams.some((t) => lc(t) === lc(slug))) pull.requestedTeams.push(slug);
  }
  pull.updatedAt = timestamp();
  return { status: 201, body: pullObject(ctx.base, ctx.repo, pull, false) };
};

export const ROUTES: Record<string, Handler> = {
  'repos/get': (ctx) => ({ status: 200, body: repoObject(ctx.base, ctx.repo) }),
  'pulls/list': listPulls,
  'pulls/create': createPull,
  'pulls/get': getPull,
  'pulls/update': updatePull,
  'issues/add-labels': addLabels,
  'pulls/request-reviewers': requestReviewers,
};
