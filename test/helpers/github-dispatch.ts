/**
 * Request pipeline of the loopback GitHub test server after fault injection: authentication,
 * repository lookup, permissions, query/body validation against the OpenAPI description,
 * then the operation's handler.
 */
import type { RepoState, UrlBase } from './github-objects.js';
import type { GitHubOpenApi, OperationInfo, OperationMatch } from './github-openapi-validator.js';
import type { Reply } from './github-routes.js';
import { errorReply, ROUTES } from './github-routes.js';

/** Authentication of a request, without the token itself. */
export type AuthId = 'none' | 'unknown' | `token#${number}` | `read-only#${number}`;

export interface DispatchState {
  api: GitHubOpenApi;
  base: UrlBase;
  /** Login behind every accepted token. */
  login: string;
  findRepo(owner: string, name: string): RepoState | undefined;
  violations: string[];
  warnings: string[];
}

export interface IncomingCall {
  method: string;
  path: string;
  query: Record<string, string>;
  auth: AuthId;
  match: OperationMatch | undefined;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  parseError: boolean;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export function dispatch(
  state: DispatchState,
  call: IncomingCall,
): { reply: Reply; op?: OperationInfo } {
  const { api, violations, warnings } = state;
  const { method, path } = call;
  if (!call.match) {
    violations.push(`unimplemented route: ${method} ${path}`);
    return { reply: errorReply(undefined, 404, 'Not Found') };
  }
  const { operation: op, params } = call.match;
  const reply = (r: Reply) => ({ reply: r, op });
  const where = `${method} ${path} (${op.operationId})`;
  if (call.auth === 'none') return reply(errorReply(op, 401, 'Requires authentication'));
  if (call.auth === 'unknown') return reply(errorReply(op, 401, 'Bad credentials'));
  const repo = state.findRepo(params.owner ?? '', params.repo ?? '');
  if (!repo) return reply(errorReply(op, 404, 'Not Found'));
  if (WRITE_METHODS.has(method) && call.auth.startsWith('read-only')) {
    const denied = errorReply(op, 403, 'Resource not accessible by integration');
    const scope = op.operationId.startsWith('issues/') ? 'issues=write' : 'pull_requests=write';
    return reply({ ...denied, headers: { 'x-accepted-github-permissions': scope } });
  }
  if (call.parseError) {
    violations.push(`request to ${where}: body is not JSON`);
    return reply(errorReply(op, 400, 'Problems parsing JSON'));
  }
  const { unknown, invalid } = api.checkQuery(op, call.query);
  const query = { ...call.query };
  for (const name of unknown) {
    warnings.push(`${op.operationId}: unknown query parameter ${JSON.stringify(name)} (ignored)`);
  }
  for (const { name, problem } of invalid) {
    violations.push(`request to ${where}: query ${problem}`);
    delete query[name];
  }
  const body = op.requestBody ? call.body : undefined;
  const check = api.checkRequestBody(op, body);
  if (!check.ok) {
    for (const problem of check.problems) violations.push(`request body of ${where}: ${problem}`);
    return reply(errorReply(op, 422, check.message));
  }
  const handler = ROUTES[op.operationId];
  if (!handler) {
    violations.push(`unimplemented route: ${where}`);
    return reply(errorReply(op, 404, 'Not Found'));
  }
  return reply(
    handler({
      base: state.base,
      op,
      repo,
      params,
      query,
      body,
      login: state.login,
      findRepo: state.findRepo,
      warn: (message) => warnings.push(message),
      violation: (message) => violations.push(message),
    }),
  );
}
