#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { CommanderError } from 'commander';
import type { Output } from './commands/common.js';
import type { ActionRelease } from './commands/init.js';
import { readValue, type SetPorts } from './commands/set.js';
import { ExitCode, GitopsSecretsError } from './errors.js';
import { openRepo } from './ports/git.js';
import { gitHubFor } from './ports/github.js';
import { enableMemo, saveMemos } from './ports/memo.js';
import { createSops } from './ports/sops.js';
import { buildProgram } from './program.js';

// The config's parse tree lives long, so V8 learns to allocate yaml's nodes straight into the old
// generation; every manifest's short-lived Document then stays there until a full collection.
// Without that learning, `check` of 10,000 secrets peaks at 292 MB instead of 482 (and 10% less
// CPU); a no-op sync of 1,000 uses 5% less CPU.
setFlagsFromString('--no-allocation-site-pretenuring');

/**
 * A reader that has gone away (`gitops-secrets check --json | head -1`) is not this tool's
 * failure: the rest of the output is dropped and the run finishes its work, with its own exit
 * code, instead of dying mid-job with a stack trace for an EPIPE.
 */
const closed = new Set<NodeJS.WriteStream>();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && !closed.has(stream)) throw e;
    closed.add(stream);
  });
}
const write = (stream: NodeJS.WriteStream) => (line: string) => {
  if (!closed.has(stream)) stream.write(`${line}\n`);
};
const io: Output = { out: write(process.stdout), err: write(process.stderr) };

/** The real ports: git, sops and GitHub, configured from the environment. */
function realPorts(env: NodeJS.ProcessEnv): SetPorts {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN || undefined;
  const inActions = env.GITHUB_ACTIONS === 'true';
  return {
    ...io,
    openGit: (dir) => openRepo(dir, env, token ? { token } : undefined),
    createSops: () => createSops(),
    pullRequests: {
      token,
      inActions,
      create: (remoteUrl) => gitHubFor(env, token!, remoteUrl),
    },
    actionOutputs: inActions ? env.GITHUB_OUTPUT || undefined : undefined,
    readValue: (label) => readValue(label),
  };
}

/** The package's package.json; the release workflow adds `gitopsSecrets.actionCommit`. */
interface PackageJson {
  version: string;
  gitopsSecrets?: { actionCommit?: string };
}

async function packageJson(): Promise<PackageJson> {
  return JSON.parse(
    await readFile(new URL('../package.json', import.meta.url), 'utf8'),
  ) as PackageJson;
}

async function version(): Promise<string> {
  return (await packageJson()).version;
}

/** The Action release `init`'s workflows use: this package's version and release commit. */
async function actionRelease(): Promise<ActionRelease> {
  const pkg = await packageJson();
  return { version: pkg.version, commit: pkg.gitopsSecrets?.actionCommit };
}

/** The one exit point: a command's exit code, or the exit code of what it threw. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  enableMemo(fileURLToPath(import.meta.url));
  const program = buildProgram({
    run: async (command) => {
      code = await command();
    },
    ports: () => realPorts(process.env),
    io,
    actionRelease,
  });
  program.version(await version(), '-V, --version');
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    return exitCodeOf(e, argv.includes('--debug'));
  } finally {
    saveMemos();
  }
}

function exitCodeOf(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    const shown = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
    return shown.includes(e.code) ? ExitCode.ok : ExitCode.usage;
  }
  if (e instanceof GitopsSecretsError) {
    io.err(`error: ${e.message}`);
    if (e.remedy) io.err(`  fix: ${e.remedy}`);
    if (debug && e.stack) io.err(e.stack);
    return e.exitCode;
  }
  io.err(`error: unexpected failure: ${(e as Error)?.message ?? String(e)}`);
  io.err(debug ? String((e as Error)?.stack) : '  (run with --debug for details, and report it)');
  return ExitCode.external;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = ExitCode.external;
  },
);
