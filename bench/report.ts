/** The benchmark's figures, the speed budget of issue 19 and the tables it prints. */

/** One run of the CLI, as reported (a median run where there were samples). */
export interface RunFigures {
  ms: number;
  /** CPU time (user + system) of the command and every process it started. */
  cpuMs: number;
  /** CPU time of the gitops-secrets node process alone; the rest went to sops and git. */
  selfCpuMs: number;
  /** sops processes started: the tool's own count, or the shim's (see run.ts). */
  sopsProcesses: number;
  /** Peak RSS of the gitops-secrets node process (sops and git not included). */
  rssMb: number | null;
}

export interface ApiSync extends RunFigures {
  calls: number;
  operations: string[];
  pullRequest: unknown;
}

export interface Floor {
  files: number;
  ms: number;
  cpuMs: number;
  samples: number[];
}

export interface BudgetRow {
  measure: string;
  budget: string;
  result: string;
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
  };
  cli: string;
  n: number;
  keys: number;
  parallelism: number;
  rounds: number;
  /** Samples of the shorter runs (no-op, rotate, check); their figures are medians. */
  samples: number;
  rssMethod: string;
  /** sops alone encrypting the N manifests from stdin, `parallelism` at a time. */
  floor: Floor;
  firstSync: RunFigures & { ratio: number; samples: number[]; files: number };
  noopSync: RunFigures & { ratio: number; samples: number[]; commit: string | null };
  rotate: RunFigures & { secrets: number; files: number; ratio: number; samples: number[] };
  /** sops alone encrypting the rotated secrets' manifests. */
  rotateFloor: Floor;
  checkN: RunFigures & { secrets: number; exitCode: number };
  check10N: (RunFigures & { secrets: number; exitCode: number; configBytes: number }) | null;
  github: {
    openPr: ApiSync;
    updatePr: ApiSync;
    noop: ApiSync;
    maxCalls: number;
    violations: string[];
  };
  budget: BudgetRow[];
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const ratio = (r: number) => `${r.toFixed(r < 0.1 ? 3 : 2)}×`;
const mb = (x: number | null) => (x === null ? '–' : `${Math.round(x)} MB`);
/** CPU time of a run, with the share of the gitops-secrets process itself. */
const cpu = (x: RunFigures) => `${secs(x.cpuMs)} (node ${secs(x.selfCpuMs)})`;

/** The budget of issue 19 (set for N = 1,000 on 2 cores; check at 10×N = 10,000). */
export function budgetOf(r: Results): BudgetRow[] {
  const c10 = r.check10N;
  const rss10 = c10?.rssMb ?? null;
  return [
    {
      measure: `first sync, N=${int(r.n)}`,
      budget: '≤ 1.25× floor',
      result: ratio(r.firstSync.ratio),
      pass: r.firstSync.ratio <= 1.25,
    },
    {
      measure: `no-op sync, N=${int(r.n)}`,
      budget: '0 sops processes, ≤ 0.1× floor',
      result: `${r.noopSync.sopsProcesses} sops, ${ratio(r.noopSync.ratio)}`,
      pass: r.noopSync.sopsProcesses === 0 && r.noopSync.ratio <= 0.1,
    },
    {
      measure: `rotate ${int(r.rotate.secrets)} of ${int(r.n)}`,
      budget: `≤ 1.5× the floor of those ${int(r.rotate.secrets)}`,
      result: ratio(r.rotate.ratio),
      pass: r.rotate.ratio <= 1.5,
    },
    {
      measure: `\`check\`, N=${c10 ? int(c10.secrets) : `${int(r.n * 10)} (not run: config over 1 MiB)`}`,
      budget: '≤ 5 s, RSS ≤ 300 MB',
      result: c10 ? `${secs(c10.ms)}, ${mb(rss10)}` : 'not run',
      pass: !!c10 && c10.ms <= 5000 && rss10 !== null && rss10 <= 300,
    },
    {
      measure: 'GitHub API calls per sync',
      budget: '≤ 5',
      result: `${r.github.maxCalls} (open ${r.github.openPr.calls}, update ${r.github.updatePr.calls}, no-op ${r.github.noop.calls})`,
      pass: r.github.maxCalls <= 5,
    },
  ];
}

