import { readdir, readFile } from 'node:fs/promises';
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

test('rotate.yml: weekly schedule, dispatch inputs, only the two write permissions, concurrency, timeout, SOPS_AGE_KEY', async (t) => {
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
  t.is(action?.env?.SOPS_AGE_KEY, '${{ secrets.SOPS_AGE_KEY }}');
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
  const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
    runs: { using: string; steps: Step[] };
    inputs: object;
    outputs: object;
  };
  t.is(action.runs.using, 'composite');
  t.deepEqual(Object.keys(action.inputs).sort(), [
    'args',
    'command',
    'config',
    'github-token',
    'sops-version',
  ]);
  t.deepEqual(Object.keys(action.outputs).sort(), ['pull-request-number', 'pull-request-url']);
  const steps: [string, Step][] = action.runs.steps.map((s) => ['action.yml', s]);
  for (const f of files)
    for (const job of Object.values((await load(f)).jobs))
      for (const s of job.steps) steps.push([f, s]);
  for (const [file, s] of steps) {
    if (s.uses && !s.uses.startsWith('./'))
      t.regex(s.uses, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${s.uses}`);
    if (s.run) t.false(s.run.includes('${{'), `${file}: run script inlines an expression`);
  }
});
