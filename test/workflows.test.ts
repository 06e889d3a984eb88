import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { ROOT, TOOLS_BIN } from './helpers/scenario.js';

type Step = {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
};
type Job = { steps: Step[]; 'timeout-minutes'?: number };
type Workflow = {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: unknown;
  jobs: Record<string, Job>;
};

const load = async (path: string) => parse(await readFile(join(ROOT, path), 'utf8')) as Workflow;

test('every workflow (and action.yml through `uses: ./`) passes actionlint', async (t) => {
  const r = await execa(join(TOOLS_BIN, 'actionlint'), ['-color=false'], {
    cwd: ROOT,
    reject: false,
  });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
});

test('rotate.yml: weekly schedule, dispatch inputs, only the two write permissions, concurrency, timeout, the key as the age-key input', async (t) => {
  const w = await load('.github/workflows/rotate.yml');
  t.regex(String((w.on.schedule as { cron: string }[])[0]!.cron), /^\d+ \d+ \* \* \d$/);
  t.deepEqual(Object.keys((w.on.workflow_dispatch as { inputs: object }).inputs).sort(), [
    'force',
    'secret',
  ]);
  t.deepEqual(w.permissions, { contents: 'write', 'pull-requests': 'write' });
  t.truthy(w.concurrency);
  const steps = w.jobs.rotate!.steps;
  t.true((w.jobs.rotate!['timeout-minutes'] ?? 0) > 0);
  const action = steps.find((s) => s.uses === './');
  t.is(action?.with?.command, 'rotate');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
  t.is(action?.with?.['age-key'], '${{ secrets.SOPS_AGE_KEY }}');
  // The key is an input of the Action, never in a step's environment (every child would see it).
  t.is(action?.env, undefined);
});

test('sync.yml runs on pushes to the base branch touching the config, and by hand', async (t) => {
  const w = await load('.github/workflows/sync.yml');
  const push = w.on.push as { branches: string[]; paths: string[] };
  t.deepEqual(push.branches, ['main']);
  t.true(push.paths.includes('config/secrets.yaml'));
  t.true('workflow_dispatch' in w.on);
  t.deepEqual(w.permissions, { contents: 'write', 'pull-requests': 'write' });
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
test('third-party actions are pinned by commit SHA, and no ${{ }} expression is inlined in a run script', async (t) => {
  const files = (await readdir(join(ROOT, '.github/workflows'))).map(
    (f) => `.github/workflows/${f}`,
  );
  const steps: [string, Step][] = [];
  for (const f of files)
    for (const job of Object.values((await load(f)).jobs))
      for (const s of job.steps) steps.push([f, s]);
  for (const [file, s] of steps) {
    if (s.uses && !s.uses.startsWith('./'))
      t.regex(s.uses, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${s.uses}`);
    if (s.run) t.false(s.run.includes('${{'), `${file}: run script inlines an expression`);
  }
});

test('action.yml: a JavaScript action on node24 running the committed bundle, with the inputs and outputs of the docs', async (t) => {
  const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
    runs: { using: string; main: string; steps?: unknown };
    inputs: Record<string, { default?: string }>;
    outputs: Record<string, { description: string; value?: string }>;
  };
  t.deepEqual(action.runs, { using: 'node24', main: 'dist/action/index.js' });
  t.deepEqual(Object.keys(action.inputs).sort(), [
    'age-key',
    'args',
    'command',
    'config',
    'github-token',
    'sops-mirror',
    'sops-sha256',
    'sops-version',
    'working-directory',
  ]);
  t.is(action.inputs['sops-version']?.default, 'v3.13.2');
  t.deepEqual(Object.keys(action.outputs).sort(), [
    'branch',
    'changes',
    'commit',
    'pending',
    'pull-request-number',
    'pull-request-operation',
    'pull-request-url',
  ]);
  const docs = await readFile(join(ROOT, 'docs/github-action.md'), 'utf8');
  for (const name of [...Object.keys(action.inputs), ...Object.keys(action.outputs)])
    t.true(docs.includes(`\`${name}\``), `docs/github-action.md names ${name}`);
});

test('actionlint reads action.yml: a workflow using every input and output passes, an unknown input fails, and main must exist', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gitops-secrets-actionlint-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, '.github/workflows'), { recursive: true });
  await mkdir(join(dir, 'dist/action'), { recursive: true });
  await copyFile(join(ROOT, 'action.yml'), join(dir, 'action.yml'));
  await execa('git', ['init', '-q'], { cwd: dir });
  const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: object;
    outputs: object;
  };
  const workflow = (extra: string) =>
    [
      'on: workflow_dispatch',
      'permissions: {}',
      'jobs:',
      '  run:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: ./',
      '        id: secrets',
      '        with:',
      ...Object.keys(action.inputs).map((name) => `          ${name}: x`),
      extra,
      '      - run: echo "$OUT"',
      '        env:',
      `          OUT: ${Object.keys(action.outputs)
        .map((name) => `\${{ steps.secrets.outputs.${name} }}`)
        .join(' ')}`,
      '',
    ].join('\n');
  const lint = () =>
    execa(join(TOOLS_BIN, 'actionlint'), ['-color=false'], { cwd: dir, reject: false });
  await writeFile(join(dir, '.github/workflows/use.yml'), workflow(''));
  const missing = await lint();
  t.is(missing.exitCode, 1);
  t.regex(missing.stdout, /file "dist\/action\/index\.js" does not exist/);
  await copyFile(join(ROOT, 'dist/action/index.js'), join(dir, 'dist/action/index.js'));
  const ok = await lint();
  t.is(ok.exitCode, 0, ok.stdout);
  await writeFile(join(dir, '.github/workflows/use.yml'), workflow('          sops-key: x'));
  const unknown = await lint();
  t.is(unknown.exitCode, 1);
  t.regex(unknown.stdout, /input "sops-key" is not defined in action "gitops-secrets"/);
});
