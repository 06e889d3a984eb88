/**
 * sync fetches only what it does not have: no round trip to the remote when the base (and the
 * job branch) are in the local object store already, a fetch when another clone moved them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { exampleScenario, gitTrace, runTraced } from './helpers/scenario.js';

/** The git subcommands a run started, from git's own trace (GIT_TRACE2_EVENT). */
async function gitCommands(file: string): Promise<string[]> {
  return (await gitTrace(file)).map((a) => a[0] ?? '');
}

test('a base that is already here is not fetched again; the sync still reads it', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const { r, git } = await runTraced(s, ['sync', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  const commands = git.map((a) => a[0] ?? '');
  t.true(commands.includes('ls-remote'), commands.join(' '));
  t.false(commands.includes('fetch'), commands.join(' '));
  const out = JSON.parse(r.stdout) as { changes: unknown[] };
  t.is(out.changes.length, 2);
});

test('a base that another clone pushed is fetched, and its new secret is generated', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  t.is((await s.run(['sync'])).exitCode, 0);

  // A colleague adds a secret from their own clone; this clone has not seen that commit.
  const other = join(s.dir, 'other');
  await s.git(['clone', '--quiet', s.remote, other], s.dir);
  const config = await readFile(join(s.repo, 'config/secrets.yaml'), 'utf8');
  await writeFile(
    join(other, 'config/secrets.yaml'),
    `${config.trimEnd()}\n  - name: extra\n    namespace: keptn\n    keys:\n      token: { length: 20 }\n`,
  );
  await s.git(['commit', '--quiet', '-am', 'add extra'], other);
  await s.git(['push', '--quiet', 'origin', 'main'], other);

  const trace = join(s.dir, 'trace.json');
  // This clone has the new config in its working tree (edited here too), not the commit.
  await writeFile(
    join(s.repo, 'config/secrets.yaml'),
    await readFile(join(other, 'config/secrets.yaml'), 'utf8'),
  );
  const r = await s.run(['sync', '--json'], { env: { GIT_TRACE2_EVENT: trace } });
  t.is(r.exitCode, 0, r.stderr);
  t.true((await gitCommands(trace)).includes('fetch'));
  const out = JSON.parse(r.stdout) as { changes: { id: string; key: string }[] };
  t.true(
    out.changes.some((c) => c.id === 'keptn/extra' && c.key === 'token'),
    JSON.stringify(out.changes),
  );
  // The job branch is rebuilt on the fetched base: it holds the colleague's commit.
  const head = await s.git(
    ['--git-dir', s.remote, 'log', '--format=%s', 'gitops-secrets/sync'],
    s.dir,
  );
  t.regex(head, /add extra/);
});

/** keptn-bridge synced and merged: main (here and on the remote) holds its manifest. */
async function merged() {
  const s = await exampleScenario('keptn-bridge.yaml');
  const first = await s.run(['sync']);
  if (first.exitCode !== 0) throw new Error(first.stderr);
  await s.git(['merge', '--ff-only', '--quiet', 'gitops-secrets/sync']);
  await s.git(['push', '--quiet', 'origin', 'main']);
  return s;
}

test('the base is listed once and its manifests read by one git process; a commit rev-parse peeled is not looked up again', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const { r, git } = await runTraced(s, [
    'rotate',
    '--force',
    '--secret',
    'keptn/bridge-oauth',
    '--no-push',
    '--json',
  ]);
  t.is(r.exitCode, 0, r.stderr);
  const listings = git.filter((a) => a[0] === 'ls-tree' && a.includes('-r'));
  t.is(listings.length, 1, JSON.stringify(listings));
  // The manifests' blobs in one `git show`, not a process per blob.
  const reads = git.filter((a) => a[0] === 'show' || a[0] === 'cat-file');
  t.deepEqual(
    reads.map((a) => a[0]),
    ['show'],
    JSON.stringify(reads),
  );
  // The base's commit was peeled by rev-parse already: no second lookup for it.
  const peels = git.filter((a) => a[0] === 'rev-parse' && a.some((x) => x.endsWith('^{commit}')));
  t.is(new Set(peels.map((a) => a.at(-1))).size, peels.length, JSON.stringify(peels));
  const out = JSON.parse(r.stdout) as { changes: { key: string; action: string }[] };
  t.deepEqual(out.changes.map((c) => `${c.key} ${c.action}`).sort(), [
    'database_encrypt_secret rotated',
    'session_secret rotated',
  ]);
});

test('a checkout of another commit is not taken for the base: the plan is made from the base', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  // The checkout goes back to before the manifest existed; the base (origin's main) has it.
  await s.git(['checkout', '--quiet', '-b', 'elsewhere', 'HEAD~1']);
  t.is(await s.git(['ls-tree', '-r', '--name-only', 'HEAD', '--', 'secrets']), '');
  const { r } = await runTraced(s, ['sync', '--dry-run', '--json', '--base', 'main']);
  t.is(r.exitCode, 0, r.stderr);
  t.deepEqual((JSON.parse(r.stdout) as { changes: unknown[] }).changes, []);
});
