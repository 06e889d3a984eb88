import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { SopsSettings } from '../config/types.js';
import { ExternalError } from '../errors.js';
import { withoutTokens } from './env.js';
import { makeRunDir, removeRunDir } from './run-dirs.js';
import {
  creationRule,
  encryptArgs,
  indexOf,
  type RecipientChange,
  rotateFlags,
  stdinYaml,
} from './sops-args.js';
import { sopsError } from './sops-errors.js';

export { type RecipientChange, rotateFlags } from './sops-args.js';

/** What the tool needs from sops. Plaintext only ever crosses this boundary through stdin/stdout. */
export interface SopsPort {
  /** Checks once per run that sops exists and is recent enough; every other call waits for it. */
  ensureReady(): Promise<void>;
  /** Encrypts a plaintext document read from stdin; returns the ciphertext document. */
  encrypt(
    plaintext: string,
    options: { filename: string; cwd: string; settings: SopsSettings },
  ): Promise<string>;
  /**
   * Decrypts to memory: the file itself, or `ciphertext` given on stdin as if it were that file
   * (e.g. a blob from another branch).
   */
  decrypt(file: string, options: { cwd: string; ciphertext?: string }): Promise<string>;
  /** Sets one value in an encrypted file in place; the value (JSON) goes through stdin. */
  set(file: string, path: string[], valueJson: string, options: { cwd: string }): Promise<void>;
  /** Removes one key from an encrypted file in place. */
  unset(file: string, path: string[], options: { cwd: string }): Promise<void>;
  /**
   * Gives a file its new recipients. Without `rotate`: re-wraps its data key for the recipients
   * `settings` names (else those of `.sops.yaml`) with `sops updatekeys`, no value's
   * ciphertext changes. With `rotate` (recipient ids such as `age:…`, `azureKv:…` to add and
   * remove): `sops rotate`, a new data key, every ciphertext changes.
   */
  updateKeys(
    file: string,
    options: { cwd: string; settings?: SopsSettings; rotate?: RecipientChange },
  ): Promise<void>;
  /** Processes started so far (reported in --json, checked by the benchmark). */
  readonly started: number;
  /** How many sops processes to run at once (GITOPS_SECRETS_SOPS_JOBS, default: the cores + 1). */
  readonly jobs: number;
}

export const MIN_SOPS_VERSION = [3, 11, 0] as const;

export interface SopsOptions {
  /** The sops executable; default `sops` from PATH, or GITOPS_SECRETS_SOPS. */
  bin?: string;
  /** Milliseconds before a sops process is stopped. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function createSops(options: SopsOptions = {}): SopsPort {
  const env = options.env ?? process.env;
  const bin = options.bin ?? env.GITOPS_SECRETS_SOPS ?? 'sops';
  const timeout = options.timeoutMs ?? (Number(env.GITOPS_SECRETS_SOPS_TIMEOUT_MS) || 120_000);
  // sops needs no GitHub token: it does not inherit one.
  const childEnv = { ...withoutTokens(env), ...shortLivedGo(env), SOPS_DISABLE_VERSION_CHECK: '1' };
  let started = 0;
  let ready: Promise<void> | undefined;

  /** One sops process; `stdout: 'ignore'` when it changes the file in place (nothing to read). */
  const exec = (
    args: string[],
    input: string | undefined,
    cwd: string,
    file?: string,
    stdout: 'pipe' | 'ignore' = 'pipe',
  ) => {
    started++;
    return execSops(bin, args, { input, cwd, file, env: childEnv, timeout, stdout });
  };
  const ensureReady = () => {
    ready ??= exec(['--version', '--disable-version-check'], undefined, process.cwd()).then((out) =>
      checkVersion(bin, out),
    );
    return ready;
  };
  /** Every sops call but the version check: once that failed, no further sops process starts. */
  const run = async (args: string[], input: string | undefined, cwd: string, file: string) => {
    await ensureReady();
    return exec(args, input, cwd, file);
  };
  /** A call that changes `file` in place. */
  const inPlace = async (args: string[], input: string | undefined, cwd: string, file: string) => {
    await ensureReady();
    await exec(args, input, cwd, file, 'ignore');
  };

