/**
 * Where a run works: a temporary directory with an index of its own, never a registered git
 * worktree; what a killed run left there is removed by the next run. A wrong config stops the
 * run before it contacts the remote.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { cleanMessage, openRepo } from '../src/ports/git.js';
import { hostTag, startTime } from '../src/ports/run-dirs.js';
import { exampleScenario, gitTrace, runTraced } from './helpers/scenario.js';

/** The git subcommands a run started, from git's own trace (GIT_TRACE2_EVENT). */
async function gitCommands(file: string): Promise<string[]> {
  return (await gitTrace(file)).map((a) => a.slice(0, 2).join(' '));
}

/** The pid of a process that has ended (so no run can own a directory named after it). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

test('a sync commits without registering a worktree: .git has no record of it, nothing is left in TMPDIR', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const { r, git } = await runTraced(s, ['sync', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  const commands = git.map((a) => a.slice(0, 2).join(' '));
  t.false(
    commands.some((c) => /^worktree (add|remove|prune)/.test(c)),
    commands.join(', '),
  );
  t.true(commands.includes('commit-tree --no-gpg-sign'), commands.join(', '));
  t.deepEqual(await readdir(join(s.repo, '.git/worktrees')).catch(() => []), []);
  t.deepEqual(await readdir(s.env.TMPDIR!), []);
  // The commit is the one `git commit -m` made before: subject, blank line, trailer.
  const message = await s.git(['log', '-1', '--format=%B', 'gitops-secrets/sync']);
  t.regex(message, /^chore\(secrets\): .+\n\nGitops-Secrets-Job: sync\n/);
  const parent = await s.git(['rev-parse', 'gitops-secrets/sync^']);
  t.is(parent.trim(), (await s.git(['rev-parse', 'main'])).trim(), 'built on the base');
  // The user's checkout is as it was: the run used an index of its own.
  t.is((await s.git(['status', '--porcelain'])).trim(), '');
});

test('what killed runs left behind (a directory, a worktree an earlier version registered) is removed; a live run’s, another host’s and a symlink are kept', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const tmp = s.env.TMPDIR!;
  const dead = deadPid();
  const stale = join(tmp, `gitops-secrets-wt-${dead}-abc123`);
  await mkdir(join(stale, 'tree'), { recursive: true });
  await writeFile(join(stale, 'index'), 'left by a killed run');
  await writeFile(join(stale, 'owner'), `gitops-secrets run ${dead} on ${hostname()}\n`);
  // Another host's run (a container sharing the temp directory): its pid means nothing here.
  const elsewhere = join(tmp, `gitops-secrets-wt-${dead}-other`);
  await mkdir(elsewhere);
  await writeFile(join(elsewhere, 'owner'), `gitops-secrets run ${dead} on another-host\n`);
  const legacy = join(tmp, `gitops-secrets-wt-${dead}-legacy`);
  await s.git(['worktree', 'add', '--quiet', '--detach', legacy, 'main']);
  const live = join(tmp, `gitops-secrets-wt-${process.pid}-live`);
  await mkdir(live);
  // A symlink with a stale run's name is not followed, nor removed: it is not ours.
  const precious = join(s.dir, 'precious');
  await mkdir(precious);
  await writeFile(join(precious, 'file'), 'keep');
  await symlink(precious, join(tmp, `gitops-secrets-wt-${dead}-link`));

  const r = await s.run(['sync', '--no-push', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  t.deepEqual(
    (await readdir(tmp)).sort(),
    [
      `gitops-secrets-wt-${dead}-link`,
      `gitops-secrets-wt-${dead}-other`,
      `gitops-secrets-wt-${process.pid}-live`,
    ].sort(),
  );
  t.is(await readFile(join(precious, 'file'), 'utf8'), 'keep');
  const worktrees = (await s.git(['worktree', 'list', '--porcelain']))
    .split('\n')
    .filter((l) => l.startsWith('worktree '));
  t.deepEqual(worktrees, [`worktree ${s.repo}`]);
});

test('a run directory is known by its name alone: a dead run’s is removed in any state (no owner file, half-deleted, empty, renamed to dead), and so is one whose pid was reused; a live run’s, another host’s and a symlink are kept', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const tmp = s.env.TMPDIR!;
  const dead = deadPid();
  const host = hostTag(hostname());
  const me = startTime(process.pid);
  t.truthy(me, 'this test needs /proc');
  const gone = [
    `gitops-secrets-wt-${dead}-${me}-${host}-aaaaaa`, // only ciphertext left
    `gitops-secrets-dead-${dead}-0-${host}-bbbbbb`, // renamed for removal, then killed
    `gitops-secrets-sops-${dead}-123-${host}-cccccc`, // empty
    `gitops-secrets-wt-${process.pid}-1-${host}-reused`, // the pid now belongs to another process
  ];
  const kept = [
    `gitops-secrets-wt-${process.pid}-${me}-${host}-live00`,
    `gitops-secrets-wt-${process.pid}-0-${host}-live01`, // no start time known: the pid decides
    `gitops-secrets-wt-${dead}-${me}-${hostTag('another-host')}-other0`,
    `gitops-secrets-dead-${dead}-0-${host}-link00`,
  ];
  await mkdir(join(tmp, gone[0]!, 'tree/secrets'), { recursive: true });
  await writeFile(join(tmp, gone[0]!, 'tree/secrets/x.yaml'), 'sops: {}\n');
  for (const name of [...gone.slice(1), ...kept.slice(0, 3)]) await mkdir(join(tmp, name));
  const precious = join(s.dir, 'precious');
  await mkdir(precious);
  await writeFile(join(precious, 'file'), 'keep');
  await symlink(precious, join(tmp, kept[3]!));

  const r = await s.run(['sync', '--no-push', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  t.deepEqual((await readdir(tmp)).sort(), kept.sort());
  t.is(await readFile(join(precious, 'file'), 'utf8'), 'keep');
});

test('a wrong config is the error: exit 2 at once, the remote never contacted, nothing written', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  // A remote whose transport never answers (an ssh "client" that sleeps): ls-remote would hang.
  await s.git(['remote', 'set-url', 'origin', 'ssh://git.invalid/repo.git']);
  const sleeper = join(s.dir, 'slow-ssh.sh');
  await writeFile(sleeper, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
  await writeFile(join(s.repo, 'config/secrets.yaml'), 'version: 1\nsecrets: [{ name: Bad }]\n');
  const refsBefore = await s.git(['for-each-ref']);
  const trace = join(s.dir, 'trace.json');
  const started = Date.now();
  const r = await s.run(['sync'], { env: { GIT_SSH_COMMAND: sleeper, GIT_TRACE2_EVENT: trace } });
  t.is(r.exitCode, 2, r.stderr);
  t.regex(r.stderr, /config\/secrets\.yaml:2:/);
  // Had it contacted the remote, the run would wait for the sleeping transport (60 s).
  t.true(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  const commands = await gitCommands(trace);
  t.false(
    commands.some((c) => c.startsWith('ls-remote') || c.startsWith('fetch')),
    commands.join(', '),
  );
  t.is(await s.git(['for-each-ref']), refsBefore);
  t.is((await s.git(['status', '--porcelain'])).trim(), 'M config/secrets.yaml');
});

test('cleanMessage is git commit -m’s whitespace cleanup', (t) => {
  t.is(cleanMessage('subject  \n\n\n\nbody \n'), 'subject\n\nbody\n');
  t.is(cleanMessage('\n\nsubject'), 'subject\n');
  t.is(cleanMessage('a\n\nTrailer: x\n'), 'a\n\nTrailer: x\n');
});

for (const where of ['the checkout itself', 'a linked worktree'] as const) {
  test(`a job branch checked out in ${where} is pushed but not moved under the user`, async (t) => {
    const s = await exampleScenario('keptn-bridge.yaml');
    t.teardown(() => s.cleanup());
    t.is((await s.run(['sync'])).exitCode, 0);
    const before = (await s.git(['rev-parse', 'gitops-secrets/sync'])).trim();
    if (where === 'the checkout itself')
      await s.git(['checkout', '--quiet', 'gitops-secrets/sync']);
    else await s.git(['worktree', 'add', '--quiet', join(s.dir, 'linked'), 'gitops-secrets/sync']);
    const config = await readFile(join(s.repo, 'config/secrets.yaml'), 'utf8');
    await writeFile(
      join(s.repo, 'config/secrets.yaml'),
      `${config.trimEnd()}\n  - name: extra\n    namespace: keptn\n    keys:\n      token: { length: 20 }\n`,
    );
    const r = await s.run(['sync', '--base', 'main', '--json']);
    t.is(r.exitCode, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { commit: string; pushed: boolean };
    t.true(out.pushed);
    t.is((await s.git(['rev-parse', 'gitops-secrets/sync'])).trim(), before, 'local branch kept');
    const remote = await s.git(['ls-remote', 'origin', 'refs/heads/gitops-secrets/sync']);
    t.true(remote.startsWith(out.commit), 'the remote has the new commit');
  });
}

/** Paths git and a shell would read as something else: quotes, a newline, a leading dash, pathspec magic. */
const ODD = [
  'secrets/"quoted".yaml',
  'secrets/new\nline.yaml',
  'secrets/-dash.yaml',
  ':(glob)*.txt',
];

