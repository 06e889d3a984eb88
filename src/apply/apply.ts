import pLimit from 'p-limit';
import { ExternalError } from '../errors.js';
import { type ManifestInfo, manifestOf } from '../model/manifest.js';
import { generateValue, type RandomSource } from '../model/random.js';
import { bumpRollout } from '../model/rollout.js';
import type { Plan } from '../plan/plan.js';
import { blobKey, type Memo } from '../ports/memo.js';
import type { SopsPort } from '../ports/sops.js';
import { applyFile, type FileContext } from './apply-file.js';
import { decodeData } from './secret-state.js';
import { type WorktreeFiles, worktreeFiles } from './worktree-files.js';

export interface ApplyPorts {
  sops: SopsPort;
  random: RandomSource;
  /** Keeps the reading of each file written, so that the next run need not parse it. */
  memo?: Memo;
}

/** Values carried over from the job branch when the base changed the same file (by path, key). */
export type Carried = Map<string, Map<string, string>>;

export interface ApplyInput {
  plan: Plan;
  /** The worktree: files with changes are checked out there before apply. */
  dir: string;
  /** The current state of each existing file (after anything carried from the branch). */
  existing: Map<string, ManifestInfo>;
  carried?: Carried;
  /** sops processes at once; default the sops port's `jobs` (GITOPS_SECRETS_SOPS_JOBS). */
  concurrency?: number;
  /** Re-encrypt with a new data key (`sops rotate`) instead of re-wrapping it (`updatekeys`). */
  rotateDataKey?: boolean;
  /** Called once a file is in its final state (nothing in this run writes it again). */
  onWritten?: (path: string) => void;
}

/**
 * Performs a plan in a worktree: sops writes every value; nothing plaintext touches the disk.
 * Returns the paths written or removed, sorted.
 */
export async function applyPlan(input: ApplyInput, ports: ApplyPorts): Promise<string[]> {
  const { plan, dir } = input;
  const jobs = pLimit(input.concurrency ?? ports.sops.jobs);
  // After the first failure no further sops process starts: the queued ones reject at once, so
  // the run ends (and its worktree is removed) as soon as the running ones have finished.
  let failed: { error: unknown } | undefined;
  const limit = <T>(fn: () => Promise<T>): Promise<T> =>
    jobs(() => (failed ? Promise.reject(failed.error) : fn()));
  const files = worktreeFiles(dir);
  const touched: string[] = [];
  const finished = (path: string) => {
    touched.push(path);
    input.onWritten?.(path);
  };
  const decrypted = new Map<string, Promise<Record<string, string>>>();
  const valuesOf = (path: string) => {
    let p = decrypted.get(path);
    if (!p) {
      p = limit(() => ports.sops.decrypt(path, { cwd: dir })).then((text) =>
        decodeData(text, path),
      );
      decrypted.set(path, p);
    }
    return p;
  };
  const ctx: FileContext = {
    sops: ports.sops,
    random: ports.random,
    dir,
    files,
    now: plan.now,
    limit,
    valuesOf,
    shared: await sharedValues(plan, valuesOf, ports.random),
    carried: input.carried,
    rotateDataKey: input.rotateDataKey ?? false,
    remember: (path, text, doc) =>
      ports.memo?.set('manifest', blobKey(Buffer.from(text), path), manifestOf(path, doc)),
  };
  // Every file settles before apply returns (the caller then removes the worktree).
  await Promise.allSettled(
    plan.files.map(async (file) => {
      try {
        if (await applyFile(ctx, file, input.existing.get(file.path))) finished(file.path);
      } catch (error) {
        failed ??= { error };
      }
    }),
  );
  if (failed) throw failed.error;
  for (const path of await bumpRollouts(plan, files)) finished(path);
  if (plan.prune) {
    for (const orphan of plan.orphans) {
      if (orphan.keys.length > 0) continue;
      files.remove(orphan.path);
      touched.push(orphan.path);
    }
  }
  return touched.sort();
}

/** The value of each shared group the plan writes: reused from a file, or generated once. */
async function sharedValues(
  plan: Plan,
  valuesOf: (path: string) => Promise<Record<string, string>>,
  random: RandomSource,
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const s of plan.shared) {
    if (s.action === 'needs-input') continue;
    if (s.action === 'reuse' && s.from) {
      const v = (await valuesOf(s.from.path))[s.from.key];
      if (v === undefined)
        throw new ExternalError(
          'sops',
          `${s.from.path} has no value for ${s.from.key} after decrypting`,
        );
      values.set(s.group, v);
    } else if (s.source.kind !== 'provided') {
      values.set(s.group, generateValue(s.source, random));
    }
  }
  return values;
}

/**
 * Workloads that mount a Secret whose values changed get a new pod-template annotation, so the
 * GitOps controller restarts them after merge. Returns the paths written.
 */
async function bumpRollouts(plan: Plan, files: WorktreeFiles): Promise<string[]> {
  const rollouts = new Map<string, string[]>();
  for (const file of plan.files) {
    if (!file.changes.some((c) => c.action === 'rotate' || c.action === 'set')) continue;
    for (const p of file.secret.rollout) rollouts.set(p, [...(rollouts.get(p) ?? []), file.id]);
  }
  const remedy = 'fix the path under `rollout` in the config, or the manifest';
  for (const [path, ids] of rollouts) {
    files.guard(path);
    const text = files.read(path);
    if (text === undefined)
      throw new ExternalError(
        'repo',
        `rollout ${path} (of ${ids.join(', ')}) does not exist in the repo`,
        remedy,
      );
    const bumped = bumpRollout(text, plan.now);
    if ('problem' in bumped)
      throw new ExternalError(
        'repo',
        `rollout ${path} (of ${ids.join(', ')}) ${bumped.problem}`,
        remedy,
      );
    files.write(path, bumped.text);
  }
  return [...rollouts.keys()];
}
