import { workingTreeKustomizations } from '../apply/kustomizations.js';
import { type ProposedBranch, type ProposedPorts, proposedFor } from '../apply/proposed.js';
import { readWorkingTree } from '../apply/repo-state.js';
import { readRepoText } from '../config/repo-file.js';
import type { Config } from '../config/types.js';
import { ConfigError, ExitCode } from '../errors.js';
import { changeTable } from '../format.js';
import { isProblem, type ManifestInfo, type ManifestProblem } from '../model/manifest.js';
import { readSopsRules } from '../model/recipients.js';
import { readSopsYaml, type SopsYaml } from '../model/sops-yaml.js';
import { checkSopsYaml } from '../model/sops-yaml-check.js';
import { groupOf } from '../plan/instances.js';
import { plan as makePlan, type Plan } from '../plan/plan.js';
import { type SshDrift, sshDrift } from '../plan/ssh-drift.js';
import { type ChangeRow, changeRows } from '../plan/summary.js';
import { type Memo, noMemo } from '../ports/memo.js';
import { loadRepoConfig, type Output, type RepoOptions } from './common.js';

/** A change an open job branch already holds. */
export type ProposedRow = ChangeRow & { branch: string; pullRequest: number | null };

export interface CheckResult {
  /** Something is to do beyond what the job branches propose. */
  pending: boolean;
  /** Changes an open job branch (`gitops-secrets/sync`, `/rotate`) already proposes. */
  proposed: ProposedRow[];
  /** Keys to generate, slots to fill, keys to remove, re-encryptions. */
  sync: ChangeRow[];
  /** Keys due for rotation (and provided slots due for a new value). */
  due: ChangeRow[];
  orphans: Plan['orphans'];
  problems: Plan['problems'];
  /** Consumers of one shared value whose recorded rotation dates differ. */
  sharedDrift: { shared: string; paths: string[] }[];
  /** SSH keys made as another type or size than the config says (`rotate --force` remakes). */
  sshDrift: SshDrift[];
  /**
   * Kustomizations `sync` would change: managed manifests they do not list (`unlisted`), entries
   * that name a managed manifest that does not exist (`dangling`, as repo paths).
   */
  kustomizations: { path: string; unlisted: string[]; dangling: string[]; moved?: string[] }[];
  secrets: number;
}

/**
 * `check`: reports pending work from plaintext metadata alone (no private key, no sops
 * process): the working tree's (on base), and the job branches' of the remote (proposed); exit 3
 * when something is to do beyond what is proposed.
 */
export async function check(
  options: RepoOptions & { remote?: string },
  io: Output,
  ports?: ProposedPorts,
): Promise<ExitCode> {
  const { root, config, memo } = await loadRepoConfig(options);
  const proposed = await proposedFor(root, config, options.remote, ports, memo, io.err);
  const result = await checkRepo(config, root, options.now, proposed, memo);
  if (options.json) io.out(JSON.stringify(result, null, 2));
  else for (const line of formatCheck(result)) io.out(line);
  return result.pending ? ExitCode.pending : ExitCode.ok;
}

/** The pending work in a working tree (what `check` reports). */
export async function checkRepo(
  config: Config,
  root: string,
  now: Date,
  branches: ProposedBranch[] = [],
  memo: Memo = noMemo,
): Promise<CheckResult> {
  const existing = readWorkingTree(root, config, memo);
  const sopsYaml = readSopsYaml(
    config.sops.hasRecipients ? undefined : await readRepoText(root, '.sops.yaml', 'sops config'),
  );
  // The same refusal as sync: a .sops.yaml rule that would leave values unencrypted.
  const selectors = checkSopsYaml(config, sopsYaml);
  if (selectors.problems.length > 0) throw new ConfigError(selectors.problems);
  const all = rowsOf(config, existing, now, sopsYaml);
  const proposed: ProposedRow[] = [];
  for (const b of branches) {
    const onBranch = rowsOf(config, new Map([...existing, ...b.manifests]), now, sopsYaml);
    const left = new Set([...onBranch.sync, ...onBranch.due].map(rowId));
    for (const r of [...all.sync, ...all.due])
      if (!left.has(rowId(r)) && !proposed.some((p) => rowId(p) === rowId(r)))
        proposed.push({ ...r, branch: b.branch, pullRequest: b.pullRequest ?? null });
  }
  const isProposed = (r: ChangeRow) => proposed.some((p) => rowId(p) === rowId(r));
  const sync = all.sync.filter((r) => !isProposed(r));
  const due = all.due.filter((r) => !isProposed(r));
  const { syncPlan } = all;
  const sharedDrift = sharedValueDrift(syncPlan, existing);
  const sshKeys = sshDrift(syncPlan, existing);
  const declared = new Set(syncPlan.files.map((f) => f.path));
  const listable = [...existing].flatMap(([p, m]) =>
    !isProblem(m) && (m.managed || declared.has(p)) ? [p] : [],
  );
  const kustomizations = (
    await workingTreeKustomizations(root, config, listable, [...declared])
  ).map((k) => ({
    path: k.path,
    unlisted: k.added,
    dangling: k.removed,
    ...(k.moved ? { moved: k.moved } : {}),
  }));
  const pending =
    kustomizations.length > 0 ||
    sync.length > 0 ||
    due.length > 0 ||
    syncPlan.orphans.length > 0 ||
    syncPlan.problems.length > 0 ||
    sharedDrift.length > 0 ||
    sshKeys.length > 0;
  return {
    pending,
    proposed,
    sync,
    due,
    orphans: syncPlan.orphans,
    problems: syncPlan.problems,
    sharedDrift,
    sshDrift: sshKeys,
    kustomizations,
    secrets: syncPlan.files.length,
  };
}

