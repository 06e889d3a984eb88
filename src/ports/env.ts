/**
 * A child's environment without the GitHub token: only the GitHub port and git's push (through
 * its per-command auth) need it, never sops, a version probe or git's other commands.
 */
export function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GITHUB_TOKEN: _a, GH_TOKEN: _b, ...rest } = env;
  return rest;
}
