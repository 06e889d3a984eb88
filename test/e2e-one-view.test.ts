/**
 * Issue 20, "one view" and "three states": a first run works with nothing pushed by hand (the
 * config and `.sops.yaml` of the working copy travel in the job's commit), a value already
 * proposed on the job branch is not "to do", and a working copy behind the base is refused.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { startGitHub } from './helpers/github-setup.js';
import { makeScenario } from './helpers/scenario.js';

/** A config with one generated key, TOKEN, in default/app. */
const APP_CONFIG = `version: 1
output: secrets/{namespace}/{name}.yaml
secrets:
  - name: app
    namespace: default
    keys:
      TOKEN: {}
`;

test('init, edit, sync: one PR carries config, .sops.yaml and manifests; a set value is proposed', async (t) => {
  const s = await makeScenario({ sopsYaml: false });
  const { server, env } = await startGitHub();
  t.teardown(async () => {
    await server.close();
    await s.cleanup();
  });
  const init = await s.run(['init', '--age', s.recipient]);
  t.is(init.exitCode, 0, init.stderr);
  const path = join(s.repo, 'config/secrets.yaml');
  const edited = (await readFile(path, 'utf8')).replace('# API_TOKEN:', 'API_TOKEN:');
  await writeFile(path, edited);

  const r = await s.run(['sync'], { env });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /config\/secrets\.yaml: config added/);
  t.regex(r.stdout, /\.sops\.yaml: recipients (added|changed)/);
  const pulls = server.pulls('acme', 'infra');
  t.is(pulls.length, 1);
  t.regex(pulls[0]!.body ?? '', /config added/);
  const files = (
    await s.git(['--git-dir', s.remote, 'show', '--name-only', '--format=', 'gitops-secrets/sync'])
  )
    .split('\n')
    .filter(Boolean)
    .sort();
  t.deepEqual(files, ['.sops.yaml', 'config/secrets.yaml', 'secrets/default/example-app.yaml']);
  // The commit message says which working-copy files it carries, as the PR body does.
  const message = await s.git([
    '--git-dir',
    s.remote,
    'log',
    '-1',
    '--format=%B',
    'gitops-secrets/sync',
  ]);
  t.regex(message, /^config\/secrets\.yaml: config added \(carried from the working copy\)$/m);
  t.regex(message, /^\.sops\.yaml: recipients (added|changed) \(carried from the working copy\)$/m);
  t.regex(message, /\n\nGitops-Secrets-Job: sync\s*$/);
  t.is(await s.show('gitops-secrets/sync', 'config/secrets.yaml'), edited.trimEnd());

  // The reviewer merges; the working copy's untracked copies give way to the merged ones.
  await rm(join(s.repo, '.sops.yaml'));
  await rm(path);
  await s.mergePullRequest();
  t.is(await readFile(path, 'utf8'), edited);
  const before = await s.run(['check']);
  t.is(before.exitCode, 3, before.stdout);
  t.regex(before.stdout, /API_TOKEN/);

  const set = await s.run(['set', 'default/example-app', 'API_TOKEN'], {
    env,
    input: 'vendor-token-1234\n',
  });
  t.is(set.exitCode, 0, set.stderr);
  const after = await s.run(['check'], { env });
  t.is(after.exitCode, 0, after.stdout + after.stderr);
  t.regex(after.stdout, /proposed/);
  t.regex(after.stdout, /proposed in #\d+ \(branch gitops-secrets\/sync\)/);
  const json = JSON.parse((await s.run(['check', '--json'], { env })).stdout) as {
    pending: boolean;
    proposed: { key: string }[];
  };
  t.false(json.pending);
  t.deepEqual(
    json.proposed.map((p) => p.key),
    ['API_TOKEN'],
  );
  const listed = JSON.parse((await s.run(['list', '--json'], { env })).stdout) as {
    secrets: { keys: { key: string; state: string; proposed: unknown }[] }[];
  };
  const token = listed.secrets[0]!.keys.find((k) => k.key === 'API_TOKEN')!;
  t.is(token.state, 'needs input');
  const open = server.pulls('acme', 'infra').at(-1)!.number;
  t.deepEqual(token.proposed, { branch: 'gitops-secrets/sync', pullRequest: open });
  t.regex((await s.run(['list'])).stdout, /needs input, proposed on branch gitops-secrets\/sync/);
  // Without a token: the branch, not the PR number.
  const plain = await s.run(['check']);
  t.is(plain.exitCode, 0, plain.stdout);
  t.regex(plain.stdout, /proposed on branch gitops-secrets\/sync/);
});