test('the work tree port: modes, odd paths and deletions as update-index --add --remove records them; a path marked with stage is committed too', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  // The base has an executable file, a file to delete and one with an odd name.
  await mkdir(join(s.repo, 'tools'), { recursive: true });
  await writeFile(join(s.repo, 'tools/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(s.repo, 'tools/old.txt'), 'old\n');
  await writeFile(join(s.repo, 'tools/-odd *.txt'), 'odd\n');
  await s.git(['add', 'tools']);
  await s.git(['commit', '--quiet', '-m', 'tools']);
  const base = (await s.git(['rev-parse', 'HEAD'])).trim();

  const git = await openRepo(s.repo, s.env);
  const wt = await git.addWorktree(base);
  await wt.checkout(['tools/run.sh', 'tools/old.txt', 'tools/-odd *.txt']);
  t.is(await readFile(join(wt.dir, 'tools/-odd *.txt'), 'utf8'), 'odd\n');
  t.deepEqual((await readdir(wt.dir)).sort(), ['tools'], 'only the paths asked for');
  await writeFile(join(wt.dir, 'tools/run.sh'), '#!/bin/sh\necho changed\n');
  await mkdir(join(wt.dir, 'secrets'), { recursive: true });
  await writeFile(join(wt.dir, 'secrets/new.yaml'), 'kind: Secret\n');
  await writeFile(join(wt.dir, 'secrets/marked.yaml'), 'marked\n');
  for (const path of ODD) await writeFile(join(wt.dir, path), `odd name ${path}\n`);
  await rm(join(wt.dir, 'tools/old.txt'));
  wt.stage('secrets/marked.yaml'); // only marked: the commit stages it too
  wt.stage('secrets/new.yaml');
  wt.stage('secrets/new.yaml'); // twice is once
  const sha = await wt.commit('subject  \n\n\nGitops-Secrets-Job: sync', [
    'secrets/new.yaml',
    ...ODD,
    'tools/run.sh',
    'tools/old.txt',
  ]);
  await wt.remove();

  const tree = await s.git(['ls-tree', '-r', '-z', sha]);
  const entries = new Map(
    tree.split('\0').map((e) => [e.slice(e.indexOf('\t') + 1), e.slice(0, e.indexOf(' '))]),
  );
  t.is(entries.get('tools/run.sh'), '100755', 'the executable bit is kept');
  t.is(entries.get('secrets/new.yaml'), '100644');
  t.is(entries.get('secrets/marked.yaml'), '100644');
  for (const path of ODD) t.is(entries.get(path), '100644', JSON.stringify(path));
  t.false(entries.has('tools/old.txt'), 'the deleted file is gone');
  t.true(entries.has('README.md'), 'files the run did not touch stay');
  t.true(entries.has('tools/-odd *.txt'));
  // (s.git strips the last newline of git's output)
  t.is(await s.git(['show', `${sha}:tools/run.sh`]), '#!/bin/sh\necho changed');
  t.is(await s.git(['show', `${sha}:secrets/new.yaml`]), 'kind: Secret');
  for (const path of ODD) t.is(await s.git(['show', `${sha}:${path}`]), `odd name ${path}`);
  t.is(
    await s.git(['cat-file', '-p', sha]).then((c) => c.split('\n\n').slice(1).join('\n\n')),
    'subject\n\nGitops-Secrets-Job: sync',
  );
  t.is((await s.git(['rev-parse', `${sha}^`])).trim(), base);
  t.is((await s.git(['status', '--porcelain'])).trim(), '', 'the user checkout is untouched');
  t.is(await s.git(['stash', 'list']), '', 'and so is the stash');
  t.deepEqual(await readdir(s.env.TMPDIR!), []);
});

test('the git port reads blobs exactly: non-ASCII text, no final newline, an empty file, CRLF, a blob no listing sized, one it does not have', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const texts: Record<string, string> = {
    'a/unicode.yaml': 'name: caf\u00e9 \u2603 \u{1f511}\n',
    'a/no-newline.yaml': 'last: line',
    'a/empty.yaml': '',
    'a/crlf.txt': 'x\r\ny\r\n',
    'b/other.yaml': 'outside the listing\n',
  };
  for (const [path, text] of Object.entries(texts)) {
    await mkdir(dirname(join(s.repo, path)), { recursive: true });
    await writeFile(join(s.repo, path), text);
  }
  await s.git(['add', 'a', 'b']);
  await s.git(['commit', '--quiet', '-m', 'blobs']);
  const git = await openRepo(s.repo, s.env);
  const listing = await git.listFiles('HEAD', ['a']);
  t.deepEqual(
    [...listing.keys()].sort(),
    Object.keys(texts)
      .filter((p) => p.startsWith('a/'))
      .sort(),
  );
  const other = (await s.git(['rev-parse', 'HEAD:b/other.yaml'])).trim();
  const missing = '0123456789012345678901234567890123456789';
  const blobs = await git.readBlobs([...listing.values(), other, missing, other]);
  for (const [path, id] of listing) t.is(blobs.get(id), texts[path], path);
  t.is(blobs.get(other), texts['b/other.yaml']);
  t.false(blobs.has(missing));
});

