import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { SopsSettings } from '../config/types.js';
import { ExternalError } from '../errors.js';
import { createLauncher } from './launcher.js';
import { makeRunDir, removeRunDir } from './run-dirs.js';
import type { ProcessResult } from './run-process.js';

/** What the tool needs from sops. Plaintext only ever crosses this boundary through stdin/stdout. */
export interface SopsPort {
  /**
   * Checks that sops exists and is recent enough (once per run, only when sops is needed). A run
   * whose `encrypt` output already names a recent enough sops (its `sops.version`) needs no
   * `sops --version` process for that.
   */
  ensureReady(): Promise<void>;
  /** Encrypts a plaintext document read from stdin; returns the ciphertext document. */
  encrypt(
    plaintext: string,
    options: { filename: string; cwd: string; settings: SopsSettings },
  ): Promise<string>;
  /** Decrypts a file to memory. */
  decrypt(file: string, options: { cwd: string }): Promise<string>;
  /** Decrypts ciphertext given on stdin (e.g. a blob from another branch) to memory. */
  decryptStdin(ciphertext: string, options: { filename: string; cwd: string }): Promise<string>;
  /** Sets one value in an encrypted file in place; the value (JSON) goes through stdin. */
  set(file: string, path: string[], valueJson: string, options: { cwd: string }): Promise<void>;
  /**
   * Re-encrypts a file in place for a changed set of recipients (`age:…`, `pgp:…`, `kms:…`,
   * `gcpKms:…`), with a new data key: values stay the same, every ciphertext changes.
   */
  reencrypt(
    file: string,
    change: { add: string[]; remove: string[] },
    options: { cwd: string },
  ): Promise<void>;
  /**
   * Re-wraps the file's data key for the recipients of `settings` (or of `.sops.yaml` when
   * undefined) with `sops updatekeys`: no ciphertext of a value changes.
   */
  updateKeys(
    file: string,
    settings: SopsSettings | undefined,
    options: { cwd: string },
  ): Promise<void>;
  /** Removes one key from an encrypted file in place. */
  unset(file: string, path: string[], options: { cwd: string }): Promise<void>;
  /** Processes started so far (reported in --json, checked by the benchmark). */
  readonly started: number;
  /** How many sops processes to run at once (GITOPS_SECRETS_SOPS_JOBS, default: the cores). */
  readonly jobs: number;
}

export const MIN_SOPS_VERSION = [3, 11, 0] as const;

export interface SopsOptions {
  /** The sops executable; default `sops` from PATH, or GITOPS_SECRETS_SOPS. */
  bin?: string;
  /** Milliseconds before a sops process is stopped. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * The POSIX shell that starts sops processes (see launcher.ts); null: each is started
   * directly. Default /bin/sh, except on Windows.
   */
  shell?: string | null;
}

/** Stable sops exit codes (cmd/sops/codes/codes.go) and what to tell the user. */
const EXIT_CODES: Record<number, { what: string; remedy: string }> = {
  2: { what: 'could not read the input file', remedy: 'check the file exists and is readable' },
  5: { what: 'could not read .sops.yaml', remedy: 'fix the syntax of .sops.yaml' },
  21: {
    what: 'could not encrypt the MAC',
    remedy: 'check the recipients in the config or .sops.yaml',
  },
  23: {
    what: 'could not encrypt the document',
    remedy: 'check the recipients in the config or .sops.yaml',
  },
  24: {
    what: 'could not decrypt the MAC',
    remedy: 'check the private key (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)',
  },
  25: {
    what: 'could not decrypt the document',
    remedy: 'check the private key (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)',
  },
  49: { what: 'cannot change keys of a file that does not exist', remedy: 'run sync again' },
  51: {
    what: 'MAC mismatch: the file was changed after it was encrypted (e.g. an annotation edited by hand)',
    remedy: 'restore the file from git history, or re-create it with sops',
  },
  52: { what: 'the file has no MAC', remedy: 'restore the file from git history' },
  61: {
    what: 'no recipients: the config names none and no .sops.yaml creation rule matches',
    remedy: 'add `sops: { age: [age1...] }` to the config, or a creation rule to .sops.yaml',
  },
  100: { what: 'no file given', remedy: 'report this as a bug' },
  111: { what: 'no encryption key found', remedy: 'name recipients in the config or .sops.yaml' },
  128: {
    what: 'could not retrieve the data key: no private key here can open this file',
    remedy: 'provide the private key of one of its recipients (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)',
  },
  203: { what: 'the file is already encrypted', remedy: 'report this as a bug' },
};

/**
 * The sops version an encrypted YAML document records: `version: X.Y.Z`, the last entry of its
 * `sops` section, which sops writes last. Undefined for anything else.
 */
