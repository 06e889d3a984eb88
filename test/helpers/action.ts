/**
 * Runs the GitHub Action as the runner does: `node dist/action/index.js` with its inputs in
 * INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, RUNNER_TEMP and
 * RUNNER_TOOL_CACHE, in a scenario's repository (the workspace).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT, type Scenario } from './scenario.js';

export const ACTION = join(ROOT, 'dist/action/index.js');

export interface ActionRun {
  exitCode: number;
  /** What the runner would show: stdout and stderr without the `::add-mask::` commands. */
  log: string;
  outputs: Record<string, string>;
  summary: string;
  /** Milliseconds from the Action's start until sops was ready, as it logged. */
  sopsReadyMs: number | undefined;
}

/** The step's outputs, from GITHUB_OUTPUT's `name<<DELIMITER` blocks. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

/**
 * The Action in scenario `s`: `inputs` by their action.yml names; `env` on top of the
 * scenario's (which loses SOPS_AGE_KEY_FILE: the key comes in through `age-key` or not at all).
 */
export async function runAction(
  s: Scenario,
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {},
): Promise<ActionRun> {
  const dir = join(s.dir, `action-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir);
  const files = { output: join(dir, 'output'), summary: join(dir, 'summary') };
  await writeFile(files.output, '');
  await writeFile(files.summary, '');
  const { SOPS_AGE_KEY_FILE: _key, ...base } = s.env;
  const vars: Record<string, string | undefined> = {
    ...base,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: s.repo,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: join(s.dir, 'runner-temp'),
    RUNNER_TOOL_CACHE: join(s.dir, 'tool-cache'),
    ...env,
  };
  for (const [name, value] of Object.entries(inputs)) vars[`INPUT_${name.toUpperCase()}`] = value;
  const r = await execa(process.execPath, [ACTION], {
    cwd: s.repo,
    env: vars,
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 120_000,
  });
  const log = String(r.all)
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  s.outputs.push(log);
  const ready = /ready (\d+) ms after the Action started/.exec(log);
  return {
    exitCode: r.exitCode ?? -1,
    log,
    outputs: parseOutputs(await readFile(files.output, 'utf8')),
    summary: await readFile(files.summary, 'utf8'),
    sopsReadyMs: ready ? Number(ready[1]) : undefined,
  };
}