test('a path below a file of the base, or at a directory of it, is refused: exit 1, nothing committed', async (t) => {
  for (const [what, make, said] of [
    ['a file where the output directory must be', 'file', /secrets\/keptn is a file in the repo/],
    [
      'a directory where the output file must be',
      'dir',
      /secrets\/keptn\/bridge-oauth\.yaml: is a directory/,
    ],
  ] as const) {
    const s = await exampleScenario('keptn-bridge.yaml');
    t.teardown(() => s.cleanup());
    await mkdir(join(s.repo, 'secrets'), { recursive: true });
    if (make === 'file') await writeFile(join(s.repo, 'secrets/keptn'), 'not a directory\n');
    else {
      await mkdir(join(s.repo, 'secrets/keptn/bridge-oauth.yaml'), { recursive: true });
      await writeFile(join(s.repo, 'secrets/keptn/bridge-oauth.yaml/x'), 'in the way\n');
    }
    await s.git(['add', 'secrets']);
    await s.git(['commit', '--quiet', '-m', 'in the way']);
    await s.git(['push', '--quiet', 'origin', 'main']);
    const r = await s.run(['sync', '--no-push']);
    t.is(r.exitCode, 1, `${what}: ${r.stderr}`);
    t.regex(r.stderr, said, what);
    t.is(await s.git(['branch', '--list', 'gitops-secrets/sync']), '', `${what}: no branch`);
    t.deepEqual(await readdir(s.env.TMPDIR!), []);
  }
});

