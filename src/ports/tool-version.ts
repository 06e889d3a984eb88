import { execa } from 'execa';
import { withoutTokens } from './env.js';

/**
 * What `BIN ARGS` prints on stdout (e.g. `sops --version`), or undefined when it cannot run or
 * fails. The child gets only `env`, less the GitHub token; nothing it prints is logged.
 */
export async function toolVersion(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const r = await execa(bin, args, {
    env: withoutTokens(env),
    extendEnv: false,
    stdin: 'ignore',
    verbose: 'none',
    timeout: 30_000,
    reject: false,
  });
  return r.failed ? undefined : r.stdout;
}