export function writtenBy(document: string): number[] | undefined {
  const at = document.lastIndexOf('\nsops:\n');
  if (at < 0) return undefined;
  const section = document.slice(at + 7);
  // Nothing after it at the top level, and its last line is the version.
  if (/\n[^ \n]/.test(section)) return undefined;
  const m = /(?:^|\n) {4}version: "?(\d+)\.(\d+)\.(\d+)"?\n?$/.exec(section);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function createSops(options: SopsOptions = {}): SopsPort {
  const env = options.env ?? process.env;
  const bin = options.bin ?? env.GITOPS_SECRETS_SOPS ?? 'sops';
  const timeout = options.timeoutMs ?? (Number(env.GITOPS_SECRETS_SOPS_TIMEOUT_MS) || 120_000);
  let started = 0;
  let ready: Promise<void> | undefined;
  /** An encrypted document this run got from sops named a version new enough. */
  let proven = false;
  let readyError: { error: unknown } | undefined;

  // sops needs no GitHub token: it does not inherit one.
  const childEnv = {
    ...withoutTokens(env),
    ...shortLivedGo(env),
    SOPS_DISABLE_VERSION_CHECK: '1',
  };
  const launcher = createLauncher(childEnv, options.shell);
  const run = async (
    args: string[],
    input: string | undefined,
    cwd: string,
    file: string | undefined,
  ) => {
    // Once the version check failed, no further sops process starts: the run fails with that.
    if (readyError) throw readyError.error;
    // A run that starts with something other than an encryption (set, decrypt, updatekeys) has
    // no output to tell the version from: it is checked alongside.
    if (!proven && !ready && args[0] !== 'encrypt' && args[0] !== '--version')
      sops.ensureReady().catch(() => undefined);
    started++;
    const result = await launcher.run(bin, args, {
      cwd,
      env: childEnv,
      input,
      timeoutMs: timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.spawnError) throw missing(bin, result.spawnError);
    if (result.exitCode !== 0) throw toError(result, file, input);
    return result.stdout;
  };

  const sops: SopsPort = {
    get started() {
      return started;
    },
    jobs: sopsJobs(env),
    ensureReady() {
      if (proven && !ready) return Promise.resolve();
      ready ??= (async () => {
        const out = await run(
          ['--version', '--disable-version-check'],
          undefined,
          process.cwd(),
          undefined,
        );
        const m = /sops (\d+)\.(\d+)\.(\d+)/.exec(out);
        if (!m)
          throw new ExternalError(
            'sops',
            `could not tell the version of ${bin} (it printed no "sops X.Y.Z")`,
          );
        const version = [Number(m[1]), Number(m[2]), Number(m[3])];
        if (compare(version, MIN_SOPS_VERSION) < 0) {
          throw new ExternalError(
            'sops',
            `${bin} is version ${version.join('.')}; gitops-secrets needs sops ${MIN_SOPS_VERSION.join('.')} or newer`,
            'install a newer sops (npm run tools installs the pinned one into .tools/bin)',
          );
        }
      })();
      ready.catch((error: unknown) => {
        readyError ??= { error };
      });
      return ready;
    },
    encrypt(plaintext, { filename, cwd, settings }) {
      const args = ['encrypt', ...stdinYaml(filename)];
      // Unset when the .sops.yaml rule's own selector applies: sops refuses two selectors.
      if (settings.encryptedRegex !== '') args.push('--encrypted-regex', settings.encryptedRegex);
      const lists: [string, string[]][] = [
        ['--age', settings.age],
        ['--pgp', settings.pgp],
        ['--kms', settings.kms],
        ['--gcp-kms', settings.gcpKms],
        ['--azure-kv', settings.azureKv],
        ['--hc-vault-transit', settings.hcVaultTransit],
      ];
      for (const [flag, values] of lists) if (values.length > 0) args.push(flag, values.join(','));
      return run(args, plaintext, cwd, filename).then((out) => {
        if (!proven && !ready) {
          const v = writtenBy(out);
          proven = v !== undefined && compare(v, MIN_SOPS_VERSION) >= 0;
          // Output that names no recent sops: the version is checked now, not after the run.
          if (!proven) sops.ensureReady().catch(() => undefined);
        }
        return out;
      });
    },
    decrypt(file, { cwd }) {
      return run(
        ['decrypt', '--input-type', 'yaml', '--output-type', 'yaml', file],
        undefined,
        cwd,
        file,
      );
    },
    decryptStdin(ciphertext, { filename, cwd }) {
      return run(['decrypt', ...stdinYaml(filename)], ciphertext, cwd, filename);
    },
    async set(file, path, valueJson, { cwd }) {
      await run(['set', '--value-stdin', file, indexOf(path)], valueJson, cwd, file);
    },
    async reencrypt(file, change, { cwd }) {
      const flags: Record<string, string> = {
        age: 'age',
        pgp: 'pgp',
        kms: 'kms',
        gcpKms: 'gcp-kms',
      };
      const args = ['rotate', '--in-place'];
      for (const [verb, list] of [
        ['add', change.add],
        ['rm', change.remove],
      ] as const) {
        for (const [kind, flag] of Object.entries(flags)) {
          const values = list
            .filter((r) => r.startsWith(`${kind}:`))
            .map((r) => r.slice(kind.length + 1));
          if (values.length > 0) args.push(`--${verb}-${flag}`, values.join(','));
        }
      }
      await run([...args, file], undefined, cwd, file);
    },
    async updateKeys(file, settings, { cwd }) {
      if (!settings) {
        await run(['updatekeys', '--yes', file], undefined, cwd, file);
        return;
      }
      // Recipients named in the config: a one-rule sops config in a temp dir (public keys only).
      const dir = await makeRunDir('sops');
      try {
        const rule: Record<string, string> = {};
        if (settings.age.length > 0) rule.age = settings.age.join(',');
        if (settings.pgp.length > 0) rule.pgp = settings.pgp.join(',');
        if (settings.kms.length > 0) rule.kms = settings.kms.join(',');
        if (settings.gcpKms.length > 0) rule.gcp_kms = settings.gcpKms.join(',');
        if (settings.azureKv.length > 0) rule.azure_keyvault = settings.azureKv.join(',');
        if (settings.hcVaultTransit.length > 0)
          rule.hc_vault_transit_uri = settings.hcVaultTransit.join(',');
        const config = join(dir, 'sops.yaml');
        await writeFile(config, JSON.stringify({ creation_rules: [rule] }));
        await run(['--config', config, 'updatekeys', '--yes', file], undefined, cwd, file);
      } finally {
        await removeRunDir(dir);
      }
    },
    async unset(file, path, { cwd }) {
      await run(['unset', file, indexOf(path)], undefined, cwd, file);
    },
  };
  return sops;
}

/**
 * sops processes to run at once: GITOPS_SECRETS_SOPS_JOBS (a whole number from 1 to 64; more
 * than the cores pays off when sops waits on a key service such as a cloud KMS), else as many
 * as there are cores (sops with age or PGP keys is CPU-bound).
 */
export function sopsJobs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.GITOPS_SECRETS_SOPS_JOBS);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : availableParallelism();
}

