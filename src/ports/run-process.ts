import { spawn } from 'node:child_process';

/**
 * How a child process ended. `spawnError` is set when it could not be started at all (ENOENT,
 * EACCES); `timedOut` when the time limit stopped it.
 */
export interface ProcessResult {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  spawnError: string | undefined;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (an empty stdin when undefined). */
  input: string | undefined;
  /** Milliseconds before the process is sent SIGTERM (and SIGKILL 2 s later). */
  timeoutMs: number;
  /** Bytes of stdout kept at most; beyond that the process is stopped and the run fails. */
  maxBuffer: number;
  /** When it aborts, the process is stopped as on a timeout (the run no longer needs it). */
  signal?: AbortSignal | undefined;
}

/**
 * Runs one process to completion: child_process.spawn with no shell, stdin from `input`,
 * stdout and stderr collected. Much lighter than a general process library on the main thread,
 * which matters when a run starts a thousand sops processes. Never throws: every outcome is in
 * the result. Only the process it started is ever signalled.
 */
export function runProcess(bin: string, args: string[], o: RunOptions): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let timedOut = false;
    let overflow = false;
    let spawnError: string | undefined;
    let killer: NodeJS.Timeout | undefined;
    const child = spawn(bin, args, {
      cwd: o.cwd,
      env: o.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stop = () => {
      if (killer) return;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      killer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, o.timeoutMs);
    const onAbort = () => stop();
    if (o.signal?.aborted) stop();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > o.maxBuffer) {
        if (!overflow) {
          overflow = true;
          stop();
        }
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 256) err.push(chunk);
    });
    // A process that exits without reading its stdin closes the pipe: that is not our error.
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code ?? 'unknown error';
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        spawnError,
        stdout: overflow ? '' : Buffer.concat(out).toString('utf8'),
        stderr: `${Buffer.concat(err).toString('utf8')}${overflow ? `\noutput over ${o.maxBuffer} bytes` : ''}`,
      });
    });
    child.stdin.end(o.input ?? '');
  });
}
