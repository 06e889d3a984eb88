/**
 * Every git command of the tool goes through here: simple-git, configured once, and its errors
 * turned into the project's. Nothing outside src/ports/git*.ts sees simple-git.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import debug from 'debug';
import { GitError, GitPluginError, type SimpleGit, simpleGit } from 'simple-git';
import { ExternalError } from '../errors.js';

// simple-git logs every command with its environment through the `debug` library when DEBUG
// names it (DEBUG=* too): the environment of a push holds the token's header. Its namespaces
// stay off whatever DEBUG says; GIT_TRACE=1 shows what git does, without the environment.
debug.enable([debug.disable(), '-simple-git*'].filter(Boolean).join(','));

/** git is given plenty of time (a fetch of a big repo), but not forever: this long silent. */
const GIT_TIMEOUT_MS = 15 * 60_000;

/**
 * simple-git refuses settings that let whoever controls a command's arguments or environment
 * run programs, unless they are allowed here. The arguments are the tool's own; the environment
 * is the user's shell's (their SSH command, askpass helper, pager, editor, config files and
 * GIT_CONFIG_* settings), which git must see as that shell would, plus the tool's per-command
 * auth header (GIT_CONFIG_COUNT). `--upload-pack`/`--receive-pack` in the arguments
 * (allowUnsafePack) stay refused: a remote name given on the command line cannot carry one.
 */
const USER_ENVIRONMENT = {
  allowUnsafeAlias: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeDiffExternal: true,
  allowUnsafeDiffTextConv: true,
  allowUnsafeEditor: true,
  allowUnsafeFilter: true,
  allowUnsafeFsMonitor: true,
  allowUnsafeGitProxy: true,
  allowUnsafeGpgProgram: true,
  allowUnsafeHooksPath: true,
  allowUnsafeMergeDriver: true,
  allowUnsafePager: true,
  allowUnsafeProtocolOverride: true,
  allowUnsafeSshCommand: true,
  allowUnsafeTemplateDir: true,
};

/**
 * simple-git ends a command when its output closes, but one that printed nothing 50 ms later
 * still (simple-git 3.36, completion-detection.plugin.ts: a fixed delay no setting changes), and
 * many commands print nothing (read-tree, checkout-index, update-ref, an empty log or listing, a
 * config key not set): several of them on the path of every job. So git traces its set-up on
 * stderr (GIT_TRACE_SETUP=2: where the repository and work tree are, never an argument or the
 * environment), and every command has said something by the time it exits. Those lines are
 * removed from what git says on a failure. A GIT_TRACE_SETUP of the user's own is kept.
 */
function traceSetup(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.GIT_TRACE_SETUP ? {} : { GIT_TRACE_SETUP: '2' };
}

/** A line of that trace, ours or (`remote: `) a local remote's; removed from messages. */
const SETUP_TRACE = /^(?:remote: )?\d\d:\d\d:\d\d\.\d+ +\S+:\d+ +setup: .*(?:\n|$)/gm;

/** Any exit but 0 is a failure (simple-git's default lets one that printed nothing succeed). */
function exitIsFailure(
  error: Buffer | Error | undefined,
  result: { exitCode: number; stdErr: Buffer[] },
): Buffer | Error | undefined {
  if (error || result.exitCode === 0) return error;
  const said = Buffer.concat(result.stdErr).toString('utf8').replace(SETUP_TRACE, '').trim();
  return Buffer.from(said || `git exited with code ${result.exitCode}`);
}

/** git commands in one directory with one environment. */
export class GitRunner {
  private readonly git: SimpleGit;

  constructor(
    readonly cwd: string,
    readonly env: NodeJS.ProcessEnv,
    /** Hidden from every message (the auth token and its header form). */
    private readonly secrets: string[] = [],
  ) {
    this.git = this.instance();
  }

  /**
   * One simple-git instance. Its default completion ends a command when its output closes; git
   * always says something first (traceSetup).
   */
  private instance(): SimpleGit {
    return simpleGit({
      baseDir: this.cwd,
      maxConcurrentProcesses: availableParallelism(),
      trimmed: false,
      completion: { onClose: true, onExit: 50 },
      timeout: { block: GIT_TIMEOUT_MS },
      unsafe: USER_ENVIRONMENT,
      errors: exitIsFailure,
    }).env({ ...this.env, ...traceSetup(this.env) });
  }

  /** The same directory, more environment (and more to hide). */
  with(env: NodeJS.ProcessEnv, cwd = this.cwd, secrets: string[] = []): GitRunner {
    return new GitRunner(cwd, { ...this.env, ...env }, [...this.secrets, ...secrets]);
  }

  /** A command's stdout; a failure is simple-git's error, for the caller to read (`failure`). */
  raw(args: string[]): Promise<string> {
    return this.git.raw(args);
  }

  /** A command's stdout; a failure becomes an ExternalError naming `what` failed. */
  async run(args: string[], what = args[0] ?? 'command', remedy?: string): Promise<string> {
    try {
      return await this.git.raw(args);
    } catch (err) {
      throw this.failure(err, what, remedy);
    }
  }

  /** A command's stdout, or undefined when it fails (a ref that does not exist). */
  async attempt(args: string[]): Promise<string | undefined> {
    try {
      return await this.git.raw(args);
    } catch (err) {
      if (missingGit(err)) throw this.failure(err, args[0] ?? 'command');
      return undefined;
    }
  }

  /** A command's stdout as bytes (blobs split by their sizes). */
  async bytes(args: string[], what = args[0] ?? 'command'): Promise<Buffer> {
    const chunks: Buffer[] = [];
    // An instance of its own: the output handler is an instance's, not a command's.
    const git = this.instance().outputHandler((_command, stdout) => {
      stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    });
    try {
      await git.raw(args);
    } catch (err) {
      throw this.failure(err, what);
    }
    return Buffer.concat(chunks);
  }

  /** What git said when a command failed, first lines, without secrets. */
  said(err: unknown): string {
    return this.saidInFull(err).trim().split('\n').slice(0, 4).join('; ');
  }

  /** Everything git said when a command failed, without secrets. */
  saidInFull(err: unknown): string {
    return this.redact((err instanceof Error ? err.message : String(err)).replace(SETUP_TRACE, ''));
  }

  /** Whether git ran and failed (not: it could not start or timed out). */
  ran(err: unknown): boolean {
    return err instanceof GitError && !(err instanceof GitPluginError) && !missingGit(err);
  }

  failure(err: unknown, what: string, remedy?: string): ExternalError {
    if (err instanceof ExternalError) return err;
    if (missingGit(err) && !existsSync(this.cwd))
      return new ExternalError('git', `git ${what} failed: the directory ${this.cwd} is gone`);
    if (missingGit(err)) return new ExternalError('git', 'git not found on PATH', 'install git');
    if (err instanceof GitPluginError && err.plugin === 'timeout')
      return new ExternalError(
        'git',
        `git ${what} timed out: nothing from git for ${GIT_TIMEOUT_MS / 60_000} minutes`,
        remedy,
      );
    return new ExternalError('git', `git ${what} failed: ${this.said(err)}`, remedy);
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret) out = out.split(secret).join('***');
    return out;
  }
}

function missingGit(err: unknown): boolean {
  return err instanceof GitError && /\bspawn \S+ ENOENT\b/.test(err.message);
}

/**
 * Splits arguments into runs that fit on a command line (Linux allows 128 KiB per argument and
 * about 2 MiB for all of them and the environment): a thousand paths are one git process.
 */
export function batches(items: string[], maxChars = 100_000): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length > 0 && size + item.length + 1 > maxChars) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.length + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}
