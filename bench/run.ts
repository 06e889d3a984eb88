/**
 * The benchmark (issue 6): gitops-secrets against the sops floor, on a scratch GitOps repo.
 *
 *   npm run bench                          # N = 1000: first sync once, the other runs 7 times
 *   npm run bench -- --n 1000 --rounds 3   # first sync too: medians of 3 (floor and tool interleaved)
 *   npm run bench -- --samples 9           # the shorter runs (no-op, rotate, check): 9 times each
 *   npx tsx bench/run.ts --n 200 --out /tmp/r.json [--keep] [--cli other/dist/cli.js]
 *
 * Measures in one run: the sops floor (sops alone encrypting the same N plaintext manifests from
 * stdin, as many in parallel as the tool runs: the cores, or --jobs); the first sync
 * (--no-push); a no-op sync (sops processes counted by a shim on PATH); rotate --force on N/10
 * secrets against the floor of that many files; check at N and at 10×N; the peak RSS of each
 * run; the GitHub API calls of syncs against the loopback test server. Prints a table and the
 * targets (PASS/MISS) and writes the figures as JSON (default bench/results.json).
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { loadConfig, MAX_CONFIG_BYTES } from '../src/config/load.js';
import { shortLivedGo, sopsJobs } from '../src/ports/sops.js';
import { startGitHubServer } from '../test/helpers/github-server.js';
import { CLI, makeScenario, ROOT, TOOLS_BIN } from '../test/helpers/scenario.js';
import { type CliRun, MACHINE_NODE_SETTINGS, makeSopsShim, runCli, sopsFloor } from './harness.js';
import { formatReport, type Results, targetsOf } from './report.js';
import {
  type BenchSecret,
  benchSecret,
  configText,
  plaintextManifests,
  secretId,
} from './workload.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    out: { type: 'string', default: join(ROOT, 'bench/results.json') },
    /** Rounds of the first sync (and its floors), the long run: ~1 minute each at N = 1,000. */
    rounds: { type: 'string', default: '1' },
    /**
     * Samples of each shorter run (no-op sync, rotate and its floors, check at N and 10×N): a
     * few seconds each; the figures are their medians. One sample of a 2.5 s rotation on a
     * shared 2-core machine moves ±10% from run to run.
     */
    samples: { type: 'string', default: '7' },
    /** Another build of the CLI to measure (e.g. a branch's dist/cli.js), for A/B comparisons. */
    cli: { type: 'string', default: CLI },
    keep: { type: 'boolean', default: false },
    /** sops processes at once, for the tool (GITOPS_SECRETS_SOPS_JOBS) and the floor alike. */
    jobs: { type: 'string' },
  },
});
const n = Number(args.n);
if (!Number.isInteger(n) || n < 2) {
  console.error('--n must be a whole number, at least 2');
  process.exit(2);
}
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('--rounds must be a whole number, at least 1');
  process.exit(2);
}
const samples = Number(args.samples);
if (!Number.isInteger(samples) || samples < 1) {
  console.error('--samples must be a whole number, at least 1');
  process.exit(2);
}
const outFile = resolve(args.out);
const log = (line: string) => console.error(`bench: ${line}`);
const parallelism = args.jobs === undefined ? sopsJobs(process.env) : Number(args.jobs);
if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) {
  console.error('--jobs must be a whole number from 1 to 64');
  process.exit(2);
}

function expectExit(run: CliRun, codes: number[], what: string): void {
  if (codes.includes(run.exitCode)) return;
  throw new Error(
    `${what} exited ${run.exitCode} (expected ${codes.join(' or ')}):\n${run.stderr.slice(-4000)}`,
  );
}