/** The budget table alone (Markdown), as docs/performance.md shows it. */
export function formatBudget(rows: BudgetRow[]): string[] {
  return [
    '| measure | budget | result | |',
    '| --- | --- | ---: | --- |',
    ...rows.map(
      (b) => `| ${b.measure} | ${b.budget} | ${b.result} | ${b.pass ? 'PASS' : 'MISS'} |`,
    ),
  ];
}

/** The figures, then the budget with PASS or MISS per row (Markdown). */
export function formatReport(r: Results): string {
  const m = r.machine;
  const gh = r.github;
  const row = (what: string, x: RunFigures, vsFloor: string) =>
    `| ${what} | ${secs(x.ms)} | ${vsFloor} | ${cpu(x)} | ${int(x.sopsProcesses)} | ${mb(x.rssMb)} |`;
  const floorRow = (what: string, f: Floor) =>
    `| ${what} | ${secs(f.ms)} | 1.00× | ${secs(f.cpuMs)} | ${int(f.files)} | – |`;
  const lines = [
    `gitops-secrets benchmark: N = ${int(r.n)} secrets (${int(r.keys)} keys), ${m.cores} cores (${m.cpu}), ${m.sops}, Node ${m.node}; first sync: ${r.rounds > 1 ? `medians of ${r.rounds} rounds` : 'one round'}; no-op sync, rotate and check: medians of ${r.samples}`,
    '',
    '| run | time | vs sops floor | CPU time | sops processes | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    floorRow(
      `sops floor: encrypt ${int(r.floor.files)} manifests from stdin, ${r.parallelism} at a time`,
      r.floor,
    ),
    row(
      `sync, first run (\`--no-push\`), ${int(r.firstSync.files)} files`,
      r.firstSync,
      ratio(r.firstSync.ratio),
    ),
    row('sync, nothing to do', r.noopSync, ratio(r.noopSync.ratio)),
    floorRow(`sops floor: encrypt ${int(r.rotate.secrets)} manifests`, r.rotateFloor),
    row(`rotate \`--force\`, ${int(r.rotate.secrets)} secrets`, r.rotate, ratio(r.rotate.ratio)),
    row(`check, ${int(r.checkN.secrets)} secrets`, r.checkN, '–'),
    r.check10N
      ? row(`check, ${int(r.check10N.secrets)} secrets`, r.check10N, '–')
      : `| check, ${int(r.n * 10)} secrets | not run: config over 1 MiB | – | – | – | – |`,
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
        `| ${what} | ${secs(x.ms)} | ${x.calls} | ${int(x.sopsProcesses)} | ${mb(x.rssMb)} |`,
    ),
    '',
    ...formatBudget(r.budget),
    '',
    'Times: wall clock of the whole command, spawn to exit. CPU time: user + system of the command and of every process it started (for a floor: of its sops processes); in brackets the gitops-secrets node process alone. Floor: sops alone (as installed) encrypting the same manifests from stdin with the same parallelism, measured right before the run it is compared with. sops processes: the tool’s own count where it ran the real sops, a counting shim on PATH for the no-op sync, check and the GitHub runs. Peak RSS: ru_maxrss of the gitops-secrets process (sops and git not included).',
    `Load average (1 min) at start and end: ${m.loadAverage.start.toFixed(1)}, ${m.loadAverage.end.toFixed(1)} on ${m.cores} cores.`,
  ];
  if (gh.violations.length > 0)
    lines.push('', `GitHub API schema violations: ${gh.violations.join('; ')}`);
  if (r.n !== 1000) lines.push('', `(The budget is set for N = 1,000; this run used N = ${r.n}.)`);
  return lines.join('\n');
}