test('files are staged with the .gitattributes of the tree, as update-index --add does (line endings normalised)', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  await writeFile(join(s.repo, '.gitattributes'), '*.txt text eol=crlf\n');
  await writeFile(join(s.repo, 'notes.txt'), 'x\ny\n');
  await s.git(['add', '.gitattributes', 'notes.txt']);
  await s.git(['commit', '--quiet', '-m', 'attributes']);
  const base = (await s.git(['rev-parse', 'HEAD'])).trim();
  const git = await openRepo(s.repo, s.env);
  const wt = await git.addWorktree(base);
  await wt.checkout(['notes.txt']);
  t.is(await readFile(join(wt.dir, 'notes.txt'), 'utf8'), 'x\r\ny\r\n', 'checked out with CRLF');
  await writeFile(join(wt.dir, 'notes.txt'), 'x\r\ny\r\nz\r\n');
  wt.stage('notes.txt');
  const sha = await wt.commit('notes', ['notes.txt']);
  await wt.remove();
  const blob = await s.git(['cat-file', 'blob', `${sha}:notes.txt`]);
  t.false(blob.includes('\r'), JSON.stringify(blob));
  t.is(blob, 'x\ny\nz');
});

test('a work tree removed under the run (another process cleaning the temp directory) fails the commit instead of committing a near-empty tree', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const base = (await s.git(['rev-parse', 'HEAD'])).trim();
  const git = await openRepo(s.repo, s.env);
  const wt = await git.addWorktree(base);
  await mkdir(join(wt.dir, 'secrets'), { recursive: true });
  await writeFile(join(wt.dir, 'secrets/new.yaml'), 'kind: Secret\n');
  wt.stage('secrets/new.yaml');
  await rm(dirname(wt.dir), { recursive: true, force: true });
  const err = await t.throwsAsync(wt.commit('subject', ['secrets/new.yaml']));
  t.regex(err?.message ?? '', /was removed while the run worked; nothing was committed/);
  await wt.remove();
  t.is((await s.git(['rev-parse', 'HEAD'])).trim(), base);
  t.deepEqual(await readdir(s.env.TMPDIR!), []);
});