const rowId = (r: ChangeRow) => `${r.id}\0${r.key}`;

/** What sync and rotate would change, from these manifests. */
function rowsOf(
  config: Config,
  existing: Map<string, ManifestInfo | ManifestProblem>,
  now: Date,
  sopsYaml: SopsYaml | undefined,
) {
  const syncPlan = makePlan({
    config,
    job: 'sync',
    existing,
    now,
    sopsRules: readSopsRules(sopsYaml),
  });
  const rotatePlan = makePlan({ config, job: 'rotate', existing, now });
  const empty = new Map();
  const sync = changeRows(syncPlan, empty, empty).filter((r) => r.action !== 'removed');
  const due = changeRows(rotatePlan, empty, empty).filter(
    (r) => !r.key.endsWith('_PREVIOUS') || r.action === 'needs input',
  );
  return { syncPlan, sync, due };
}

/**
 * Consumers of one shared value must record the same rotation; a key added by hand records
 * none. Either means the values may differ (checked without decrypting).
 */
function sharedValueDrift(
  syncPlan: Plan,
  existing: Map<string, ManifestInfo | ManifestProblem>,
): CheckResult['sharedDrift'] {
  const byShared = new Map<string, Map<string, string>>();
  for (const file of syncPlan.files) {
    const info = existing.get(file.path);
    if (!info || isProblem(info)) continue;
    for (const key of file.secret.keys) {
      if (key.source.kind !== 'shared' || !info.dataKeys.includes(key.name)) continue;
      const st = info.state.keys[key.name];
      const group = groupOf(key.source.from, file.environment);
      const m = byShared.get(group) ?? new Map<string, string>();
      m.set(`${file.path}#${key.name}`, st?.shared === key.source.from ? st.rotated : 'unrecorded');
      byShared.set(group, m);
    }
  }
  return [...byShared]
    .filter(([, m]) => new Set(m.values()).size > 1 || [...m.values()].includes('unrecorded'))
    .map(([shared, m]) => ({ shared, paths: [...m.keys()].sort() }));
}

export function formatCheck(result: CheckResult): string[] {
  const out: string[] = [];
  for (const [where, rows] of proposedGroups(result.proposed)) {
    out.push(`proposed ${where}:`);
    out.push(...changeTable(rows));
  }
  if (!result.pending) {
    const secrets = `${result.secrets} secret${result.secrets === 1 ? '' : 's'}`;
    out.push(
      result.proposed.length > 0
        ? `ok: ${secrets}, nothing to do beyond what is proposed`
        : `ok: ${secrets}, nothing pending`,
    );
    return out;
  }
  if (result.proposed.length > 0) out.push('to do beyond what is proposed:');
  for (const p of result.problems) out.push(`problem: ${p.path} ${p.problem}; fix: ${p.remedy}`);
  const missing = result.sync.filter((r) => r.action !== 'needs input');
  if (missing.length > 0) {
    out.push('pending for sync:');
    out.push(...changeTable(missing));
  }
  const needs = result.sync.filter((r) => r.action === 'needs input');
  if (needs.length > 0) {
    out.push('empty slots (fill with `gitops-secrets set`):');
    out.push(...changeTable(needs));
  }
  if (result.due.length > 0) {
    out.push('due for rotation:');
    out.push(...changeTable(result.due));
  }
  if (result.orphans.length > 0) {
    out.push('orphaned (not in the config; `sync --prune` removes):');
    for (const o of result.orphans)
      out.push(`  ${o.path}${o.keys.length > 0 ? `: ${o.keys.join(', ')}` : ''}`);
  }
  for (const k of result.kustomizations) {
    for (const m of k.unlisted) out.push(`not listed by ${k.path} (sync adds it): ${m}`);
    for (const m of k.dangling)
      out.push(`${k.path} lists ${m}, which does not exist (sync removes the entry)`);
    for (const m of k.moved ?? [])
      out.push(`${k.path} lists ${m} where \`kustomize\` does not want it (sync moves it)`);
  }
  for (const d of result.sshDrift)
    out.push(
      `ssh key ${d.id} ${d.key} is ${d.recorded}, the config says ${d.configured}: \`gitops-secrets rotate --force --secret ${d.id} --key ${d.key}\` makes a new one`,
    );
  for (const d of result.sharedDrift) {
    out.push(
      `shared value ${d.shared} may differ between consumers (rotation dates differ, or one was added by hand): ${d.paths.join(', ')}`,
    );
  }
  return out;
}

/** Proposed rows by where they are proposed ("in #2 (branch X)", or "on branch X"). */
function proposedGroups(rows: ProposedRow[]): Map<string, ProposedRow[]> {
  const groups = new Map<string, ProposedRow[]>();
  for (const r of rows) {
    const where =
      r.pullRequest !== null
        ? `in #${r.pullRequest} (branch ${r.branch})`
        : `on branch ${r.branch}`;
    groups.set(where, [...(groups.get(where) ?? []), r]);
  }
  return groups;
}
