import type { Config } from '../config/types.js';
import { type ExitCode, UsageError } from '../errors.js';
import {
  type JobCommandOptions,
  type JobCommandPorts,
  loadRepoConfig,
  runJobCommand,
} from './common.js';

export interface RotateOptions extends JobCommandOptions {
  /** Only these secrets (NAMESPACE/NAME); empty: every secret. */
  secrets: string[];
  /** Only this key of them. */
  key: string | undefined;
  /** Rotate now, whatever the due date. */
  force: boolean;
}

/** `rotate`: rotate the keys that are due, or the selected ones with `--force`. */
export async function rotate(options: RotateOptions, ports: JobCommandPorts): Promise<ExitCode> {
  const loaded = await loadRepoConfig(options);
  checkSelection(loaded.config, options);
  return runJobCommand('rotate', options, loaded, ports, {
    prune: false,
    rotate: { secrets: options.secrets, key: options.key, force: options.force },
  });
}

/** A selection must name declared secrets and keys (exit 2). */
function checkSelection(config: Config, o: RotateOptions): void {
  const declared = new Set(config.secrets.map((x) => `${x.namespace}/${x.name}`));
  for (const s of o.secrets) {
    if (!declared.has(s)) {
      throw new UsageError(
        `--secret ${s} is not in ${o.config}`,
        'use NAMESPACE/NAME of a declared secret',
      );
    }
  }
  if (o.key && !config.secrets.some((x) => x.keys.some((k) => k.name === o.key))) {
    throw new UsageError(`--key ${o.key} is not a key of any declared secret`);
  }
  const derived = o.key ? derivedKey(config, o.secrets, o.key) : undefined;
  if (derived) {
    throw new UsageError(
      `--key ${o.key} is made from ${derived.join(', ') || 'fixed text'} and never rotated alone`,
      derived.length > 0
        ? `rotate ${derived.map((k) => `--key ${k}`).join(' or ')}: ${o.key} changes with it`
        : undefined,
    );
  }
  if (o.key && o.secrets.length === 0) {
    throw new UsageError('--key needs --secret NS/NAME');
  }
}

/** The inputs of `key` when it is a derived key of one of the selected secrets. */
function derivedKey(config: Config, secrets: string[], key: string): string[] | undefined {
  for (const s of config.secrets) {
    if (secrets.length > 0 && !secrets.includes(`${s.namespace}/${s.name}`)) continue;
    const k = s.keys.find((x) => x.name === key);
    if (k?.source.kind === 'derived') return k.source.inputs;
  }
  return undefined;
}