/** Flags for a YAML document on stdin that sops treats as if it were `filename`. */
function stdinYaml(filename: string): string[] {
  return ['--filename-override', filename, '--input-type', 'yaml', '--output-type', 'yaml'];
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

function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GITHUB_TOKEN: _a, GH_TOKEN: _b, ...rest } = env;
  return rest;
}

/** sops's tree path syntax: `["data"]["KEY"]`. */
function indexOf(path: string[]): string {
  return path.map((p) => `[${JSON.stringify(p)}]`).join('');
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function missing(bin: string, code: string): ExternalError {
  return new ExternalError(
    'sops',
    code === 'ENOENT'
      ? `sops not found (looked for "${bin}" on PATH)`
      : `could not start sops (${code})`,
    'install sops 3.11 or newer (npm run tools installs the pinned one into .tools/bin), or set GITOPS_SECRETS_SOPS',
  );
}

/**
 * sops's stderr, safe to show: any run of 8+ characters that also occurs in what it was given
 * on stdin (a value, its base64) is withheld, and so are long hex strings (a MAC mismatch
 * prints digests of the plaintext values).
 */
export function scrub(stderr: string, input: string | undefined): string {
  let out = stderr.replace(/[0-9a-fA-F]{32,}/g, '[digest withheld]');
  const values = secretsIn(input);
  if (values.length > 0) {
    out = out.replace(/[^\s"'`,;:()[\]{}<>=]{8,}/g, (token) =>
      values.some((v) => v.includes(token)) ? '[withheld]' : token,
    );
  }
  return out;
}

/** The secret parts of what sops was given: a `set` value, or the values under `data:`. */
function secretsIn(input: string | undefined): string[] {
  if (!input) return [];
  if (input.startsWith('"')) {
    try {
      const v = JSON.parse(input) as unknown;
      return typeof v === 'string' ? [v, Buffer.from(v, 'base64').toString('utf8')] : [input];
    } catch {
      return [input];
    }
  }
  const out: string[] = [];
  let inData = false;
  for (const line of input.split('\n')) {
    if (/^\S/.test(line)) inData = /^(data|stringData):/.test(line);
    else if (inData) {
      const m = /^\s+[^:]+:\s*(.+)$/.exec(line);
      // The renderer writes each value as a JSON string: the secret is what is inside the quotes.
      const v = m?.[1]?.replace(/^"(.*)"$/, '$1');
      if (v) out.push(v, Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  return out;
}

/** Builds the user's message from the exit code and sops's stderr; never from stdout or input. */
function toError(
  result: ProcessResult,
  file: string | undefined,
  input: string | undefined,
): ExternalError {
  const where = file ? ` on ${file}` : '';
  if (result.timedOut) {
    return new ExternalError(
      'sops',
      `sops timed out${where}`,
      'check that sops can reach its key service; GITOPS_SECRETS_SOPS_TIMEOUT_MS raises the limit',
    );
  }
  if (result.signal)
    return new ExternalError('sops', `sops was stopped by ${result.signal}${where}`);
  const stderr = scrub(result.stderr.trim(), input);
  const known = result.exitCode !== undefined ? EXIT_CODES[result.exitCode] : undefined;
  const detail = stderr ? `\n  sops said: ${stderr.split('\n').slice(0, 6).join('\n  ')}` : '';
  return new ExternalError(
    'sops',
    `sops failed${where} (exit ${result.exitCode ?? '?'}${known ? `: ${known.what}` : ''})${detail}`,
    known?.remedy,
  );
}
