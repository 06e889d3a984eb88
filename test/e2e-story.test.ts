/**
 * Issue 20, "Done when": the whole story end to end, as a user runs it, with the real sops, real
 * git and the loopback GitHub server. `init` → edit → `sync` (nothing pushed by hand) opens one PR
 * carrying config, `.sops.yaml` and manifests; merge; `set` a slot → `check` says proposed, exit
 * 0; `rotate --force` prints the restart command and puts it in `--json`; a label added in the
 * config → `check` exit 3, `sync` applies it; a secret removed → `sync --prune` says removed. No
 * value ever shows in any output, git object, file or request sent to GitHub.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { startGitHubServer } from './helpers/github-server.js';
import { findLeaks, makeScenario, SENTINEL_TOKEN } from './helpers/scenario.js';

const RESTART = 'kubectl rollout restart deployment/example-app -n default';
const APP = 'secrets/default/example-app.yaml';
const RETIRED = 'secrets/default/retired.yaml';
const RETIRED_BLOCK = `  - name: retired
    namespace: default
    keys:
      LEGACY_KEY: { length: 40 }
`;

test('init → edit → sync → merge → set → rotate --force → label → sync --prune: the story of issue 20', async (t) => {
  const s = await makeScenario({ sopsYaml: false });
  const server = await startGitHubServer({
    tokens: [SENTINEL_TOKEN],
    repos: [{ owner: 'acme', repo: 'infra' }],
  });
  t.teardown(async () => {
    await server.close();
    await s.cleanup();
  });
  const env = {
    GITHUB_TOKEN: SENTINEL_TOKEN,
    GITHUB_API_URL: server.url,
    GITHUB_REPOSITORY: 'acme/infra',
    GITOPS_SECRETS_RETRY_BASE_MS: '50',
  };
  const values = new Set<string>();
  /** A manifest as committed on a ref of the remote, decrypted; its values kept for the leak scan. */
  const plain = async (ref: string, path = APP) => {
    const doc = await s.decrypt(await s.show(ref, path));
    for (const v of Object.values(doc.data)) values.add(v);
    return doc;
  };
  const configPath = join(s.repo, 'config/secrets.yaml');
  const syncPull = () =>
    server
      .pulls('acme', 'infra')
      .filter((p) => p.head.ref === 'gitops-secrets/sync' && p.state === 'open')
      .at(-1)!;

  // init, then edit the template: a restart command, the provided slot, and a second secret.
  const init = await s.run(['init', '--age', s.recipient]);
  t.is(init.exitCode, 0, init.stderr);
  const template = await readFile(configPath, 'utf8');
  t.true(template.includes(`# restart: ${RESTART}`), template);
  t.true(template.includes('# API_TOKEN:'), template);
  const edited = `${template
    .replace(`# restart: ${RESTART}`, `restart: ${RESTART}`)
    .replace('# API_TOKEN:', 'API_TOKEN:')
    .trimEnd()}\n${RETIRED_BLOCK}`;
  await writeFile(configPath, edited);

  // sync, nothing pushed by hand: one PR, its commit carries the config, .sops.yaml, manifests.
  let r = await s.run(['sync'], { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.is(server.pulls('acme', 'infra').length, 1);
  const files = (
    await s.git(['--git-dir', s.remote, 'show', '--name-only', '--format=', 'gitops-secrets/sync'])
  )
    .split('\n')
    .filter(Boolean)
    .sort();
  t.deepEqual(files, ['.sops.yaml', 'config/secrets.yaml', APP, RETIRED]);
  const first = await plain('gitops-secrets/sync');
  t.deepEqual(Object.keys(first.data).sort(), ['ENCRYPTION_KEY', 'SESSION_KEY']);
  await plain('gitops-secrets/sync', RETIRED);

  // The reviewer merges; the untracked copies give way to the merged ones.
  await rm(join(s.repo, '.sops.yaml'));
  await rm(configPath);
  await s.mergePullRequest();
  t.is(await readFile(configPath, 'utf8'), edited);

  // set the slot (value on stdin): check says proposed, exit 0.
  const provided = 'vendor-token-Story-20-9f2c1';
  values.add(provided);
  r = await s.run(['set', 'default/example-app', 'API_TOKEN'], { env, input: `${provided}\n` });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  r = await s.run(['check'], { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /proposed/);
  t.regex(r.stdout, /API_TOKEN/);
  t.is((await plain('gitops-secrets/sync')).data.API_TOKEN, provided);
  await s.mergePullRequest();

  // rotate --force: the restart command on the terminal and in --json.
  const rotate = ['rotate', '--force', '--secret', 'default/example-app'];
  r = await s.run(rotate, { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.true(r.stdout.includes(RESTART), r.stdout);
  r = await s.run([...rotate, '--json'], { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  const json = JSON.parse(r.stdout) as { restart: { secret: string; command: string }[] };
  t.deepEqual(json.restart, [{ secret: 'default/example-app', command: RESTART }]);
  const rotated = await plain('gitops-secrets/rotate');
  t.not(rotated.data.SESSION_KEY, first.data.SESSION_KEY);
  t.is(rotated.data.API_TOKEN, provided);
  await s.mergePullRequest('gitops-secrets/rotate');
  const before = (await plain('main')).data;

  // A label added in the config: check exit 3 naming it; sync applies it, values unchanged.
  const labelled = edited.replace(
    '    namespace: default         # metadata.namespace\n',
    '    namespace: default         # metadata.namespace\n    labels: { team: core }\n',
  );
  t.not(labelled, edited);
  await writeFile(configPath, labelled);
  r = await s.run(['check'], { env });
  t.is(r.exitCode, 3, r.stdout + r.stderr);
  t.regex(r.stdout, /default\/example-app.*metadata changed.*label team added/);
  r = await s.run(['sync'], { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.regex(await s.show('gitops-secrets/sync', APP), /team: core/);
  const relabelled = await plain('gitops-secrets/sync');
  t.is((relabelled.metadata.labels as Record<string, string>).team, 'core');
  t.deepEqual(relabelled.data, before);
  await s.git(['checkout', '--quiet', '--', 'config/secrets.yaml']);
  await s.mergePullRequest();
  t.is(await readFile(configPath, 'utf8'), labelled);
  r = await s.run(['check'], { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);

  // A secret removed from the config: sync --prune proposes the removal, and says so.
  await writeFile(configPath, labelled.replace(RETIRED_BLOCK, ''));
  r = await s.run(['sync', '--prune'], { env });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  const pull = syncPull();
  t.regex(`${pull.title}\n${pull.body ?? ''}`, /remove 1 secret/i);
  t.notRegex(pull.title, /\badd|generat/i);
  await t.throwsAsync(s.show('gitops-secrets/sync', RETIRED));

  // No value, generated or provided, anywhere: outputs, git objects, files, requests to GitHub.
  t.true(values.size >= 6, String(values.size));
  const requests = server.requests.map((q) => JSON.stringify(q));
  const bodies = server.pulls('acme', 'infra').map((p) => `${p.title}\n${p.body ?? ''}`);
  t.deepEqual(await findLeaks(s, [...values], [...requests, ...bodies]), []);
});
