import { writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkpoint } from '../checkpoint.js';
import type { Config } from '../config/types.js';
import { ConfigError, ExternalError, UsageError } from '../errors.js';
import {
  isProblem,
  type ManifestInfo,
  type ManifestProblem,
  readManifest,
} from '../model/manifest.js';
import { cryptoRandom } from '../model/random.js';
import { readSopsRules } from '../model/recipients.js';
import { checkSopsYaml, ruleSelected } from '../model/sops-yaml-check.js';
import {
  isEmptyPlan,
  type Job,
  plan as makePlan,
  type Plan,
  type RotateSelection,
  selectionPaths,
} from '../plan/plan.js';
import { type ChangeRow, changeRows, commitMessage, JOB_TRAILER } from '../plan/summary.js';
import type { GitPort } from '../ports/git.js';
import type { SopsPort } from '../ports/sops.js';
import { applyPlan, type Carried, decodeData } from './apply.js';
import { type PrOutcome, type PullRequestContext, upsertPullRequest } from './pull-request.js';
import { managedPaths, outputDirs } from './repo-state.js';
import { refuseNonUtf8SopsYaml, refuseSopsYamlSymlink } from './sops-yaml-file.js';

export const JOB_BRANCH: Record<Job, string> = {
  sync: 'gitops-secrets/sync',
  rotate: 'gitops-secrets/rotate',
};

export interface JobOptions {
  job: Job;
  remote: string;
  base: string | undefined;
  push: boolean;
  dryRun: boolean;
  prune: boolean;
  now: Date;
  rotate?: RotateSelection;
  /** Re-encrypting for new recipients also replaces the data key (`sops rotate`). */
  rotateDataKey?: boolean;
  /** Changes the plan before it is applied (`set` puts a person's value in). */
  adjust?: (plan: Plan, existing: Map<string, ManifestInfo | ManifestProblem>) => void;
}

export interface JobPorts {
  git: GitPort;
  sops: SopsPort;
  /** Builds the PR port once the remote URL is known; undefined when there is no token. */
  pullRequests: PullRequestContext;
  log: (line: string) => void;
}

export interface JobResult {
  job: Job;
  branch: string;
  base: string;
  rows: ChangeRow[];
  plan: Plan;
  commit: string | undefined;
  pushed: boolean;
  pullRequest: PrOutcome | undefined;
  sopsProcesses: number;
  /** The plan had work beyond what the job branch already holds. */
  work: boolean;
}

/**
 * While the remote is asked for the base (ls-remote), the files of the checked-out commit are
 * listed and the manifests the run will read are read: the base is that commit in a CI checkout
 * and after `git pull`, and then the run finds both ready. Local reads only (the config is
 * valid by now); when the base turns out to be another commit, they are simply not used.
 */
function prefetchFromHead(
  git: GitPort,
  config: Config,
  dirs: string[],
  scope: Set<string> | undefined,
): void {
  (async () => {
    const head = await git.head();
    if (!head) return;
    const { files, sopsYamlBlob } = await baseFilesOf(git, config, head, dirs);
    const ids = [...files].filter(([path]) => !scope || scope.has(path)).map(([, id]) => id);
    git.prefetchBlobs(sopsYamlBlob ? [...ids, sopsYamlBlob] : ids);
  })().catch(() => undefined);
}

/**
 * A base's managed manifests (path → blob id), and the blob of its `.sops.yaml` when the rules
 * are read from it (the config names no recipients): one listing.
 */
async function baseFilesOf(git: GitPort, config: Config, commit: string, dirs: string[]) {
  const listing = await git.listFiles(commit, [...dirs, '.sops.yaml']);
  return {
    listing,
    files: managedPaths(config, listing),
    sopsYamlBlob: config.sops.hasRecipients ? undefined : listing.get('.sops.yaml'),
  };
}

/** Where a job starts: the base and the job branch, here and on the remote. */
export interface Located {
  base: string;
  baseSha: string;
  remoteUrl: string | undefined;
  /** The job branch on the remote (the push lease), undefined when it has none. */
  remoteBranchSha: string | undefined;
  /** The job branch to build on: the remote's, or for --no-push a newer local one. */
  branchSha: string | undefined;
}