test('a working copy behind the base in the config: which file, pull first, exit 2, nothing written', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  const config = APP_CONFIG;
  await s.writeConfig(config);
  await s.commitAndPush('config');
  const other = join(s.dir, 'other');
  await s.git(['clone', '--quiet', s.remote, other], s.dir);
  await writeFile(
    join(other, 'config/secrets.yaml'),
    config.replace('TOKEN: {}', 'TOKEN: {}\n      OTHER: {}'),
  );
  await s.git(['commit', '--quiet', '-am', 'second key'], other);
  await s.git(['push', '--quiet', 'origin', 'HEAD:main'], other);

  const r = await s.run(['sync']);
  t.is(r.exitCode, 2, r.stdout + r.stderr);
  t.regex(r.stderr, /config\/secrets\.yaml/);
  t.regex(r.stderr, /pull/);
  const heads = await s.git(['ls-remote', '--heads', s.remote]);
  t.notRegex(heads, /gitops-secrets/);
});

test('a slot set on the job branch is proposed, not to do: check exit 0, list says where', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(
    `${APP_CONFIG}      API_KEY: { provided: true, description: from the vendor }\n`,
  );
  await s.commitAndPush('config');
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.mergePullRequest();
  t.is((await s.run(['check'])).exitCode, 3);
  const set = await s.run(['set', 'default/app', 'API_KEY'], { input: 'vendor-key-5678\n' });
  t.is(set.exitCode, 0, set.stderr);
  const r = await s.run(['check']);
  t.is(r.exitCode, 0, r.stdout);
  t.regex(r.stdout, /proposed on branch gitops-secrets\/sync:\n\s+default\/app\s+API_KEY/);
  t.regex(r.stdout, /nothing to do beyond what is proposed/);
  const json = JSON.parse((await s.run(['check', '--json'])).stdout) as {
    pending: boolean;
    sync: unknown[];
    proposed: { key: string; branch: string; pullRequest: number | null }[];
  };
  t.false(json.pending);
  t.deepEqual(json.sync, []);
  t.like(json.proposed[0], { key: 'API_KEY', branch: 'gitops-secrets/sync', pullRequest: null });
  t.regex(
    (await s.run(['list'])).stdout,
    /API_KEY\s.*needs input, proposed on branch gitops-secrets\/sync/,
  );
  // Something new in the config is to do beyond what is proposed: exit 3, and said so.
  await s.writeConfig(
    (await readFile(join(s.repo, 'config/secrets.yaml'), 'utf8')).replace(
      'TOKEN: {}',
      'TOKEN: {}\n      SECOND: {}',
    ),
  );
  const more = await s.run(['check']);
  t.is(more.exitCode, 3, more.stdout);
  t.regex(more.stdout, /to do beyond what is proposed:/);
  t.regex(more.stdout, /SECOND/);
});

test('a job branch that cannot be read: check and list warn, and show the working tree alone', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(APP_CONFIG);
  await s.commitAndPush('config');
  await s.git(['remote', 'remove', 'origin']);
  // The local job branch is a commit whose tree git no longer has (a damaged clone).
  await writeFile(join(s.dir, 'unique.txt'), 'only in the damaged tree\n');
  const blob = (await s.git(['hash-object', '-w', join(s.dir, 'unique.txt')])).trim();
  const mktree = await execa('git', ['mktree'], {
    cwd: s.repo,
    env: s.env,
    input: `100644 blob ${blob}\tunique.txt\n`,
  });
  const tree = mktree.stdout.trim();
  const commit = (await s.git(['commit-tree', tree, '-m', 'damaged'])).trim();
  await s.git(['update-ref', 'refs/heads/gitops-secrets/sync', commit]);
  await rm(join(s.repo, '.git/objects', tree.slice(0, 2), tree.slice(2)));
  for (const command of ['check', 'list']) {
    const r = await s.run([command]);
    t.is(r.exitCode, command === 'check' ? 3 : 0, r.stderr);
    t.regex(
      r.stderr,
      /warning: the job branches could not be read \(.+\); nothing is shown as proposed/,
    );
    t.regex(r.stdout, /TOKEN/);
  }
});
