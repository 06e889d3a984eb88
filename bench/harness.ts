/**
 * How the benchmark runs things: the CLI (wall time, peak RSS, sops processes counted by a shim
 * on PATH) and sops alone (the floor).
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import type { Plaintext } from './workload.js';

/**
 * A `sops` on PATH that appends one byte to a counter file and execs the real sops: the number
 * of processes started is the file's size, whoever started them.
 */
export interface SopsShim {
  dir: string;
  reset(): Promise<void>;
  count(): Promise<number>;
}

export async function makeSopsShim(dir: string, realSops: string): Promise<SopsShim> {
  await mkdir(dir, { recursive: true });
  const counter = join(dir, 'count');
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  await writeFile(
    join(dir, 'sops'),
    `#!/bin/sh\nprintf . >> ${quote(counter)}\nexec ${quote(realSops)} "$@"\n`,
  );
  await chmod(join(dir, 'sops'), 0o755);
  return {
    dir,
    async reset() {
      await rm(counter, { force: true });
    },
    async count() {
      return (await stat(counter).catch(() => undefined))?.size ?? 0;
    },
  };
}

/**
 * CPU time (user + system, ms) of this process's children that have exited and been waited
 * for: /proc/self/stat cutime + cstime. Around a run it gives the CPU the run cost (the CLI
 * and every sops and git it started; or the sops processes of the floor), which, unlike wall
 * time, hardly depends on what else the machine is doing. NaN where /proc is missing.
 */
export function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: the unit of /proc times; 100 on every mainstream Linux. */
const CLOCK_TICKS = 100;

export interface CliRun {
  ms: number;
  /** CPU time of the CLI and everything it started (ms). */
  cpuMs: number;
  /** CPU time of the CLI's own node process (ms). */
  selfCpuMs: number;
  exitCode: number;
  /** Peak RSS of the gitops-secrets node process (MB), or null if it did not report it. */
  rssMb: number | null;
  /** sops processes counted by the shim; null when the run used the real sops directly. */
  sopsShim: number | null;
  json: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
}

const HOOK = join(import.meta.dirname, 'rss-hook.cjs');

export interface CliOptions {
  cli: string;
  cwd: string;
  env: Record<string, string>;
  /** Put the counting shim first on PATH (a few ms per sops process; used where counts matter). */
  shim?: SopsShim;
  scratch: string;
}

let seq = 0;

/** Environment variables the CLI runs without in the benchmark (see runCli). */
const MACHINE_NODE_SETTINGS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'] as const;

/** Runs `node dist/cli.js ARGS` and measures wall time (spawn to exit) and peak RSS. */
export async function runCli(args: string[], o: CliOptions): Promise<CliRun> {
  const rssFile = join(o.scratch, `rss-${++seq}.txt`);
  const env: Record<string, string> = { ...o.env, BENCH_RSS_FILE: rssFile };
  delete env.GITOPS_SECRETS_SOPS;
  // Node settings of the machine, not of the tool: NODE_EXTRA_CA_CERTS (set machine-wide here)
  // makes every Node process parse a CA bundle as it starts, 60-90 ms on this machine, for TLS
  // that no benchmark run uses (the GitHub API is plain HTTP on loopback). The floor's Node
  // process is not timed until it has started, so neither pays it.
  for (const k of MACHINE_NODE_SETTINGS) delete env[k];
  if (o.shim) {
    env.PATH = `${o.shim.dir}:${env.PATH ?? ''}`;
    await o.shim.reset();
  }
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = await execa(process.execPath, ['--require', HOOK, o.cli, ...args], {
    cwd: o.cwd,
    env,
    extendEnv: false,
    reject: false,
    input: '',
    maxBuffer: 512 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  const cpuMs = childrenCpuMs() - cpu0;
  const [rssKb, userUs, systemUs] = (await readFile(rssFile, 'utf8').catch(() => 'NaN NaN NaN'))
    .split(' ')
    .map(Number) as [number, number, number];
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(String(r.stdout)) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return {
    ms,
    cpuMs,
    selfCpuMs: (userUs + systemUs) / 1000,
    exitCode: r.exitCode ?? -1,
    rssMb: Number.isFinite(rssKb) ? rssKb / 1024 : null,
    sopsShim: o.shim ? await o.shim.count() : null,
    json,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

export interface FloorOptions {
  sops: string;
  cwd: string;
  env: Record<string, string>;
  encryptedRegex: string;
  concurrency: number;
}

const FLOOR = join(import.meta.dirname, 'floor.mjs');

/**
 * The sops floor: sops alone encrypting these plaintext manifests from stdin, with the flags
 * the tool passes (`--filename-override`, run from the repo root so `.sops.yaml` applies) and
 * the same parallelism, started from a small separate node process (bench/floor.mjs; the
 * manifests reach it through a pipe). Returns the wall time from the first sops start to the
 * last exit, and the CPU time of the sops processes (ms); the ciphertext is discarded.
 */
export async function sopsFloor(
  files: Plaintext[],
  o: FloorOptions,
): Promise<{ ms: number; cpuMs: number }> {
  const cpu0 = childrenCpuMs();
  const r = await execa(
    process.execPath,
    [FLOOR, o.sops, o.cwd, o.encryptedRegex, String(o.concurrency)],
    { env: o.env, extendEnv: false, input: JSON.stringify(files) },
  );
  const cpu = childrenCpuMs() - cpu0;
  const out = JSON.parse(String(r.stdout)) as { ms: number; selfCpuMs: number };
  return { ms: out.ms, cpuMs: cpu - out.selfCpuMs };
}