/**
 * Finds the base and the job branch. It needs no config, so the CLI runs it while it parses
 * the config: until `configValid` resolves it only reads the local repository. Contacting the
 * remote (`ls-remote`, a fetch, which also writes to .git) waits for it: a wrong config never
 * starts a network command (nor the ssh prompt one can bring).
 */
export async function locateJob(
  git: GitPort,
  options: Pick<JobOptions, 'job' | 'remote' | 'base' | 'push'>,
  configValid: Promise<void> = Promise.resolve(),
): Promise<Located> {
  const branch = JOB_BRANCH[options.job];
  // A --no-push run may build on its local job branch: looked up alongside the remote's refs.
  const localBranch = options.push ? undefined : git.resolve(`refs/heads/${branch}`);
  // The checked-out commit, usually the base: the run reads its files while the remote answers.
  git.head().catch(() => undefined);
  const remoteUrl = await git.remoteUrl(options.remote);
  let base = options.base;
  let baseSha: string | undefined;
  let remoteBranchSha: string | undefined;
  let branchSha: string | undefined;
  if (remoteUrl) {
    await configValid;
    const refs = await git.lsRemote(options.remote, []);
    base ??= refs.defaultBranch ?? (await fallbackBase(git, options.remote, refs.heads));
    if (!base) {
      throw new UsageError(
        `cannot tell the default branch of ${options.remote}`,
        'pass --base BRANCH',
      );
    }
    if (!refs.heads.has(base))
      throw new UsageError(
        `branch ${base} does not exist on ${options.remote}`,
        'pass --base BRANCH',
      );
    remoteBranchSha = refs.heads.get(branch);
    const remoteBaseSha = refs.heads.get(base)!;
    // No fetch when both commits are here already (a CI checkout of the base, the run after a
    // merge): one `cat-file --batch-check` instead of a round trip to the remote.
    if (
      await git.hasCommits(remoteBranchSha ? [remoteBaseSha, remoteBranchSha] : [remoteBaseSha])
    ) {
      baseSha = remoteBaseSha;
    } else {
      await git.fetch(options.remote, remoteBranchSha ? [base, branch] : [base]);
      baseSha = await git.resolve(`refs/remotes/${options.remote}/${base}`);
    }
    branchSha = remoteBranchSha;
    if (localBranch) {
      const local = await localBranch;
      // A --no-push run builds on its own earlier local commit when that is newer than the remote's.
      if (
        local &&
        (!remoteBranchSha || (await git.mergeBase(remoteBranchSha, local)) === remoteBranchSha)
      )
        branchSha = local;
    }
  } else {
    if (options.push) {
      throw new UsageError(
        `the repository has no remote "${options.remote}"`,
        'pass --remote NAME, or --no-push to commit locally only',
      );
    }
    base ??= await git.currentBranch();
    if (!base)
      throw new UsageError('cannot tell the base branch (detached HEAD)', 'pass --base BRANCH');
    baseSha = await git.resolve(`refs/heads/${base}`);
    branchSha = await localBranch; // a run without a remote is a --no-push run
  }
  if (!baseSha)
    throw new UsageError(`cannot resolve the base branch ${base}`, 'pass --base BRANCH');

  if (branchSha) await assertOnlyOurCommits(git, baseSha, branchSha, branch, options.job);
  return { base, baseSha, remoteUrl, remoteBranchSha, branchSha };
}