test('git failures are the project’s errors with a remedy: not a repository, no directory, no git on PATH, a push whose lease is stale', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const notRepo = await t.throwsAsync(openRepo(s.env.TMPDIR!, s.env));
  t.is(notRepo?.name, 'ExternalError');
  t.regex(notRepo?.message ?? '', /is not inside a git repository \(fatal: not a git repository/);
  t.regex((notRepo as { remedy?: string }).remedy ?? '', /--repo DIR/);

  const gone = await t.throwsAsync(openRepo(join(s.dir, 'no-such-dir'), s.env));
  t.regex(gone?.message ?? '', /no-such-dir is not a directory/);
  const noGit = await t.throwsAsync(openRepo(s.repo, { ...s.env, PATH: s.dir }));
  t.is(noGit?.message, 'git not found on PATH');

  const git = await openRepo(s.repo, s.env);
  const main = (await s.git(['rev-parse', 'main'])).trim();
  const ours = (await s.git(['commit-tree', 'main^{tree}', '-p', 'main', '-m', 'ours'])).trim();
  // The lease says the branch must not exist on the remote; someone else pushed it meanwhile.
  await s.git(['push', '--quiet', 'origin', 'main:refs/heads/gitops-secrets/sync']);
  const stale = await t.throwsAsync(git.push('origin', ours, 'gitops-secrets/sync', undefined));
  t.regex(
    stale?.message ?? '',
    /was rejected: the branch changed on the remote while this run worked/,
  );
  t.regex((stale as { remedy?: string }).remedy ?? '', /run the command again/);
  // With the lease it expects, the same push goes through.
  await git.push('origin', ours, 'gitops-secrets/sync', main);
  t.is(
    (await git.lsRemote('origin', ['gitops-secrets/sync'])).heads.get('gitops-secrets/sync'),
    ours,
  );
  t.is(await git.resolve('refs/heads/no-such-branch'), undefined);
  t.is(await git.mergeBase(main, main), main);
});

test('git runs with the user’s environment as their shell has it: editor, pager, askpass, SSH command and GIT_CONFIG_* settings do not stop it', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  const env = {
    ...s.env,
    EDITOR: 'vi',
    GIT_EDITOR: 'vi',
    PAGER: 'less',
    GIT_PAGER: 'less',
    GIT_ASKPASS: '/bin/true',
    SSH_ASKPASS: '/bin/true',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GIT_PROXY_COMMAND: '/bin/false',
    GIT_TEMPLATE_DIR: s.dir,
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: 'core.hooksPath',
    GIT_CONFIG_VALUE_1: join(s.dir, 'no-hooks'),
  };
  const git = await openRepo(s.repo, env);
  const main = (await s.git(['rev-parse', 'main'])).trim();
  t.is(await git.resolve('main'), main);
  t.is((await git.lsRemote('origin', ['main'])).heads.get('main'), main);
});

test('a listing is read once per commit: a later ask within the directories of an earlier one is answered from it, exactly', async (t) => {
  const s = await exampleScenario('keptn-bridge.yaml');
  t.teardown(() => s.cleanup());
  for (const path of ['a/x.yaml', 'a/b/y.yaml', 'ab/z.yaml', 'c.yaml']) {
    await mkdir(dirname(join(s.repo, path)), { recursive: true });
    await writeFile(join(s.repo, path), `${path}\n`);
  }
  await s.git(['add', '-A']);
  await s.git(['commit', '--quiet', '-m', 'files']);
  const head = (await s.git(['rev-parse', 'HEAD'])).trim();
  const trace = join(s.dir, 'trace.json');
  const git = await openRepo(s.repo, { ...s.env, GIT_TRACE2_EVENT: trace });
  const keys = async (dirs: string[]) => [...(await git.listFiles(head, dirs)).keys()].sort();
  t.deepEqual(await keys(['a', 'c.yaml']), ['a/b/y.yaml', 'a/x.yaml', 'c.yaml']);
  t.deepEqual(await keys(['a']), ['a/b/y.yaml', 'a/x.yaml'], 'ab/ is not below a/');
  t.deepEqual(await keys(['a/b']), ['a/b/y.yaml']);
  t.deepEqual(await keys(['c.yaml']), ['c.yaml']);
  const listed = async () => (await gitTrace(trace)).filter((a) => a[0] === 'ls-tree').length;
  t.is(await listed(), 1);
  t.deepEqual(await keys(['ab']), ['ab/z.yaml'], 'outside the first: read');
  t.true((await keys(['.'])).includes('README.md'));
  t.is(await listed(), 3);
  const copy = await git.listFiles(head, ['a']);
  copy.clear();
  t.is((await git.listFiles(head, ['a'])).size, 2, 'a caller’s change stays its own');
});
