import * as core from '@actions/core';
import { UsageError } from '../errors.js';
import { DEFAULT_SOPS_VERSION } from './sops-releases.js';
import type { SopsWanted } from './sops-setup.js';

export const COMMANDS = ['sync', 'rotate', 'check'] as const;
export type ActionCommand = (typeof COMMANDS)[number];

/** The Action's inputs (action.yml), checked. */
export interface ActionInputs {
  command: ActionCommand;
  config: string;
  /** `args`, split at whitespace. */
  args: string[];
  workingDirectory: string;
  githubToken: string | undefined;
  ageKey: string | undefined;
  sops: SopsWanted;
}

/** Inputs the runner hands over in INPUT_* variables that no child process may inherit. */
const SECRET_INPUTS = ['github-token', 'age-key'];

/**
 * Reads the inputs. The token and the private key are masked in the log and leave process.env
 * here: the runner passes inputs as INPUT_* variables, which every child would inherit.
 */
export function readInputs(): ActionInputs {
  const githubToken = core.getInput('github-token') || undefined;
  const ageKey = core.getInput('age-key') || undefined;
  for (const secret of [githubToken, ageKey]) if (secret) mask(secret);
  for (const name of SECRET_INPUTS) delete process.env[`INPUT_${name.toUpperCase()}`];

  const command = core.getInput('command') || 'sync';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(
      `the command input must be sync, rotate or check, not ${JSON.stringify(command)}`,
    );
  }
  const tag = core.getInput('sops-version') || DEFAULT_SOPS_VERSION;
  if (!/^v\d+\.\d+\.\d+$/.test(tag))
    throw new UsageError(`sops-version must look like ${DEFAULT_SOPS_VERSION}, not ${tag}`);
  const sha256 = core.getInput('sops-sha256') || undefined;
  if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256))
    throw new UsageError('sops-sha256 must be 64 hexadecimal digits (a SHA-256)');
  return {
    command: command as ActionCommand,
    config: core.getInput('config') || 'config/secrets.yaml',
    args: core.getInput('args').split(/\s+/).filter(Boolean),
    workingDirectory: core.getInput('working-directory') || '.',
    githubToken,
    ageKey,
    sops: { tag, sha256, mirror: core.getInput('sops-mirror') || undefined },
  };
}

/** Masks a secret, and each key line of one that spans lines (an age key file has comments). */
function mask(secret: string): void {
  core.setSecret(secret);
  for (const line of secret.split(/\r?\n/).map((l) => l.trim()))
    if (line && !line.startsWith('#')) core.setSecret(line);
}