const s = await makeScenario();
s.env.GITOPS_SECRETS_SOPS_JOBS = String(parallelism);
const github = await startGitHubServer({ repos: [{ owner: 'bench', repo: 'gitops' }] });
try {
  const sops = join(TOOLS_BIN, 'sops');
  const sopsVersion = (
    await execa(sops, ['--version', '--disable-version-check'], { env: s.env })
  ).stdout.split('\n')[0];
  const shim = await makeSopsShim(join(s.dir, 'shim'), sops);
  const base = { cli: resolve(args.cli), cwd: s.repo, env: s.env, scratch: s.dir };
  const loadBefore = loadavg()[0] ?? 0;
  const nodeStart = await nodeStartTimes(s.env);
  const counted = { ...base, shim };

  const secrets = Array.from({ length: n }, (_, i) => benchSecret(i));
  log(`scratch repo ${s.dir} with ${n} secrets`);
  await s.writeConfig(configText(secrets));
  await s.commitAndPush('bench: config');
  const config = await loadConfig(join(s.repo, 'config/secrets.yaml'));
  const plaintexts = plaintextManifests(config, new Date());
  const keys = config.secrets.reduce((sum, x) => sum + x.keys.length, 0);
  const floorOptions = {
    sops,
    cwd: s.repo,
    env: s.env,
    encryptedRegex: config.sops.encryptedRegex,
    concurrency: parallelism,
  };
  // The same floor with the Go runtime settings the tool gives its sops processes (GOGC off):
  // what is left between this floor and the tool is the tool's own overhead.
  const sameGo = shortLivedGo(s.env) as Record<string, string>;
  const sameGoOptions = { ...floorOptions, env: { ...s.env, ...sameGo } };

  // Each round measures the floor and then the tool right after it, so that both see the same
  // machine; the ratios are the medians of the rounds' ratios.
  const floorSamples: { ms: number; cpuMs: number }[] = [];
  const sameGoSamples: { ms: number; cpuMs: number }[] = [];
  const firstSamples: CliRun[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r > 0) await s.git(['branch', '--quiet', '-D', 'gitops-secrets/sync']);
    log(`sops floor: encrypting ${n} manifests, ${parallelism} at a time${round(r)}`);
    floorSamples.push(await sopsFloor(plaintexts, floorOptions));
    log(`sops floor with the tool's Go settings${round(r)}`);
    sameGoSamples.push(await sopsFloor(plaintexts, sameGoOptions));
    log(`first sync --no-push${round(r)}`);
    const run = await runCli(['sync', '--no-push', '--json'], base);
    expectExit(run, [0], 'first sync');
    firstSamples.push(run);
  }
  const floorMs = median(floorSamples.map((x) => x.ms));
  const floorCpuMs = median(floorSamples.map((x) => x.cpuMs));
  const first = medianRun(firstSamples);

  const noopSamples: CliRun[] = [];
  for (let r = 0; r < samples; r++) {
    log(`no-op sync --no-push (sops counted by the shim)${sample(r)}`);
    const run = await runCli(['sync', '--no-push', '--json'], counted);
    expectExit(run, [0], 'no-op sync');
    noopSamples.push(run);
  }
  const noop = medianRun(noopSamples);

  // The PR is merged: main now holds the N manifests (check reads the working tree).
  await s.git(['merge', '--ff-only', '--quiet', 'gitops-secrets/sync']);
  await s.git(['push', '--quiet', 'origin', 'main']);

  const checkN = medianRun(
    await repeat(`check at ${n}`, async () => {
      const run = await runCli(['check', '--json'], counted);
      expectExit(run, [0, 3], 'check');
      return run;
    }),
  );

  const picked = secrets.filter((x) => x.index % 10 === 5 % Math.min(10, n));
  const pickedPaths = new Set(picked.map((x) => `secrets/${x.namespace}/${x.name}.yaml`));
  const rotateFloorSamples: { ms: number; cpuMs: number }[] = [];
  const rotateSameGoSamples: { ms: number; cpuMs: number }[] = [];
  const rotateSamples: CliRun[] = [];
  const pickedPlaintexts = plaintexts.filter((p) => pickedPaths.has(p.path));
  for (let r = 0; r < samples; r++) {
    if (r > 0) await s.git(['branch', '--quiet', '-D', 'gitops-secrets/rotate']);
    log(`sops floor: encrypting ${picked.length} manifests${sample(r)}`);
    rotateFloorSamples.push(await sopsFloor(pickedPlaintexts, floorOptions));
    rotateSameGoSamples.push(await sopsFloor(pickedPlaintexts, sameGoOptions));
    log(`rotate --force --no-push, ${picked.length} secrets${sample(r)}`);
    const run = await runCli(
      [
        'rotate',
        '--no-push',
        '--force',
        '--json',
        ...picked.flatMap((x) => ['--secret', secretId(x)]),
      ],
      base,
    );
    expectExit(run, [0], 'rotate');
    rotateSamples.push(run);
  }
  const rotateFloorMs = median(rotateFloorSamples.map((x) => x.ms));
  const rotateFloorCpuMs = median(rotateFloorSamples.map((x) => x.cpuMs));
  const rotate = medianRun(rotateSamples);

  // GitHub: syncs that push to the bare remote and open, then update, the PR; then a no-op.
  const ghEnv = {
    ...s.env,
    GITHUB_TOKEN: 'test-token',
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: 'bench/gitops',
  };
  const extra: BenchSecret[] = [];
  const apiSync = async (what: string, grow: boolean) => {
    if (grow) {
      extra.push(benchSecret(n + extra.length));
      await s.writeConfig(configText([...secrets, ...extra]));
      await s.commitAndPush(`bench: config, one more secret (${what})`);
    }
    log(`sync with a token against the loopback GitHub server (${what})`);
    const before = github.requests.length;
    const run = await runCli(['sync', '--json'], { ...counted, env: ghEnv });
    expectExit(run, [0], `sync (${what})`);
    const calls = github.requests.slice(before);
    return {
      ms: run.ms,
      rssMb: run.rssMb,
      sopsProcesses: run.sopsShim,
      calls: calls.length,
      operations: calls.map((c) => `${c.method} ${c.operationId ?? c.path} ${c.status ?? ''}`),
      pullRequest: run.json?.pullRequest ?? null,
    };
  };
  const openPr = await apiSync('opens the PR', true);
  const updatePr = await apiSync('updates the PR', true);
  const noopPr = await apiSync('nothing to do', false);

  // check at 10×N: copies of the encrypted manifests under new namespaces (check never decrypts).
  const big = join(s.dir, 'big');
  const copies: BenchSecret[] = [];
  for (let c = 0; c < 10; c++) for (let i = 0; i < n; i++) copies.push(benchSecret(i, c));
  const bigConfig = configText(copies, true);
  let check10: CliRun | undefined;
  if (Buffer.byteLength(bigConfig) <= MAX_CONFIG_BYTES) {
    log(`building ${copies.length} manifests for check at 10×N`);
    await mkdir(join(big, 'config'), { recursive: true });
    await cp(join(s.repo, '.sops.yaml'), join(big, '.sops.yaml'));
    await writeFile(join(big, 'config/secrets.yaml'), bigConfig);
    const originals = new Map<number, string>();
    for (const x of secrets)
      originals.set(
        x.index,
        await readFile(join(s.repo, `secrets/${x.namespace}/${x.name}.yaml`), 'utf8'),
      );
    for (const x of copies) {
      const path = join(big, `secrets/${x.namespace}/${x.name}.yaml`);
      await mkdir(dirname(path), { recursive: true });
      const text = originals
        .get(x.index)!
        .replace(/^(\s+namespace: )\S+$/m, (_, lead: string) => `${lead}${x.namespace}`);
      await writeFile(path, text);
    }
    check10 = medianRun(
      await repeat(`check at ${copies.length}`, async () => {
        const run = await runCli(['check', '--json'], { ...counted, cwd: big });
        expectExit(run, [0, 3], 'check at 10×N');
        return run;
      }),
    );
  } else {
    log(`check at 10×N skipped: its config is over ${MAX_CONFIG_BYTES} bytes`);
  }

  const secretsOf = (r: CliRun | undefined) =>
    typeof r?.json?.secrets === 'number' ? r.json.secrets : null;
  const results: Results = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      sops: sopsVersion ?? 'unknown',
      platform: `${process.platform}-${process.arch}`,
      loadAverage: { start: loadBefore, end: loadavg()[0] ?? 0 },
      nodeStart,
    },
    cli: resolve(args.cli),
    n,
    keys,
    parallelism,
    rounds,
    samples,
    rssMethod:
      'process.resourceUsage().maxRSS of the gitops-secrets node process at exit (getrusage ru_maxrss; preloaded bench/rss-hook.cjs); sops and git children not included',
    sameGoFloor: {
      env: sameGo,
      ms: median(sameGoSamples.map((x) => x.ms)),
      cpuMs: median(sameGoSamples.map((x) => x.cpuMs)),
      firstSyncRatio: median(firstSamples.map((x, r) => x.ms / sameGoSamples[r]!.ms)),
      rotateMs: median(rotateSameGoSamples.map((x) => x.ms)),
      rotateRatio: median(rotateSamples.map((x, r) => x.ms / rotateSameGoSamples[r]!.ms)),
    },
    floor: {
      files: plaintexts.length,
      ms: floorMs,
      cpuMs: floorCpuMs,
      samples: floorSamples.map((x) => x.ms),
      cpuSamples: floorSamples.map((x) => x.cpuMs),
    },
    firstSync: {
      ms: first.ms,
      ratio: median(firstSamples.map((x, r) => x.ms / floorSamples[r]!.ms)),
      cpuMs: median(firstSamples.map((x) => x.cpuMs)),
      cpuRatio: median(firstSamples.map((x, r) => x.cpuMs / floorSamples[r]!.cpuMs)),
      selfCpuMs: median(firstSamples.map((x) => x.selfCpuMs)),
      samples: firstSamples.map((x) => x.ms),
      sopsProcesses: Number(first.json?.sopsProcesses ?? Number.NaN),
      files: count(first.json?.changes, 'path'),
      rssMb: first.rssMb,
    },
    noopSync: {
      ms: noop.ms,
      ratio: noop.ms / floorMs,
      cpuMs: noop.cpuMs,
      cpuRatio: noop.cpuMs / floorCpuMs,
      selfCpuMs: noop.selfCpuMs,
      samples: noopSamples.map((x) => x.ms),
      sopsProcesses: Math.max(...noopSamples.map((x) => x.sopsShim ?? Number.NaN)),
      commit: (noop.json?.commit as string | null | undefined) ?? null,
      rssMb: noop.rssMb,
    },
    rotate: {
      secrets: picked.length,
      files: count(rotate.json?.changes, 'path'),
      ms: rotate.ms,
      floorMs: rotateFloorMs,
      ratio: median(rotateSamples.map((x, r) => x.ms / rotateFloorSamples[r]!.ms)),
      cpuMs: median(rotateSamples.map((x) => x.cpuMs)),
      floorCpuMs: rotateFloorCpuMs,
      cpuRatio: median(rotateSamples.map((x, r) => x.cpuMs / rotateFloorSamples[r]!.cpuMs)),
      selfCpuMs: median(rotateSamples.map((x) => x.selfCpuMs)),
      samples: rotateSamples.map((x) => x.ms),
      floorSamples: rotateFloorSamples.map((x) => x.ms),
      sopsProcesses: Number(rotate.json?.sopsProcesses ?? Number.NaN),
      rssMb: rotate.rssMb,
    },
    checkN: {
      secrets: secretsOf(checkN) ?? n,
      ms: checkN.ms,
      cpuMs: checkN.cpuMs,
      selfCpuMs: checkN.selfCpuMs,
      exitCode: checkN.exitCode,
      sopsProcesses: checkN.sopsShim ?? Number.NaN,
      rssMb: checkN.rssMb,
    },
    check10N: check10
      ? {
          secrets: secretsOf(check10) ?? copies.length,
          ms: check10.ms,
          cpuMs: check10.cpuMs,
          selfCpuMs: check10.selfCpuMs,
          exitCode: check10.exitCode,
          sopsProcesses: check10.sopsShim ?? Number.NaN,
          rssMb: check10.rssMb,
          configBytes: Buffer.byteLength(bigConfig),
        }
      : null,
    github: {
      openPr,
      updatePr,
      noop: noopPr,
      maxCalls: Math.max(openPr.calls, updatePr.calls, noopPr.calls),
      violations: [...github.violations],
    },
    targets: [],
  };
  results.targets = targetsOf(results);
  console.log(formatReport(results));
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${outFile}`);
} finally {
  await github.close();
  if (args.keep) log(`kept ${s.dir}`);
  else await s.cleanup();
}

function round(r: number): string {
  return rounds > 1 ? ` (round ${r + 1} of ${rounds})` : '';
}

function sample(r: number): string {
  return samples > 1 ? ` (${r + 1} of ${samples})` : '';
}

async function repeat(what: string, fn: () => Promise<CliRun>): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (let r = 0; r < samples; r++) {
    log(`${what}${sample(r)}`);
    runs.push(await fn());
  }
  return runs;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The run of median time (the lower middle one for an even count); its other figures go along. */
function medianRun(runs: CliRun[]): CliRun {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Distinct values of a field in a list of rows (e.g. files in the change rows). */
function count(rows: unknown, field: string): number {
  if (!Array.isArray(rows)) return Number.NaN;
  return new Set(rows.map((r) => (r as Record<string, unknown>)[field])).size;
}

/** How long `node -e 0` takes as the CLI runs here, and with the machine's own Node settings. */
async function nodeStartTimes(env: Record<string, string>) {
  const time = async (e: Record<string, string>) => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await execa(process.execPath, ['-e', '0'], { env: e, extendEnv: false });
      samples.push(performance.now() - t0);
    }
    return median(samples);
  };
  const bare = { ...env };
  for (const k of MACHINE_NODE_SETTINGS) delete bare[k];
  return {
    ms: await time(bare),
    withMachineSettingsMs: await time(env),
    machineSettings: MACHINE_NODE_SETTINGS.filter((k) => env[k] !== undefined),
  };
}
