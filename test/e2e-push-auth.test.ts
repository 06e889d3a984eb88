import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { startGitHttpServer } from './helpers/git-http-server.js';
import { startGitHubServer } from './helpers/github-server.js';
import { example, findLeaks, gitTrace, makeScenario, SENTINEL_TOKEN } from './helpers/scenario.js';

test('over https, the push authenticates with the token per command: never in the remote URL or git config', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  // Serve the scenario's bare remote as http://127.0.0.1:PORT/acme/infra.git, token required.
  await mkdir(join(s.dir, 'served/acme'), { recursive: true });
  await s.git(
    ['clone', '--quiet', '--bare', s.remote, join(s.dir, 'served/acme/infra.git')],
    s.dir,
  );
  await s.git(
    ['--git-dir', join(s.dir, 'served/acme/infra.git'), 'config', 'http.receivepack', 'true'],
    s.dir,
  );
  const gitServer = await startGitHttpServer(join(s.dir, 'served'), SENTINEL_TOKEN);
  t.teardown(() => gitServer.close());
  const github = await startGitHubServer({
    tokens: [SENTINEL_TOKEN],
    repos: [{ owner: 'acme', repo: 'infra' }],
  });
  t.teardown(() => github.close());
  await s.git(['remote', 'set-url', 'origin', `${gitServer.url}/acme/infra.git`]);
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.git(['add', '-A']);
  await s.git(['commit', '--quiet', '-m', 'config']);
  await s.git([
    '-c',
    `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${SENTINEL_TOKEN}`).toString('base64')}`,
    'push',
    '--quiet',
    'origin',
    'HEAD:main',
  ]);

  // Fetching needs the token too here: the tool passes it to the push only, so give the
  // remote read access through the same mechanism for ls-remote and fetch.
  // The user's own GIT_CONFIG_* settings stay in effect beside the tool's header.
  const trace = join(s.dir, 'trace.json');
  const env = {
    GITHUB_TOKEN: SENTINEL_TOKEN,
    GITHUB_API_URL: github.url,
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.userAgent',
    GIT_CONFIG_VALUE_0: 'agent-from-the-users-env',
    GIT_TRACE2_EVENT: trace,
    // simple-git's own log (the `debug` library) would print each command's environment.
    DEBUG: '*',
  };
  const seen = gitServer.userAgents.length;
  const r = await s.run(['sync', '--json'], { env });
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.true(out.pushed);
  t.is(
    out.pullRequest.number,
    1,
    'the repository slug came from the remote URL (no GITHUB_REPOSITORY)',
  );
  t.is(github.pulls('acme', 'infra').length, 1);
  t.true(gitServer.auth.includes('ok'));
  t.false(gitServer.auth.includes('wrong'));
  t.deepEqual(new Set(gitServer.userAgents.slice(seen)), new Set(['agent-from-the-users-env']));
  // Never on a command line (which `ps` shows): not the token, not its header.
  const argv = (await gitTrace(trace)).flat().join('\n');
  t.true(argv.includes('push'), 'the trace has the push');
  t.false(argv.includes(SENTINEL_TOKEN));
  t.false(argv.includes(Buffer.from(`x-access-token:${SENTINEL_TOKEN}`).toString('base64')));
  t.false(argv.includes('extraheader'));
  const branch = await s.git(
    ['--git-dir', join(s.dir, 'served/acme/infra.git'), 'rev-parse', 'gitops-secrets/sync'],
    s.dir,
  );
  t.regex(branch, /^[0-9a-f]{40}$/);
  const config = await readFile(join(s.repo, '.git/config'), 'utf8');
  t.false(config.includes(SENTINEL_TOKEN));
  t.false(config.includes('extraheader'));
  t.is(await s.git(['remote', 'get-url', 'origin']), `${gitServer.url}/acme/infra.git`);
  t.deepEqual(await findLeaks(s, []), []);
});
