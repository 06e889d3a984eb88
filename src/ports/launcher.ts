import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { lazyBuiltin } from '../builtin.js';
import { type ProcessResult, type RunOptions, runProcess } from './run-process.js';

/**
 * Starts sops and git processes from small POSIX shells instead of from this process.
 *
 * Node's `spawn` forks this whole process and waits until the child has exec'd: with the
 * config, the manifests and the plan in memory that blocks the thread that starts every sops
 * process for ~3.9 ms each, against ~2.3 ms from a small node process and a fraction of a
 * millisecond from `/bin/sh` (measured over 100 encryptions). A launcher is one `/bin/sh`
 * started by `spawn` that runs its jobs one after the other: up to six with input, each on a
 * stdin of its own, and any number without: one spawn from here per six encryptions.
 *
 * Plaintext still goes only to sops's stdin: each job's stdin is a socket of its own that this
 * process writes and sops reads; the shell holds it and never reads it. sops's stdout and stderr
 * are the launcher's, which it shares with its jobs one after the other: after each job it
 * writes a mark (a newline and a random token) to both, and the job's exit status after the one
 * on stdout, so every job's output is known to be complete without waiting for an end of file.
 *
 * The shell knows only file descriptors 0 to 9 (dash), hence six jobs with input per launcher
 * (a job without one reads /dev/null and takes no descriptor):
 *   0 the jobs (one line each: its number, its stdin descriptor or -, the command's words quoted);
 *   1 the job's stdout, then the mark and the exit status; 2 its stderr, then the mark;
 *   3 each job's number and process id, so that a timeout stops the process itself, by its id;
 *   4-9 each job's stdin.
 */
const SCRIPT = `bin=$1 mark=$GITOPS_SECRETS_MARK
unset GITOPS_SECRETS_MARK
while read -r n fd line; do
  eval "set -- $line"
  case $fd in
  -) "$bin" "$@" </dev/null & ;;
  [4-9]) "$bin" "$@" <&$fd & ;;
  *) exit 70 ;;
  esac
  echo "$n $!" >&3
  wait "$!"
  code=$?
  case $fd in [4-9]) eval "exec $fd<&-" ;; esac
  printf '\\n%s %s\\n' "$mark" "$code"
  printf '\\n%s\\n' "$mark" >&2
done
`;
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
const FIRST_FD = 4;
const LAST_FD = 9;

/** A word for the shell's `eval`: quoted whole, each ' closed, escaped and reopened. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

interface Job {
  /** Its number in its launcher, which names it in the process id lines. */
  serial: number;
  /** Its stdin: descriptor 4 to 9 of its launcher, or none (/dev/null) for a job without input. */
  fd: number | undefined;
  bin: string;
  args: string[];
  options: RunOptions;
  resolve: (result: ProcessResult) => void;
  out: Buffer[];
  outBytes: number;
  err: Buffer[];
  code: number | undefined;
  errDone: boolean;
  pid: number | undefined;
  sent: NodeJS.Signals | undefined;
  timedOut: boolean;
  overflow: boolean;
  timer: NodeJS.Timeout | undefined;
  killer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
}

interface Launcher {
  /** Its working directory and binary: an idle launcher is kept under this key. */
  key: string;
  child: ChildProcess;
  /** The next stdin descriptor to hand out; past LAST_FD the launcher takes no more jobs. */
  next: number;
  /** Jobs given to it so far. */
  jobs: number;
  job: Job | undefined;
  dead: boolean;
}

export interface Launch {
  /** Runs `bin args` as runProcess does, through a launcher when there is one to use. */
  run(bin: string, args: string[], options: RunOptions): Promise<ProcessResult>;
  /** Starts an idle launcher for jobs to come in `cwd`, unless one is idle there already. */
  warm(cwd: string, bin: string): void;
}

/**
 * Launchers for one environment, each started in the working directory and for the binary of its
 * jobs. Falls back to runProcess for a job with another environment, a command the shell line
 * cannot carry (a newline in a word), on Windows, and once a shell could not be started at all.
 */
