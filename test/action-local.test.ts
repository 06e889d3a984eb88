/**
 * The Action under @github/local-action (7.x, which runs on Node 20), the way its authors test
 * an action locally: it loads the TypeScript entry (src/action/main.ts, its `run`), stands in
 * for the runner and prints the step's outputs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { example, makeScenario, ROOT } from './helpers/scenario.js';

test('local-action runs the Action: check reports pending work in its outputs and summary', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.commitAndPush('config');
  const envFile = join(s.dir, 'local-action.env');
  const summary = join(s.dir, 'summary.md');
  await writeFile(summary, '');
  await writeFile(
    envFile,
    [
      'INPUT_COMMAND=check',
      `INPUT_WORKING-DIRECTORY=${s.repo}`,
      `GITHUB_WORKSPACE=${s.repo}`,
      `GITHUB_STEP_SUMMARY=${summary}`,
      `RUNNER_TEMP=${join(s.dir, 'runner-temp')}`,
      `RUNNER_TOOL_CACHE=${join(s.dir, 'tool-cache')}`,
    ].join('\n'),
  );
  const r = await execa(
    join(ROOT, 'node_modules/.bin/local-action'),
    ['run', ROOT, 'src/action/main.ts', envFile],
    { cwd: ROOT, env: { ...s.env, NO_COLOR: '1' }, extendEnv: false, reject: false, all: true },
  );
  t.is(r.exitCode, 0, r.all);
  t.regex(String(r.all), /sops 3\.13\.2 from PATH/);
  t.regex(String(r.all), /'pending'\s*│\s*'true'/);
  t.regex(String(r.all), /'pull-request-operation'\s*│\s*'none'/);
  t.notRegex(String(r.all), /::error::/);
  t.regex(await readFile(summary, 'utf8'), /<td>keptn\/bridge-oauth<\/td><td>session_secret<\/td>/);
});