  return {
    get started() {
      return started;
    },
    jobs: sopsJobs(env),
    ensureReady,
    encrypt(plaintext, { filename, cwd, settings }) {
      return run(encryptArgs(filename, settings), plaintext, cwd, filename);
    },
    decrypt(file, { cwd, ciphertext }) {
      const args =
        ciphertext === undefined
          ? ['decrypt', '--input-type', 'yaml', '--output-type', 'yaml', file]
          : ['decrypt', ...stdinYaml(file)];
      return run(args, ciphertext, cwd, file);
    },
    set(file, path, valueJson, { cwd }) {
      return inPlace(['set', '--value-stdin', file, indexOf(path)], valueJson, cwd, file);
    },
    unset(file, path, { cwd }) {
      return inPlace(['unset', file, indexOf(path)], undefined, cwd, file);
    },
    async updateKeys(file, { cwd, settings, rotate }) {
      if (rotate)
        return inPlace(
          ['rotate', '--in-place', ...rotateFlags(rotate), file],
          undefined,
          cwd,
          file,
        );
      if (!settings?.hasRecipients)
        return inPlace(['updatekeys', '--yes', file], undefined, cwd, file);
      await withRuleFile(settings, (config) =>
        inPlace(['--config', config, 'updatekeys', '--yes', file], undefined, cwd, file),
      );
    },
  };
}

/**
 * The one place sops starts. Plaintext goes in through `input` (stdin) only. Configured for no
 * more than a sops call needs: no stdin without input, no stdout pipe when the file is changed in
 * place, output kept as sops wrote it, never logged.
 */
async function execSops(
  bin: string,
  args: string[],
  call: {
    input: string | undefined;
    cwd: string;
    file: string | undefined;
    env: NodeJS.ProcessEnv;
    timeout: number;
    /** 'ignore' when the file is changed in place: no pipe, nothing buffered. */
    stdout: 'pipe' | 'ignore';
  },
): Promise<string> {
  const { input } = call;
  const result = await execa(bin, args, {
    cwd: call.cwd,
    env: call.env,
    extendEnv: false,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
    stdout: call.stdout,
    // Never log: NODE_DEBUG=execa would otherwise print every argv, stdout and stderr.
    verbose: 'none',
    timeout: call.timeout,
    forceKillAfterDelay: 2_000,
    maxBuffer: 64 * 1024 * 1024,
    stripFinalNewline: false,
    reject: false,
  });
  if (!result.failed) return result.stdout ?? '';
  const outcome = {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    isMaxBuffer: result.isMaxBuffer,
    code: result.code,
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  };
  throw sopsError(bin, outcome, call.file, input);
}

/** Recipients named in the config: a one-rule sops config in a temp dir (public keys only). */
async function withRuleFile(
  settings: SopsSettings,
  use: (config: string) => Promise<unknown>,
): Promise<void> {
  const dir = await makeRunDir('sops');
  try {
    const config = join(dir, 'sops.yaml');
    await writeFile(config, JSON.stringify({ creation_rules: [creationRule(settings)] }));
    await use(config);
  } finally {
    await removeRunDir(dir);
  }
}

/** The version `sops --version` printed (`sops 3.13.2 (latest)`), or undefined. */
export function sopsVersionOf(out: string): number[] | undefined {
  const m = /sops (\d+)\.(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether a sops version is one gitops-secrets works with (MIN_SOPS_VERSION or newer). */
export function supportedSops(version: readonly number[]): boolean {
  return compare(version, MIN_SOPS_VERSION) >= 0;
}

function checkVersion(bin: string, out: string): void {
  const version = sopsVersionOf(out);
  if (!version)
    throw new ExternalError(
      'sops',
      `could not tell the version of ${bin} (it printed no "sops X.Y.Z")`,
    );
  if (!supportedSops(version)) {
    throw new ExternalError(
      'sops',
      `${bin} is version ${version.join('.')}; gitops-secrets needs sops ${MIN_SOPS_VERSION.join('.')} or newer`,
      'install sops 3.11 or newer (https://github.com/getsops/sops/releases), or set GITOPS_SECRETS_SOPS to its path',
    );
  }
}

/**
 * sops processes to run at once: GITOPS_SECRETS_SOPS_JOBS (a whole number from 1 to 64; more
 * pays off when sops waits on a key service such as a cloud KMS), else one more than the cores.
 * sops with age or PGP keys is CPU-bound, but between two sops processes of a slot this process
 * checks the ciphertext and starts the next one: with one more process the cores stay busy
 * meanwhile (a first sync of 1,000 secrets on 2 cores: 9.6 s with 2 at a time, 8.5 s with 3).
 */
export function sopsJobs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.GITOPS_SECRETS_SOPS_JOBS);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : availableParallelism() + 1;
}

/**
 * Go runtime settings for sops processes, unless the user chose their own (GOGC, GOMEMLIMIT):
 * each lives about 20 ms and allocates a few MB, so Go's garbage collector is wasted work there
 * (12-20% of sops's CPU time, measured over 150 runs). It stays off until a process's heap
 * nears 512 MiB, so a very large file is still collected instead of growing without bound.
 */
export function shortLivedGo(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.GOGC !== undefined || env.GOMEMLIMIT !== undefined) return {};
  return { GOGC: 'off', GOMEMLIMIT: '512MiB' };
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
