/** The shared setup of the end-to-end tests that open pull requests against the fake GitHub. */
import { type GitHubServer, startGitHubServer } from './github-server.js';
import { makeScenario, type Scenario, SENTINEL_TOKEN } from './scenario.js';

/** A fake GitHub serving acme/infra to the sentinel token, and the environment that points a run at it. */
export async function startGitHub(): Promise<{
  server: GitHubServer;
  env: Record<string, string>;
}> {
  const server = await startGitHubServer({
    tokens: [SENTINEL_TOKEN],
    repos: [{ owner: 'acme', repo: 'infra' }],
  });
  const env = {
    GITHUB_TOKEN: SENTINEL_TOKEN,
    GITHUB_API_URL: server.url,
    GITHUB_REPOSITORY: 'acme/infra',
    GITOPS_SECRETS_RETRY_BASE_MS: '50',
  };
  return { server, env };
}

export interface GitHubCtx {
  s: Scenario;
  github: GitHubServer;
  env: Record<string, string>;
}

/** A scenario whose base holds the config, pushed, and a fake GitHub to open its PR on. */
export async function setupWithGitHub(config: string): Promise<GitHubCtx> {
  const s = await makeScenario();
  await s.writeConfig(config);
  await s.commitAndPush('config');
  const { server, env } = await startGitHub();
  return { s, github: server, env };
}

/** Closes the fake GitHub and removes the scenario. */
export async function teardownGitHub(c: GitHubCtx): Promise<void> {
  await c.github.close();
  await c.s.cleanup();
}