export function createLauncher(env: NodeJS.ProcessEnv, choice?: string | null): Launch {
  const shell = choice === undefined ? (process.platform === 'win32' ? null : '/bin/sh') : choice;
  // A shell that imports functions from the environment (bash's BASH_FUNC_*) must not have
  // `read` or `wait` replaced; sops does not need them either.
  const shellEnv = Object.fromEntries(
    Object.entries(env).filter(([k]) => !k.startsWith('BASH_FUNC_')),
  );
  let broken = shell === null;
  const idle = new Map<string, Launcher[]>();

  const start = (key: string, cwd: string, bin: string): Launcher => {
    // The end of a job's output: a newline and a random token of this shell's, which no output
    // holds by chance.
    const mark = crypto().randomBytes(12).toString('hex');
    // In the environment, which only this user can read, not in the argv, which anyone can.
    const child = spawn(shell as string, ['-c', SCRIPT, 'gitops-secrets-launcher', bin], {
      cwd,
      env: { ...shellEnv, GITOPS_SECRETS_MARK: mark },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const l: Launcher = { key, child, next: FIRST_FD, jobs: 0, job: undefined, dead: false };
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    const pids = child.stdio[3] as Readable;
    const outFrames = frames(Buffer.from(`\n${mark} `, 'latin1'));
    const errFrames = frames(Buffer.from(`\n${mark}\n`, 'latin1'));
    let status: string | undefined;
    stdout.on('data', (chunk: Buffer) => {
      const job = l.job;
      if (!job) return;
      if (status === undefined) {
        const { body, rest } = outFrames(chunk);
        if (body.length > 0) keep(job, body);
        if (!rest) return;
        status = rest.toString('latin1');
      } else status += chunk.toString('latin1');
      const nl = status.indexOf('\n');
      if (nl < 0) return;
      job.code = Number(status.slice(0, nl));
      status = undefined;
      if (job.errDone) finish(l, job);
    });
    stderr.on('data', (chunk: Buffer) => {
      const job = l.job;
      if (!job || job.errDone) return;
      const { body, rest } = errFrames(chunk);
      if (job.err.length < 256 && body.length > 0) job.err.push(body);
      if (!rest) return;
      job.errDone = true;
      if (job.code !== undefined) finish(l, job);
    });
    // "N PID" lines: a job's id may come after its end (another socket), even after the next
    // job has started, so each names its job.
    let ids = '';
    pids.on('data', (chunk: Buffer) => {
      ids += chunk.toString('latin1');
      let nl = ids.indexOf('\n');
      while (nl >= 0) {
        const [n, pid] = ids.slice(0, nl).split(' ');
        ids = ids.slice(nl + 1);
        nl = ids.indexOf('\n');
        const job = l.job;
        if (!job || job.serial !== Number(n)) continue;
        job.pid = Number(pid);
        if (job.sent) signal(job, job.sent);
      }
    });
    for (let fd = FIRST_FD; fd <= LAST_FD; fd++) {
      // A sops that exits without reading its stdin closes it: not an error of this process.
      (child.stdio[fd] as Writable).on('error', () => undefined);
    }
    (child.stdin as Writable).on('error', () => undefined);
    child.on('error', () => {
      // The shell could not be started: this job and every later one start sops directly.
      broken = true;
      const job = l.job;
      l.job = undefined;
      died(l);
      if (!job) return;
      settle(job);
      runProcess(job.bin, job.args, job.options).then(job.resolve);
    });
    child.on('exit', () => died(l));
    return l;
  };

  const keep = (job: Job, chunk: Buffer) => {
    job.outBytes += chunk.length;
    if (job.outBytes > job.options.maxBuffer) {
      if (!job.overflow) {
        job.overflow = true;
        stop(job);
      }
      return;
    }
    job.out.push(chunk);
  };

  const signal = (job: Job, sig: NodeJS.Signals) => {
    job.sent = sig;
    if (job.pid === undefined) return;
    try {
      process.kill(job.pid, sig);
    } catch {
      // it has exited already
    }
  };

  const stop = (job: Job) => {
    if (job.killer) return;
    signal(job, 'SIGTERM');
    job.killer = setTimeout(() => signal(job, 'SIGKILL'), 2_000);
    job.killer.unref();
  };

  /** A job's timers and abort listener are done with once it has a result. */
  const settle = (job: Job) => {
    clearTimeout(job.timer);
    clearTimeout(job.killer);
    if (job.onAbort) job.options.signal?.removeEventListener('abort', job.onAbort);
  };

  const finish = (l: Launcher, job: Job) => {
    l.job = undefined;
    settle(job);
    const stderr = Buffer.concat(job.err).toString('utf8');
    let exitCode: number | undefined = job.code;
    let sig: string | undefined;
    let spawnError: string | undefined;
    // The shell reports a process ended by signal N as 128 + N, and one it could not start as
    // 127 (not found) or 126 (not executable). sops's own exit codes are none of these; git's
    // are 128 (fatal) and 129 (usage), so SIGHUP (129) is taken for an exit code.
    if (exitCode !== undefined && exitCode > 129 && exitCode < 128 + 65) {
      sig = job.sent ?? signalName(exitCode - 128);
      exitCode = undefined;
    } else if (exitCode === 127 && /not found/.test(stderr)) spawnError = 'ENOENT';
    else if (exitCode === 126) spawnError = 'EACCES';
    job.resolve({
      exitCode,
      signal: sig,
      timedOut: job.timedOut,
      spawnError,
      stdout: job.overflow ? '' : Buffer.concat(job.out).toString('utf8'),
      stderr: `${stderr}${job.overflow ? `\noutput over ${job.options.maxBuffer} bytes` : ''}`,
    });
    if (l.dead) return;
    if (l.next > LAST_FD) {
      (l.child.stdin as Writable).end();
      return;
    }
    rest(l, true);
    idle.get(l.key)?.push(l);
  };

  const died = (l: Launcher) => {
    if (l.dead) return;
    l.dead = true;
    for (const list of idle.values()) {
      const at = list.indexOf(l);
      if (at >= 0) list.splice(at, 1);
    }
    const job = l.job;
    if (!job) return;
    l.job = undefined;
    settle(job);
    job.resolve({
      exitCode: undefined,
      signal: job.sent,
      timedOut: job.timedOut,
      spawnError: undefined,
      stdout: '',
      stderr: `${Buffer.concat(job.err).toString('utf8')}\nthe shell that started ${job.bin.split('/').pop()} (${shell}) exited`,
    });
  };

  /** An idle launcher lets this process exit; a busy one keeps it alive until its job ends. */
  const rest = (l: Launcher, resting: boolean) => {
    for (const s of l.child.stdio) {
      const socket = s as (Readable & { ref?: () => void; unref?: () => void }) | null;
      if (resting) socket?.unref?.();
      else socket?.ref?.();
    }
    if (resting) l.child.unref();
    else l.child.ref();
  };

  const idleFor = (key: string): Launcher[] => {
    let list = idle.get(key);
    if (!list) {
      list = [];
      idle.set(key, list);
    }
    return list;
  };

  /** Starts a launcher that waits, idle, for the jobs to come under `key`. */
  const startIdle = (key: string, cwd: string, bin: string, list: Launcher[]) => {
    const l = start(key, cwd, bin);
    rest(l, true);
    list.push(l);
  };

  const take = (cwd: string, bin: string, withInput: boolean): Launcher => {
    const key = `${cwd}\0${bin}`;
    const list = idleFor(key);
    const l = list.pop() ?? start(key, cwd, bin);
    // The last job with input of this launcher: the next one is started now, while it runs.
    if (withInput && l.next === LAST_FD && list.length === 0) startIdle(key, cwd, bin, list);
    return l;
  };

  return {
    warm(cwd, bin) {
      const key = `${cwd}\0${bin}`;
      const list = idleFor(key);
      if (!broken && list.length === 0) startIdle(key, cwd, bin, list);
    },
    run(bin, args, options) {
      // A launcher's environment is the one it was made with: a job with another starts directly.
      if (broken || options.env !== env || args.some((a) => a.includes('\n')) || bin.includes('\n'))
        return runProcess(bin, args, options);
      const withInput = options.input !== undefined && options.input !== '';
      const l = take(options.cwd, bin, withInput);
      rest(l, false);
      const fd = withInput ? l.next++ : undefined;
      return new Promise((resolve) => {
        const job: Job = {
          serial: l.jobs++,
          fd,
          bin,
          args,
          options,
          resolve,
          out: [],
          outBytes: 0,
          err: [],
          code: undefined,
          errDone: false,
          pid: undefined,
          sent: undefined,
          timedOut: false,
          overflow: false,
          timer: undefined,
          killer: undefined,
          onAbort: undefined,
        };
        l.job = job;
        job.timer = setTimeout(() => {
          job.timedOut = true;
          stop(job);
        }, options.timeoutMs);
        if (options.signal) {
          job.onAbort = () => stop(job);
          if (options.signal.aborted) stop(job);
          else options.signal.addEventListener('abort', job.onAbort, { once: true });
        }
        if (fd !== undefined) (l.child.stdio[fd] as Writable).end(options.input);
        (l.child.stdin as Writable).write(
          `${job.serial} ${fd ?? '-'} ${args.map(quote).join(' ')}\n`,
        );
      });
    },
  };
}

/**
 * Splits a stream at `mark`: each call takes the next chunk and returns the bytes known to come
 * before the mark, and once the mark has come, what follows it. The last bytes of a chunk that
 * could begin the mark are held back until the next one.
 */
function frames(mark: Buffer): (chunk: Buffer) => { body: Buffer; rest: Buffer | undefined } {
  let carry: Buffer | undefined;
  return (chunk) => {
    const joined = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = undefined;
    const at = joined.indexOf(mark);
    if (at >= 0) return { body: joined.subarray(0, at), rest: joined.subarray(at + mark.length) };
    const keepFrom = Math.max(0, joined.length - (mark.length - 1));
    if (keepFrom < joined.length) carry = Buffer.from(joined.subarray(keepFrom));
    return { body: joined.subarray(0, keepFrom), rest: undefined };
  };
}

function signalName(n: number): string {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name;
  return `signal ${n}`;
}
