/**
 * The benchmark (issue 19): the built CLI against the sops floor, on a scratch GitOps repo, with
 * the speed budget printed as PASS/MISS per row.
 *
 *   npm run bench                          # N = 1000: first sync once, the other runs 7 times
 *   npm run bench -- --rounds 3            # first sync too: medians of 3 (floor and tool interleaved)
 *   npm run bench -- --samples 9           # the shorter runs (no-op, rotate, check): 9 times each
 *   npx tsx bench/run.ts --n 20 --samples 1 --out /tmp/r.json [--keep] [--cli other/dist/cli.js]
 *
 * Measures in one run: the sops floor (sops alone encrypting the same N plaintext manifests from
 * stdin, as many in parallel as the tool runs: the cores + 1, or --jobs); the first sync
 * (--no-push); a no-op sync (sops processes counted by a shim on PATH); rotate --force on N/10
 * secrets against the floor of that many files; check at N and at 10×N; the peak RSS of each
 * run; the GitHub API calls of syncs against the loopback test server. Prints the tables and the
 * budget and writes the figures as JSON (default bench/results.json).
 *
 * It drives the CLI from outside (dist/cli.js, environment variables) and imports nothing from
 * src/, so that it measures any build the same way.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { startGitHubServer } from '../test/helpers/github-server.js';
import { CLI, makeScenario, ROOT, TOOLS_BIN } from '../test/helpers/scenario.js';
import { type CliRun, makeSopsShim, runCli, sopsFloor } from './harness.js';
import { type ApiSync, budgetOf, type Floor, formatReport, type Results } from './report.js';
import {
  type BenchSecret,
  benchSecret,
  configText,
  ENCRYPTED_REGEX,
  MAX_CONFIG_BYTES,
  plaintextManifests,
  secretId,
} from './workload.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    out: { type: 'string', default: join(ROOT, 'bench/results.json') },
    /** Rounds of the first sync (and its floor), the long run: ~1 minute each at N = 1,000. */
    rounds: { type: 'string', default: '1' },
    /**
     * Samples of each shorter run (no-op sync, rotate and its floor, check at N and 10×N): a
     * few seconds each; the figures are their medians. One sample of a 2.5 s rotation on a
     * shared 2-core machine moves ±10% from run to run.
     */
    samples: { type: 'string', default: '7' },
    /** Another build of the CLI to measure (e.g. a branch's dist/cli.js), to compare two. */
    cli: { type: 'string', default: CLI },
    keep: { type: 'boolean', default: false },
    /** sops processes at once, for the tool (GITOPS_SECRETS_SOPS_JOBS) and the floor alike. */
    jobs: { type: 'string' },
  },
});
const wholeNumber = (text: string | undefined, name: string, min: number, max = 1e9) => {
  const x = Number(text);
  if (Number.isInteger(x) && x >= min && x <= max) return x;
  console.error(`--${name} must be a whole number from ${min} to ${max}`);
  process.exit(2);
};
const n = wholeNumber(args.n, 'n', 2);
const rounds = wholeNumber(args.rounds, 'rounds', 1);
const samples = wholeNumber(args.samples, 'samples', 1);
/** As the tool reads GITOPS_SECRETS_SOPS_JOBS: 1..64, anything else means the cores + 1. */
const envJobs = Number(process.env.GITOPS_SECRETS_SOPS_JOBS);
const defaultJobs =
  Number.isInteger(envJobs) && envJobs >= 1 && envJobs <= 64 ? envJobs : availableParallelism() + 1;
