/**
 * The workflows `init` writes, as a user's repository gets them: they pass actionlint, pin the
 * Action to a ref the release workflow creates, hold only the two write permissions, and run one
 * at a time.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { actionUses } from '../src/commands/init.js';
import { ROOT, TOOLS_BIN } from './helpers/scenario.js';

type Step = { uses?: string; with?: Record<string, unknown>; env?: Record<string, unknown> };
type Workflow = {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { steps: Step[]; 'timeout-minutes'?: number }>;
};

const RELEASE_COMMIT = '0123456789abcdef0123456789abcdef01234567';
const FILES = ['gitops-secrets-sync.yml', 'gitops-secrets-rotate.yml'];
const version = () =>
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function tempDir(t: ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs `init` with the built CLI. With `commit`, from a copy of dist/ next to a package.json that
 * records the release commit, as the release workflow publishes it.
 */
async function runInit(t: ExecutionContext, options: { commit?: string; args?: string[] } = {}) {
  let cli = join(ROOT, 'dist/cli.js');
  if (options.commit) {
    const pkgDir = tempDir(t, 'gs-init-pkg-');
    cpSync(join(ROOT, 'dist'), join(pkgDir, 'dist'), { recursive: true });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as object;
    writeFileSync(
      join(pkgDir, 'package.json'),
      JSON.stringify({ ...pkg, gitopsSecrets: { actionCommit: options.commit } }),
    );
    cli = join(pkgDir, 'dist/cli.js');
  }
  const repo = tempDir(t, 'gs-init-repo-');
  const r = await execa(process.execPath, [cli, 'init', '--repo', repo, ...(options.args ?? [])]);
  t.is(r.exitCode, 0);
  const paths = FILES.map((f) => join(repo, '.github/workflows', f));
  return { repo, paths, texts: paths.map((p) => readFileSync(p, 'utf8')) };
}

async function actionlint(t: ExecutionContext, paths: string[]) {
  const r = await execa(join(TOOLS_BIN, 'actionlint'), ['-color=false', ...paths], {
    reject: false,
  });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
}

const actionStep = (w: Workflow) =>
  Object.values(w.jobs)[0]!.steps.find((s) => s.uses?.startsWith('gitops-secrets/'));

test('a release build pins the Action to the release commit, the tag in a comment; actionlint passes', async (t) => {
  const { paths, texts } = await runInit(t, { commit: RELEASE_COMMIT });
  await actionlint(t, paths);
  for (const text of texts) {
    t.true(
      text.includes(`- uses: gitops-secrets/gitops-secrets@${RELEASE_COMMIT} # v${version()}\n`),
      text,
    );
    t.regex(text, /Dependabot/);
  }
});

test('a build from a checkout uses the major tag the release workflow moves; actionlint passes', async (t) => {
  const { paths, texts } = await runInit(t);
  await actionlint(t, paths);
  const major = version().split('.')[0];
  for (const text of texts) {
    t.true(text.includes(`- uses: gitops-secrets/gitops-secrets@v${major}\n`), text);
    t.regex(text, /@<commit SHA> # vX\.Y\.Z/, 'says how to pin a commit');
  }
});

test('least privilege, one run at a time, checkout pinned, the key given as the age-key input', async (t) => {
  const { texts } = await runInit(t, { commit: RELEASE_COMMIT });
  for (const [i, job] of (['sync', 'rotate'] as const).entries()) {
    const w = parse(texts[i]!) as Workflow;
    t.deepEqual(w.permissions, { contents: 'write', 'pull-requests': 'write' });
    t.deepEqual(w.concurrency, { group: `gitops-secrets-${job}`, 'cancel-in-progress': false });
    t.true((w.jobs[job]!['timeout-minutes'] ?? 0) > 0);
    t.true('workflow_dispatch' in w.on);
    const [checkout] = w.jobs[job]!.steps;
    t.regex(checkout!.uses!, /^actions\/checkout@[0-9a-f]{40}$/);
    t.like(checkout!.with, { 'fetch-depth': 0, 'persist-credentials': false });
    const step = actionStep(w)!;
    t.like(step.with, {
      command: job,
      config: 'config/secrets.yaml',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
      'age-key': '${{ secrets.SOPS_AGE_KEY }}',
    });
    t.is(step.env, undefined, 'no private key in the environment of the step');
  }
  const sync = parse(texts[0]!) as Workflow;
  t.deepEqual(sync.on.push, {
    branches: ['main'],
    paths: ['config/secrets.yaml', '.sops.yaml'],
  });
  t.truthy((parse(texts[1]!) as Workflow).on.schedule);
});

test('--config elsewhere: the sync trigger and the Action input follow it', async (t) => {
  const { paths, texts } = await runInit(t, { args: ['--config', './deploy/my secrets.yaml'] });
  await actionlint(t, paths);
  const sync = parse(texts[0]!) as Workflow;
  t.deepEqual((sync.on.push as { paths: string[] }).paths, [
    'deploy/my secrets.yaml',
    '.sops.yaml',
  ]);
  t.is(actionStep(sync)!.with!.config, 'deploy/my secrets.yaml');
});

test('every input the workflows give the Action is one the Action declares', async (t) => {
  const { texts } = await runInit(t);
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: object };
  for (const text of texts)
    for (const input of Object.keys(actionStep(parse(text) as Workflow)!.with!))
      t.true(input in action.inputs, `action.yml has no input ${input}`);
});

test('a recorded commit that is not a full SHA is not used', (t) => {
  t.is(actionUses({ version: '1.4.2', commit: 'main' }), 'gitops-secrets/gitops-secrets@v1');
  t.is(actionUses({ version: '1.4.2', commit: undefined }), 'gitops-secrets/gitops-secrets@v1');
  t.is(
    actionUses({ version: '1.4.2', commit: RELEASE_COMMIT }),
    `gitops-secrets/gitops-secrets@${RELEASE_COMMIT} # v1.4.2`,
  );
});