/** `sync` and `rotate`: plan from plaintext metadata, apply in a worktree, commit, push, PR. */
export async function runJob(
  config: Config,
  options: JobOptions,
  ports: JobPorts,
  located?: Promise<Located>,
): Promise<JobResult> {
  const { git } = ports;
  const branch = JOB_BRANCH[options.job];
  // Worktrees of crashed runs are removed while the run plans, before it adds its own (the
  // pruning never fails: what it cannot remove stays for the next run).
  const pruned = git.pruneStale();
  const dirs = outputDirs(config);
  const scope = options.job === 'rotate' ? selectionPaths(config, options.rotate) : undefined;
  prefetchFromHead(git, config, dirs, scope);
  const where = await (located ?? locateJob(git, options)).catch(async (err: unknown) => {
    await pruned;
    throw err;
  });
  const { base, baseSha, remoteUrl, remoteBranchSha, branchSha } = where;

  // The state to plan from: the base, plus what earlier runs left on the job branch.
  // .sops.yaml comes with the base's listing, and its text with the manifests' (one batch).
  const {
    listing: baseListing,
    files: baseFiles,
    sopsYamlBlob,
  } = await baseFilesOf(git, config, baseSha, dirs);
  const sopsYamlFile = refuseSopsYamlSymlink(git, baseSha, base, baseListing);
  sopsYamlFile.catch(() => undefined); // awaited before the plan
  const branchFiles = branchSha
    ? managedPaths(config, await git.listFiles(branchSha, dirs))
    : new Map<string, string>();
  const mb = branchSha ? await git.mergeBase(baseSha, branchSha) : undefined;
  const mbFiles = mb
    ? managedPaths(config, await git.listFiles(mb, dirs))
    : new Map<string, string>();
  const startBlobs = new Map<string, string>();
  const fromBranch = new Set<string>();
  const conflicted = new Map<string, string>();
  for (const path of new Set([...baseFiles.keys(), ...branchFiles.keys()])) {
    const b = baseFiles.get(path);
    const s = branchFiles.get(path);
    const m = mbFiles.get(path);
    if (s !== undefined && s !== b && b === m) {
      startBlobs.set(path, s);
      fromBranch.add(path);
    } else if (s === undefined && b !== undefined && b === m && branchSha) {
      fromBranch.add(path); // removed on the branch (prune)
    } else if (b !== undefined) {
      startBlobs.set(path, b);
      if (s !== undefined && s !== b && s !== m) conflicted.set(path, s);
    }
  }
  // Workload manifests bumped by an earlier rotation on the branch are carried the same way.
  const rolloutPaths = [...new Set(config.secrets.flatMap((x) => x.rollout))];
  const rolloutFromBranch = new Map<string, string>();
  if (rolloutPaths.length > 0 && branchSha) {
    const b = await git.listFiles(baseSha, rolloutPaths);
    const s = await git.listFiles(branchSha, rolloutPaths);
    const m = mb ? await git.listFiles(mb, rolloutPaths) : new Map<string, string>();
    for (const [p, blob] of s)
      if (blob !== b.get(p) && b.get(p) === m.get(p)) rolloutFromBranch.set(p, blob);
  }
  // Both versions of a path are read: the base's (for the PR table) and the start's; for
  // `rotate --secret`, only the paths the selection can touch.
  // What an earlier run changed on the job branch stays in the commit and in the PR's table.
  if (scope) for (const path of [...fromBranch, ...conflicted.keys()]) scope.add(path);
  const inScope = <T>(m: Map<string, T>) =>
    scope ? new Map([...m].filter(([path]) => scope.has(path))) : m;
  const baseRead = inScope(baseFiles);
  const startRead = inScope(startBlobs);
  const conflictedRead = inScope(conflicted);
  const read = await readManifestsWithBlobs(git, [
    ...baseRead.values(),
    ...startRead.values(),
    ...conflictedRead.values(),
    ...(sopsYamlBlob ? [sopsYamlBlob] : []),
  ]);
  const existing = new Map<string, ManifestInfo | ManifestProblem>();
  for (const [path, blob] of startRead) existing.set(path, read.byBlob(blob, path));
  const baseInfo = infos(new Map([...baseRead].map(([p, id]) => [p, read.byBlob(id, p)])));
  await sopsYamlFile;
  if (sopsYamlBlob) refuseNonUtf8SopsYaml(read.text(sopsYamlBlob), base);

  const sopsYamlText = sopsYamlBlob ? read.text(sopsYamlBlob) : undefined;
  const sopsRules = readSopsRules(sopsYamlText);
  // Encryption selectors of .sops.yaml that would leave values unencrypted, or that sops would
  // refuse next to the config's encryptedRegex: config errors, before anything is written.
  const selectors = checkSopsYaml(config, sopsYamlText);
  if (selectors.problems.length > 0) throw new ConfigError(selectors.problems);
  let plan = makePlan({
    config,
    job: options.job,
    existing,
    now: options.now,
    prune: options.prune,
    sopsRules,
    base: baseInfo,
    ...(options.rotate ? { rotate: options.rotate } : {}),
  });
  if (plan.problems.length > 0) throw repoProblems(plan.problems);
  // A rule's own (safe) selector applies to its files: sops refuses a second one.
  for (const f of plan.files) if (selectors.ruleSelects.has(f.path)) f.sops = ruleSelected(f.sops);
  options.adjust?.(plan, existing);
  // Paths the run would write through a symlink (or where a file must be a directory): looked
  // up while the first sops processes encrypt from stdin; nothing is written before it passed.
  const unblocked = refuseBlockedPaths(git, baseSha, plan, [
    ...fromBranch,
    ...rolloutFromBranch.keys(),
  ]);
  unblocked.catch(() => undefined); // awaited before the first write, or below
  if (options.rotateDataKey) {
    for (const f of plan.files) if (f.reencrypt) f.reencrypt.reason += ', with a new data key';
  }

  // Keys an earlier run generated on the branch, in a file the base has changed since: carry them.
  const carried: Carried = new Map();
  for (const [path, blob] of conflictedRead) {
    const onBranch = read.byBlob(blob, path);
    const now = existing.get(path);
    if (isProblem(onBranch) || !now || isProblem(now)) continue;
    const file = plan.files.find((f) => f.path === path);
    if (!file) continue;
    const keys = file.changes
      .filter((c) => c.action === 'generate' && onBranch.dataKeys.includes(c.key))
      .map((c) => c.key);
    if (keys.length === 0) continue;
    carried.set(path, new Map(keys.map((k) => [k, ''])));
    for (const c of file.changes) {
      const st = onBranch.state.keys[c.key];
      if (keys.includes(c.key) && st) c.value = { kind: 'carried', state: st };
    }
  }

  const start = infos(existing);
  const rows = changeRows(plan, baseInfo, start);
  const result: JobResult = {
    job: options.job,
    branch,
    base,
    rows,
    plan,
    commit: undefined,
    pushed: false,
    pullRequest: undefined,
    sopsProcesses: 0,
    work: !isEmptyPlan(plan),
  };
  if (options.dryRun || isEmptyPlan(plan)) {
    try {
      await unblocked;
    } finally {
      await pruned.catch(() => undefined);
    }
  }
  if (options.dryRun) return result;

  checkpoint('planned');
  const work = !isEmptyPlan(plan);
  if (work) {
    await pruned;
    const wt = await git.addWorktree(baseSha).catch(async (err: unknown) => {
      await unblocked.catch(() => undefined); // its git process ends before the run does
      throw err;
    });
    try {
      const work = (async () => {
        // Files to read or change, and .sops.yaml for creation rules.
        const needed = new Set<string>(['.sops.yaml']);
        for (const f of plan.files)
          if (
            f.exists &&
            !fromBranch.has(f.path) &&
            (f.reencrypt || f.changes.some((c) => c.action !== 'needs-input'))
          )
            needed.add(f.path);
        for (const s of plan.shared)
          if (s.from && !fromBranch.has(s.from.path)) needed.add(s.from.path);
        for (const [path] of conflicted) needed.add(path);
        const rolloutNeeded = plan.files
          .filter((f) => f.changes.some((c) => c.action === 'rotate' || c.action === 'set'))
          .flatMap((f) => f.secret.rollout)
          .filter((p) => !rolloutFromBranch.has(p));
        const files = new Set([...needed].filter((p) => p !== '.sops.yaml' && baseFiles.has(p)));
        for (const p of await existingPaths(git, baseSha, [...new Set(rolloutNeeded)]))
          files.add(p);
        // .sops.yaml first: sops reads its creation rules from the worktree. The files to
        // change are written while the first sops processes encrypt from stdin; apply waits for
        // them before it reads or writes any file.
        if (baseListing.has('.sops.yaml')) {
          // Its text came with the manifests (when the rules are read from it): written as it
          // is, with no git process before the first sops.
          const text = sopsYamlBlob ? read.text(sopsYamlBlob) : undefined;
          if (text !== undefined) writeFileSync(join(wt.dir, '.sops.yaml'), text);
          else if (files.size > 0) await wt.checkout(['.sops.yaml']);
          else files.add('.sops.yaml');
        }
        for (const [path, blob] of rolloutFromBranch) startBlobs.set(path, blob);
        const filesReady = (async () => {
          await unblocked;
          await wt.checkout([...files]);
          const carriedPaths = [...fromBranch, ...rolloutFromBranch.keys()];
          const texts = await git.readBlobs(
            carriedPaths.map((p) => startBlobs.get(p)).filter((x): x is string => !!x),
          );
          for (const path of carriedPaths) {
            const blob = startBlobs.get(path);
            if (!blob) continue;
            await mkdir(dirname(join(wt.dir, path)), { recursive: true });
            await writeFile(join(wt.dir, path), texts.get(blob) ?? '');
          }
        })();
        filesReady.catch(() => undefined); // awaited by apply, or below
        try {
          if (files.has('.sops.yaml')) await filesReady;
          for (const [path, blob] of conflicted) {
            const values = carried.get(path);
            if (!values) continue;
            const text = (await git.readBlobs([blob])).get(blob) ?? '';
            const plain = decodeData(
              await ports.sops.decryptStdin(text, { filename: path, cwd: wt.dir }),
              path,
            );
            for (const k of values.keys()) values.set(k, plain[k] ?? '');
          }
          const touched = await applyPlan(
            {
              plan,
              dir: wt.dir,
              filesReady,
              existing: start,
              carried,
              rotateDataKey: options.rotateDataKey ?? false,
              onWritten: (path) => wt.stage(path),
            },
            { sops: ports.sops, random: cryptoRandom },
          );
          await filesReady;
          return touched;
        } finally {
          // Whatever failed, the checkout is over before the worktree is removed.
          await filesReady.catch(() => undefined);
        }
      })();
      // The sops version check: nothing is committed before it passed. A run whose encryptions
      // already named a recent sops starts no process for it; a failed run checks first, and a
      // sops too old (or missing) is what it reports, since that fails the other calls too.
      const [done] = await Promise.allSettled([work]);
      await ports.sops.ensureReady();
      if (done.status === 'rejected') throw done.reason;
      const touched = done.value;
      checkpoint('applied');
      const paths = [...new Set([...touched, ...fromBranch, ...rolloutFromBranch.keys()])];
      result.commit = await wt.commit(commitMessage(options.job, rows), paths);
      checkpoint('committed');
    } catch (err) {
      await wt.remove();
      throw err;
    }
    // The directory is removed while the commit is pushed and the branch moved: renamed to its
    // dead name first, so a kill in either leaves nothing the next run's sweep does not know.
    const removed = wt.remove();
    removed.catch(() => undefined); // awaited below
    const commit = result.commit;
    ports.log(`committed ${commit.slice(0, 7)} on ${branch}`);
    try {
      if (options.push) {
        await git.push(options.remote, commit, branch, remoteBranchSha);
        result.pushed = true;
        ports.log(`pushed ${branch} to ${options.remote}`);
      }
      // Only once the push went through: a run that lost the push race (or whose push was
      // refused) must not leave the local branch on values that never reached the remote.
      await git.updateBranch(branch, commit);
    } finally {
      await removed;
    }
    if (options.push) checkpoint('pushed');
  }
  await pruned;
  result.sopsProcesses = ports.sops.started;
  plan = result.plan;

  const hasBranchChanges =
    result.pushed ||
    (options.push && remoteBranchSha !== undefined && rows.some((r) => r.action !== 'needs input'));
  if (options.push && remoteUrl && hasBranchChanges) {
    result.pullRequest = await upsertPullRequest(ports.pullRequests, {
      remoteUrl,
      config,
      job: options.job,
      branch,
      base,
      rows,
      plan,
      wrote: result.pushed,
      log: ports.log,
    });
    checkpoint('pull-request');
  }
  return result;
}