const parallelism = wholeNumber(args.jobs ?? String(defaultJobs), 'jobs', 1, 64);
const outFile = resolve(args.out);
const log = (line: string) => console.error(`bench: ${line}`);

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
  const counted = { ...base, shim };
  const loadBefore = loadavg()[0] ?? 0;

  const secrets = Array.from({ length: n }, (_, i) => benchSecret(i));
  log(`scratch repo ${s.dir} with ${n} secrets`);
  await s.writeConfig(configText(secrets));
  await s.commitAndPush('bench: config');
  const plaintexts = plaintextManifests(secrets, new Date());
  const floorOptions = {
    sops,
    cwd: s.repo,
    env: s.env,
    encryptedRegex: ENCRYPTED_REGEX,
    concurrency: parallelism,
  };
  const expect = (run: CliRun, codes: number[], what: string) => {
    if (codes.includes(run.exitCode)) return run;
    throw new Error(
      `${what} exited ${run.exitCode} (expected ${codes.join(' or ')}):\n${run.stderr.slice(-4000)}`,
    );
  };

  // Each round measures the floor and then the tool right after it, so that both see the same
  // machine; the ratio is the median of the rounds' ratios.
  const floorRuns: { ms: number; cpuMs: number }[] = [];
  const firstRuns: CliRun[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r > 0) await s.git(['branch', '--quiet', '-D', 'gitops-secrets/sync']);
    log(`sops floor: encrypting ${n} manifests, ${parallelism} at a time${of(r, rounds)}`);
    floorRuns.push(await sopsFloor(plaintexts, floorOptions));
    log(`first sync --no-push${of(r, rounds)}`);
    firstRuns.push(expect(await runCli(['sync', '--no-push', '--json'], base), [0], 'first sync'));
  }
  const floor = floorOf(plaintexts.length, floorRuns);
  const first = medianRun(firstRuns);

  const noopRuns = await repeat('no-op sync --no-push (sops counted by the shim)', async () =>
    expect(await runCli(['sync', '--no-push', '--json'], counted), [0], 'no-op sync'),
  );
  const noop = medianRun(noopRuns);

  // The PR is merged: main now holds the N manifests (check reads the working tree).
  await s.git(['merge', '--ff-only', '--quiet', 'gitops-secrets/sync']);
  await s.git(['push', '--quiet', 'origin', 'main']);

  const checkN = medianRun(
    await repeat(`check at ${n}`, async () =>
      expect(await runCli(['check', '--json'], counted), [0, 3], 'check'),
    ),
  );

  // rotate --force of every 10th secret, each sample right after the floor of those files.
  const picked = secrets.filter((x) => x.index % 10 === 5 % Math.min(10, n));
  const pickedPaths = new Set(picked.map((x) => `secrets/${x.namespace}/${x.name}.yaml`));
  const pickedPlaintexts = plaintexts.filter((p) => pickedPaths.has(p.path));
  const rotateFloorRuns: { ms: number; cpuMs: number }[] = [];
  const rotateRuns: CliRun[] = [];
  const rotateArgs = ['rotate', '--no-push', '--force', '--json'];
  for (const x of picked) rotateArgs.push('--secret', secretId(x));
  for (let r = 0; r < samples; r++) {
    if (r > 0) await s.git(['branch', '--quiet', '-D', 'gitops-secrets/rotate']);
    log(`sops floor: encrypting ${picked.length} manifests${of(r, samples)}`);
    rotateFloorRuns.push(await sopsFloor(pickedPlaintexts, floorOptions));
    log(`rotate --force --no-push, ${picked.length} secrets${of(r, samples)}`);
    rotateRuns.push(expect(await runCli(rotateArgs, base), [0], 'rotate'));
  }
  const rotate = medianRun(rotateRuns);

  // GitHub: syncs that push to the bare remote and open, then update, the PR; then a no-op.
  const ghEnv = {
    ...s.env,
    GITHUB_TOKEN: 'test-token',
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: 'bench/gitops',
  };
  const extra: BenchSecret[] = [];
  const apiSync = async (what: string, grow: boolean): Promise<ApiSync> => {
    if (grow) {
      extra.push(benchSecret(n + extra.length));
      await s.writeConfig(configText([...secrets, ...extra]));
      await s.commitAndPush(`bench: config, one more secret (${what})`);
    }
    log(`sync with a token against the loopback GitHub server (${what})`);
    const before = github.requests.length;
    const run = await runCli(['sync', '--json'], { ...counted, env: ghEnv });
    expect(run, [0], `sync (${what})`);
    const calls = github.requests.slice(before);
    return {
      ...figures(run),
      calls: calls.length,
      operations: calls.map((c) => `${c.method} ${c.operationId ?? c.path} ${c.status ?? ''}`),
      pullRequest: run.json?.pullRequest ?? null,
    };
  };
  const openPr = await apiSync('opens the PR', true);
  const updatePr = await apiSync('updates the PR', true);
  const noopPr = await apiSync('nothing to do', false);

  const big = await checkAt10N(secrets);

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
    },
    cli: resolve(args.cli),
    n,
    keys: secrets.reduce((sum, x) => sum + x.keys.length, 0),
    parallelism,
    rounds,
    samples,
    rssMethod:
      'process.resourceUsage().maxRSS of the gitops-secrets node process at exit (getrusage ru_maxrss; preloaded bench/rss-hook.cjs); sops and git children not included',
    floor,
    firstSync: {
      ...figures(first),
      ratio: median(firstRuns.map((x, r) => x.ms / floorRuns[r]!.ms)),
      samples: firstRuns.map((x) => x.ms),
      files: count(first.json?.changes, 'path'),
    },
    noopSync: {
      ...figures(noop),
      sopsProcesses: Math.max(...noopRuns.map((x) => x.sopsShim ?? Number.NaN)),
      ratio: noop.ms / floor.ms,
      samples: noopRuns.map((x) => x.ms),
      commit: (noop.json?.commit as string | null | undefined) ?? null,
    },
    rotate: {
      ...figures(rotate),
      secrets: picked.length,
      files: count(rotate.json?.changes, 'path'),
      ratio: median(rotateRuns.map((x, r) => x.ms / rotateFloorRuns[r]!.ms)),
      samples: rotateRuns.map((x) => x.ms),
    },
    rotateFloor: floorOf(pickedPlaintexts.length, rotateFloorRuns),
    checkN: { ...figures(checkN), secrets: secretsOf(checkN) ?? n, exitCode: checkN.exitCode },
    check10N: big,
    github: {
      openPr,
      updatePr,
      noop: noopPr,
      maxCalls: Math.max(openPr.calls, updatePr.calls, noopPr.calls),
      violations: [...github.violations],
    },
    budget: [],
  };
  results.budget = budgetOf(results);
  console.log(formatReport(results));
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${outFile}`);

  /** check on a repo of 10×N: copies of the encrypted manifests under new namespaces. */
  async function checkAt10N(originals: BenchSecret[]): Promise<Results['check10N']> {
    const copies: BenchSecret[] = [];
    for (let c = 0; c < 10; c++) for (const x of originals) copies.push(benchSecret(x.index, c));
    const bigConfig = configText(copies, true);
    if (Buffer.byteLength(bigConfig) > MAX_CONFIG_BYTES) {
      log(`check at 10×N skipped: its config is over ${MAX_CONFIG_BYTES} bytes`);
      return null;
    }
    log(`building ${copies.length} manifests for check at 10×N`);
    const dir = join(s.dir, 'big');
    await mkdir(join(dir, 'config'), { recursive: true });
    await cp(join(s.repo, '.sops.yaml'), join(dir, '.sops.yaml'));
    await writeFile(join(dir, 'config/secrets.yaml'), bigConfig);
    const texts = new Map<number, string>();
    for (const x of originals)
      texts.set(
        x.index,
        await readFile(join(s.repo, `secrets/${x.namespace}/${x.name}.yaml`), 'utf8'),
      );
    for (const x of copies) {
      const path = join(dir, `secrets/${x.namespace}/${x.name}.yaml`);
      await mkdir(dirname(path), { recursive: true });
      const text = texts.get(x.index)!.replace(/^(\s+namespace: )\S+$/m, `$1${x.namespace}`);
      await writeFile(path, text);
    }
    const run = medianRun(
      await repeat(`check at ${copies.length}`, async () =>
        expect(
          await runCli(['check', '--json'], { ...counted, cwd: dir }),
          [0, 3],
          'check at 10×N',
        ),
      ),
    );
    return {
      ...figures(run),
      secrets: secretsOf(run) ?? copies.length,
      exitCode: run.exitCode,
      configBytes: Buffer.byteLength(bigConfig),
    };
  }
} finally {
  await github.close();
  if (args.keep) log(`kept ${s.dir}`);
  else await s.cleanup();
}

function of(r: number, total: number): string {
  return total > 1 ? ` (${r + 1} of ${total})` : '';
}

async function repeat(what: string, fn: () => Promise<CliRun>): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (let r = 0; r < samples; r++) {
    log(`${what}${of(r, samples)}`);
    runs.push(await fn());
  }
  return runs;
}

/** A run's figures; sops processes from the shim where it counted, else the tool's own count. */
function figures(run: CliRun) {
  return {
    ms: run.ms,
    cpuMs: run.cpuMs,
    selfCpuMs: run.selfCpuMs,
    sopsProcesses: run.sopsShim ?? Number(run.json?.sopsProcesses ?? Number.NaN),
    rssMb: run.rssMb,
  };
}

function floorOf(files: number, runs: { ms: number; cpuMs: number }[]): Floor {
  return {
    files,
    ms: median(runs.map((x) => x.ms)),
    cpuMs: median(runs.map((x) => x.cpuMs)),
    samples: runs.map((x) => x.ms),
  };
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

function secretsOf(run: CliRun): number | null {
  return typeof run.json?.secrets === 'number' ? run.json.secrets : null;
}

/** Distinct values of a field in a list of rows (e.g. files in the change rows). */
function count(rows: unknown, field: string): number {
  if (!Array.isArray(rows)) return Number.NaN;
  return new Set(rows.map((r) => (r as Record<string, unknown>)[field])).size;
}
