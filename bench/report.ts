/** The benchmark's figures, its targets (issue 6) and the table it prints. */

export interface ApiSync {
  ms: number;
  rssMb: number | null;
  sopsProcesses: number | null;
  calls: number;
  operations: string[];
  pullRequest: unknown;
}

export interface CheckFigures {
  secrets: number;
  ms: number;
  cpuMs: number;
  selfCpuMs: number;
  exitCode: number;
  sopsProcesses: number;
  rssMb: number | null;
}

export interface Target {
  name: string;
  limit: string;
  value: string;
  pass: boolean;
}

export interface Results {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGb: number;
    node: string;
    sops: string;
    platform: string;
    /** 1-minute load average when the run started and ended (other work on the machine). */
    loadAverage: { start: number; end: number };
    /**
     * `node -e 0`, median of 5: as the CLI runs in the benchmark, and with the machine's own
     * Node settings (MACHINE_NODE_SETTINGS in harness.ts), which the CLI runs without.
     */
    nodeStart: { ms: number; withMachineSettingsMs: number; machineSettings: string[] };
  };
  cli: string;
  n: number;
  keys: number;
  parallelism: number;
  rounds: number;
  /** Samples of the shorter runs (no-op, rotate, check); their figures are medians. */
  samples: number;
  rssMethod: string;
  floor: { files: number; ms: number; cpuMs: number; samples: number[]; cpuSamples: number[] };
  /**
   * The floors again with the Go runtime settings the tool gives sops (`env`), and the tool's
   * ratios to them: its own overhead, apart from what those settings save.
   */
  sameGoFloor: {
    env: Record<string, string>;
    ms: number;
    cpuMs: number;
    firstSyncRatio: number;
    rotateMs: number;
    rotateRatio: number;
  };
  firstSync: {
    ms: number;
    ratio: number;
    cpuMs: number;
    cpuRatio: number;
    /** CPU time of the gitops-secrets node process alone; the rest went to sops and git. */
    selfCpuMs: number;
    samples: number[];
    sopsProcesses: number;
    files: number;
    rssMb: number | null;
  };
  noopSync: {
    ms: number;
    ratio: number;
    cpuMs: number;
    cpuRatio: number;
    /** CPU time of the gitops-secrets node process alone; the rest went to sops and git. */
    selfCpuMs: number;
    samples: number[];
    sopsProcesses: number;
    commit: string | null;
    rssMb: number | null;
  };
  rotate: {
    secrets: number;
    files: number;
    ms: number;
    floorMs: number;
    ratio: number;
    cpuMs: number;
    floorCpuMs: number;
    cpuRatio: number;
    /** CPU time of the gitops-secrets node process alone; the rest went to sops and git. */
    selfCpuMs: number;
    samples: number[];
    floorSamples: number[];
    sopsProcesses: number;
    rssMb: number | null;
  };
  checkN: CheckFigures;
  check10N: (CheckFigures & { configBytes: number }) | null;
  github: {
    openPr: ApiSync;
    updatePr: ApiSync;
    noop: ApiSync;
    maxCalls: number;
    violations: string[];
  };
  targets: Target[];
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const ratio = (r: number) => `${r.toFixed(r < 0.1 ? 3 : 2)}×`;
/** CPU time of a run, with the share of the gitops-secrets process itself. */
const cpu = (x: { cpuMs: number; selfCpuMs: number }) =>
  `${secs(x.cpuMs)} (node ${secs(x.selfCpuMs)})`;
const mb = (x: number | null) => (x === null ? '–' : `${Math.round(x)} MB`);

