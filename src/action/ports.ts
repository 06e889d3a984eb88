import type { Output } from '../commands/common.js';
import type { SetPorts } from '../commands/set.js';
import { UsageError } from '../errors.js';
import { openRepo } from '../ports/git.js';
import { gitHubFor } from '../ports/github.js';
import { createSops } from '../ports/sops.js';

/** What the Action's ports are built from. */
export interface ActionPortsInput {
  env: NodeJS.ProcessEnv;
  token: string | undefined;
  /** The age private key: given to sops processes only. */
  ageKey: string | undefined;
  sopsBin: string;
  io: Output;
}

/**
 * The environment of every child but sops: the Action's own inputs (INPUT_*) and any sops
 * private key stay out of git's.
 */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env))
    if (!k.startsWith('INPUT_') && k !== 'SOPS_AGE_KEY' && k !== 'SOPS_AGE_SSH_PRIVATE_KEY_FILE')
      out[k] = v;
  return out;
}

/**
 * The real ports, as the CLI builds them, except that the token comes from the `github-token`
 * input and the private key reaches sops's environment only (through the sops port's `env`).
 */
export function actionPorts(o: ActionPortsInput): SetPorts {
  const env = childEnv(o.env);
  const sopsEnv = o.ageKey ? { ...env, SOPS_AGE_KEY: o.ageKey } : { ...env, ...sopsKeyOf(o.env) };
  const { token } = o;
  return {
    ...o.io,
    openGit: (dir) => openRepo(dir, env, token ? { token } : undefined),
    createSops: () => createSops({ bin: o.sopsBin, env: sopsEnv }),
    pullRequests: {
      token,
      inActions: true,
      create: (remoteUrl) => gitHubFor(o.env, token!, remoteUrl),
    },
    // The Action sets its outputs itself (with @actions/core), from the command's JSON.
    actionOutputs: undefined,
    readValue: () => {
      throw new UsageError('the Action runs sync, rotate or check');
    },
  };
}

/** A key the workflow put in the step's env (the old way) still reaches sops, and only sops. */
function sopsKeyOf(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  if (env.SOPS_AGE_KEY) out.SOPS_AGE_KEY = env.SOPS_AGE_KEY;
  if (env.SOPS_AGE_SSH_PRIVATE_KEY_FILE)
    out.SOPS_AGE_SSH_PRIVATE_KEY_FILE = env.SOPS_AGE_SSH_PRIVATE_KEY_FILE;
  return out;
}
