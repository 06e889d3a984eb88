/**
 * The GitHub Action (action.yml, `runs: using: node24`): finds or downloads sops, then runs the
 * CLI's `sync`, `rotate` or `check` in this process, through the same command line
 * (src/program.ts) with `--json`, and turns the result into step outputs, a job summary and
 * annotations. The private key reaches the sops processes only; the token, git and GitHub only.
 */
import { resolve } from 'node:path';
import * as core from '@actions/core';
import type { Output } from '../commands/common.js';
import { ExitCode, UsageError } from '../errors.js';
import { execute } from '../program.js';
import { readInputs } from './inputs.js';
import { actionPorts, childEnv } from './ports.js';
import { type CheckJson, type JobJson, reportCheck, reportError, reportJob } from './report.js';
import { setupSops } from './sops-setup.js';

/** Runs the Action; the step fails through `core.setFailed`, never by throwing. */
export async function run(): Promise<void> {
  try {
    await runSteps();
  } catch (e) {
    reportError(e, process.cwd());
  }
}

async function runSteps(): Promise<void> {
  const inputs = readInputs();
  const sops = await core.group('Set up sops', () => setupSops(inputs.sops, childEnv(process.env)));
  core.info(
    `sops ${sops.version} from ${sops.from} (${sops.bin}), ready ${Math.round(process.uptime() * 1000)} ms after the Action started`,
  );
  const repo = resolve(inputs.workingDirectory);
  const json: string[] = [];
  const io: Output = { out: (line) => json.push(line), err: (line) => core.info(line) };
  const ports = actionPorts({
    env: process.env,
    token: inputs.githubToken,
    ageKey: inputs.ageKey,
    sopsBin: sops.bin,
    io,
  });
  const argv = [inputs.command, '--repo', repo, '--config', inputs.config, ...inputs.args];
  const code = await core.group(`gitops-secrets ${argv.join(' ')}`, async () => {
    try {
      return await execute([...argv, '--json'], {
        ports: () => ports,
        io,
        actionRelease: () => Promise.reject(new UsageError('init is not an Action command')),
      });
    } catch (e) {
      reportError(e, repo);
      return undefined;
    }
  });
  if (code === undefined) return;
  if (code !== ExitCode.ok && code !== ExitCode.pending) {
    core.setFailed(`gitops-secrets ${inputs.command} exited with ${code}`);
    return;
  }
  const doc = JSON.parse(json.join('\n')) as unknown;
  if (inputs.command === 'check') await reportCheck(doc as CheckJson);
  else await reportJob(inputs.command, doc as JobJson);
}