const goSettings = (r: Results) =>
  Object.entries(r.sameGoFloor.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || 'none';

/** The targets of issue 6 (set for N = 1,000 on 2 cores; check and RSS at 10×N = 10,000). */
export function targetsOf(r: Results): Target[] {
  const c10 = r.check10N;
  const big = c10 ? int(c10.secrets) : `${int(r.n * 10)} (not run)`;
  return [
    {
      name: 'no-op sync starts no sops process (shim count)',
      limit: '0',
      value: String(r.noopSync.sopsProcesses),
      pass: r.noopSync.sopsProcesses === 0,
    },
    {
      name: 'no-op sync time / floor',
      limit: '≤ 0.05×',
      value: ratio(r.noopSync.ratio),
      pass: r.noopSync.ratio <= 0.05,
    },
    {
      name: 'first sync time / floor',
      limit: '≤ 1.10×',
      value: ratio(r.firstSync.ratio),
      pass: r.firstSync.ratio <= 1.1,
    },
    {
      name: `rotate ${int(r.rotate.secrets)} secrets / floor of ${int(r.rotate.secrets)} files`,
      limit: '≤ 1.20×',
      value: ratio(r.rotate.ratio),
      pass: r.rotate.ratio <= 1.2,
    },
    {
      name: `check at ${big} secrets`,
      limit: '≤ 2 s',
      value: c10 ? secs(c10.ms) : 'not run',
      pass: !!c10 && c10.ms <= 2000,
    },
    {
      name: `peak RSS of check at ${big} secrets`,
      limit: '≤ 300 MB',
      value: c10 ? mb(c10.rssMb) : 'not run',
      pass: !!c10 && c10.rssMb !== null && c10.rssMb <= 300,
    },
    {
      name: 'GitHub API calls per sync (most of open, update, no-op)',
      limit: '≤ 5',
      value: String(r.github.maxCalls),
      pass: r.github.maxCalls <= 5,
    },
  ];
}

/** The table (Markdown, so it can go into the README as printed) and the targets. */
export function formatReport(r: Results): string {
  const m = r.machine;
  const gh = r.github;
  const lines = [
    `gitops-secrets benchmark: N = ${int(r.n)} secrets (${int(r.keys)} keys), ${m.cores} cores (${m.cpu}), ${m.sops}, Node ${m.node}; first sync: ${r.rounds > 1 ? `medians of ${r.rounds} rounds` : 'one round'}; no-op sync, rotate and check: medians of ${r.samples}`,
    '',
    '| run | time | vs sops floor | CPU time | CPU vs floor | sops processes | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| sops floor: encrypt ${int(r.floor.files)} manifests from stdin, ${r.parallelism} at a time | ${secs(r.floor.ms)} | 1.00× | ${secs(r.floor.cpuMs)} | 1.00× | ${int(r.floor.files)} | – |`,
    `| sync, first run (\`--no-push\`), ${int(r.firstSync.files)} files | ${secs(r.firstSync.ms)} | ${ratio(r.firstSync.ratio)} | ${cpu(r.firstSync)} | ${ratio(r.firstSync.cpuRatio)} | ${int(r.firstSync.sopsProcesses)} | ${mb(r.firstSync.rssMb)} |`,
    `| sync, nothing to do | ${secs(r.noopSync.ms)} | ${ratio(r.noopSync.ratio)} | ${cpu(r.noopSync)} | ${ratio(r.noopSync.cpuRatio)} | ${int(r.noopSync.sopsProcesses)} | ${mb(r.noopSync.rssMb)} |`,
    `| sops floor: encrypt ${int(r.rotate.secrets)} manifests | ${secs(r.rotate.floorMs)} | 1.00× | ${secs(r.rotate.floorCpuMs)} | 1.00× | ${int(r.rotate.secrets)} | – |`,
    `| rotate \`--force\`, ${int(r.rotate.secrets)} secrets (10%) | ${secs(r.rotate.ms)} | ${ratio(r.rotate.ratio)} | ${cpu(r.rotate)} | ${ratio(r.rotate.cpuRatio)} | ${int(r.rotate.sopsProcesses)} | ${mb(r.rotate.rssMb)} |`,
    `| check, ${int(r.checkN.secrets)} secrets | ${secs(r.checkN.ms)} | – | ${cpu(r.checkN)} | – | ${int(r.checkN.sopsProcesses)} | ${mb(r.checkN.rssMb)} |`,
    r.check10N
      ? `| check, ${int(r.check10N.secrets)} secrets | ${secs(r.check10N.ms)} | – | ${cpu(r.check10N)} | – | ${int(r.check10N.sopsProcesses)} | ${mb(r.check10N.rssMb)} |`
      : `| check, ${int(r.n * 10)} secrets | not run: config over 1 MiB | – | – | – | – | – |`,
    '',
    `| the tool against sops with its Go settings (${goSettings(r)}) | floor | tool | ratio |`,
    '| --- | ---: | ---: | ---: |',
    `| first sync, ${int(r.firstSync.files)} files | ${secs(r.sameGoFloor.ms)} | ${secs(r.firstSync.ms)} | ${ratio(r.sameGoFloor.firstSyncRatio)} |`,
    `| rotate \`--force\`, ${int(r.rotate.secrets)} secrets | ${secs(r.sameGoFloor.rotateMs)} | ${secs(r.rotate.ms)} | ${ratio(r.sameGoFloor.rotateRatio)} |`,
    '',
    '| sync with a token, loopback GitHub API | time | GitHub API calls | sops processes | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...(
      [
        ['pushes, opens the PR', gh.openPr],
        ['pushes, updates the PR', gh.updatePr],
        ['nothing to do', gh.noop],
      ] as const
    ).map(
      ([what, x]) =>
        `| ${what} | ${secs(x.ms)} | ${x.calls} | ${x.sopsProcesses ?? '–'} | ${mb(x.rssMb)} |`,
    ),
    '',
    '| target (issue 6) | limit | result | |',
    '| --- | --- | ---: | --- |',
    ...r.targets.map(
      (t) => `| ${t.name} | ${t.limit} | ${t.value} | ${t.pass ? 'PASS' : 'MISS'} |`,
    ),
  ];
  lines.push(
    '',
    "Times: wall clock of the whole command, spawn to exit. CPU time: user + system of the command and of every process it started (for the floor: of the sops processes); in brackets the gitops-secrets node process alone. Ratios: to sops alone (as installed, default Go runtime settings) encrypting as many files from stdin with the same parallelism, measured right before. The tool runs sops with Go's garbage collector off (short-lived processes; see src/ports/sops.ts); the second table compares it with a floor that does the same, which leaves only the tool's own overhead. The targets are on wall time; CPU ratios hardly depend on other load on the machine. sops processes: the tool's own count for the first sync and rotate (which run the real sops), a counting shim on PATH for the others. Peak RSS: ru_maxrss of the gitops-secrets process (sops and git not included).",
  );
  const ns = m.nodeStart;
  lines.push(
    ns.machineSettings.length > 0
      ? `Node itself starts in ${ns.ms.toFixed(0)} ms here (\`node -e 0\`); the CLI runs without this machine's ${ns.machineSettings.join(', ')}, with which it takes ${ns.withMachineSettingsMs.toFixed(0)} ms.`
      : `Node itself starts in ${ns.ms.toFixed(0)} ms here (\`node -e 0\`).`,
  );
  lines.push(
    `Load average (1 min) at start and end: ${m.loadAverage.start.toFixed(1)}, ${m.loadAverage.end.toFixed(1)} on ${m.cores} cores.`,
  );
  if (gh.violations.length > 0)
    lines.push('', `GitHub API schema violations: ${gh.violations.join('; ')}`);
  if (r.n !== 1000)
    lines.push('', `(The targets are set for N = 1,000; this run used N = ${r.n}.)`);
  return lines.join('\n');
}