/** The remote's HEAD is unset (e.g. a bare repo made by `git init`): try what the clone knows. */
async function fallbackBase(
  git: GitPort,
  remote: string,
  heads: Map<string, string>,
): Promise<string | undefined> {
  const tracked = await git.symbolicRef(`refs/remotes/${remote}/HEAD`);
  const prefix = `refs/remotes/${remote}/`;
  if (tracked?.startsWith(prefix)) return tracked.slice(prefix.length);
  const current = await git.currentBranch();
  if (current && heads.has(current)) return current;
  return ['main', 'master'].find((b) => heads.has(b));
}

/** Someone else's commits on the job branch are never overwritten. */
async function assertOnlyOurCommits(
  git: GitPort,
  baseSha: string,
  branchSha: string,
  branch: string,
  job: Job,
): Promise<void> {
  const commits = await git.commitsBetween(baseSha, branchSha);
  const foreign = commits.filter((c) => !c.body.includes(`${JOB_TRAILER}: ${job}`));
  if (foreign.length === 0) return;
  const list = foreign
    .slice(0, 5)
    .map((c) => `${c.sha.slice(0, 7)} ${c.subject} (${c.author})`)
    .join('; ');
  throw new ExternalError(
    'git',
    `${branch} has ${foreign.length} commit${foreign.length === 1 ? '' : 's'} not made by gitops-secrets: ${list}`,
    `merge or close its pull request, or delete the branch ${branch}, then run again`,
  );
}

