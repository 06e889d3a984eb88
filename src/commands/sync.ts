import type { ExitCode } from '../errors.js';
import {
  type JobCommandOptions,
  type JobCommandPorts,
  loadRepoConfig,
  runJobCommand,
} from './common.js';

export interface SyncOptions extends JobCommandOptions {
  /** Remove secrets and keys that are no longer in the config. */
  prune: boolean;
  /** When recipients changed, also replace the data key (`sops rotate`). */
  rotateDataKey: boolean;
}

/** `sync`: generate missing keys, encrypt, commit, push, open or update the pull request. */
export async function sync(options: SyncOptions, ports: JobCommandPorts): Promise<ExitCode> {
  const loaded = await loadRepoConfig(options);
  return runJobCommand('sync', options, loaded, ports, {
    prune: options.prune,
    rotateDataKey: options.rotateDataKey,
  });
}