async function readManifestsWithBlobs(git: GitPort, blobs: string[]) {
  const ids = [...new Set(blobs)];
  const texts = await git.readBlobs(ids);
  const cache = new Map<string, ManifestInfo | ManifestProblem>();
  return {
    text: (id: string) => texts.get(id),
    byBlob(id: string, path: string): ManifestInfo | ManifestProblem {
      const key = `${id}\0${path}`;
      let m = cache.get(key);
      if (!m) {
        m = readManifest(path, texts.get(id) ?? '');
        cache.set(key, m);
      }
      return m;
    },
  };
}

function infos(map: Map<string, ManifestInfo | ManifestProblem>): Map<string, ManifestInfo> {
  return new Map([...map].filter((e): e is [string, ManifestInfo] => !isProblem(e[1])));
}

async function existingPaths(git: GitPort, commit: string, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return []; // no pathspec would list the whole tree
  const files = await git.listFiles(commit, paths);
  return paths.filter((p) => files.has(p));
}

/**
 * A path the run would write, reached through a symlink committed in the base, is refused: the
 * commit would otherwise silently replace the symlink with a directory (or a file). So is one
 * below a file, or at a directory, of the base: the commit would delete that file or directory.
 */
async function refuseBlockedPaths(
  git: GitPort,
  baseSha: string,
  plan: Plan,
  carried: string[],
): Promise<void> {
  if (isEmptyPlan(plan)) return;
  const paths = new Set<string>(carried);
  for (const f of plan.files) {
    if (f.reencrypt || f.changes.some((c) => c.action !== 'needs-input')) paths.add(f.path);
    if (f.changes.some((c) => c.action === 'rotate' || c.action === 'set'))
      for (const p of f.secret.rollout) paths.add(p);
  }
  if (plan.prune) for (const o of plan.orphans) if (o.keys.length === 0) paths.add(o.path);
  if (paths.size === 0) return;
  const found = await git.blockers(baseSha, [...paths]);
  if (found.symlinks.length > 0) {
    const links = found.symlinks;
    const lines = [...paths].sort().flatMap((p) => {
      const link = links.find((l) => p === l || p.startsWith(`${l}/`));
      return link ? [`  ${p}: ${link} is a symlink`] : [];
    });
    throw new ExternalError(
      'repo',
      `refusing to write through symlinks in the repo:\n${lines.join('\n')}`,
      'replace each symlink with the directory or file itself, or change `output` (or `rollout`) in the config',
    );
  }
  // A file where a directory must be (or the reverse): the commit would delete it.
  const lines = [...paths].sort().flatMap((p) => {
    const file = found.files.find((f) => p.startsWith(`${f}/`));
    if (file) return [`  ${p}: ${file} is a file in the repo, not a directory`];
    return found.dirs.includes(p) ? [`  ${p}: is a directory in the repo, not a file`] : [];
  });
  if (lines.length > 0)
    throw new ExternalError(
      'repo',
      `refusing to replace what the repo holds at these paths:\n${lines.join('\n')}`,
      'move the file or directory out of the way, or change `output` (or `rollout`) in the config',
    );
}

export function repoProblems(problems: ManifestProblem[]): ExternalError {
  const lines = problems.map((p) => `  ${p.path} ${p.problem}; fix: ${p.remedy}`);
  return new ExternalError(
    'repo',
    `${problems.length === 1 ? '1 manifest cannot be used as it is' : `${problems.length} manifests cannot be used as they are`}:\n${lines.join('\n')}`,
  );
}
