import type { JobResult } from './apply/run-job.js';
import { kustomizationKind } from './model/kustomize-upkeep.js';
import { actionText, type ChangeRow, changeCounts, type RestartHint } from './plan/summary.js';

/** Aligned text table; every cell is our own text or a name from the config. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function changeTable(rows: ChangeRow[]): string[] {
  return table(
    rows.map((r) => [`  ${r.id}`, r.key === '*' ? '(all keys)' : r.key, actionText(r), r.reason]),
  );
}

/** The restart commands of changed secrets, to run once the change is deployed. */
export function restartLines(hints: RestartHint[]): string[] {
  if (hints.length === 0) return [];
  return ['restart after merge:', ...hints.map((h) => `  ${h.secret}: ${h.command}`)];
}

export function formatJob(result: JobResult, dryRun: boolean, restart: RestartHint[]): string[] {
  const out: string[] = [];
  const { plan } = result;
  const changes = result.rows.filter((r) => r.action !== 'needs input');
  const needs = result.rows.filter((r) => r.action === 'needs input');
  out.push(
    `gitops-secrets ${result.job}${dryRun ? ' --dry-run' : ''}: ${plan.files.length} secret${plan.files.length === 1 ? '' : 's'}, base ${result.base}, branch ${result.branch}`,
  );
  for (const f of result.carriedFiles ?? [])
    out.push(`${f.path}: ${f.kind} (carried from the working copy)`);
  for (const k of result.kustomizations ?? [])
    out.push(`${k.path}: ${kustomizationKind(k)}${k.proposed ? ' (already on the branch)' : ''}`);
  if (changes.length === 0) {
    out.push(
      result.job === 'rotate'
        ? 'nothing to rotate: no key is due'
        : (result.kustomizations ?? []).length > 0
          ? 'every declared key exists; only the kustomizations above change'
          : 'nothing to do: every declared key exists',
    );
  } else {
    const already = !result.work;
    const head = already
      ? `nothing new; already on ${result.branch}:`
      : dryRun
        ? 'would change:'
        : 'changes:';
    out.push(`${head} ${changeCounts(changes).join(', ')}`);
    out.push(...changeTable(changes));
    out.push(...restartLines(restart));
  }
  if (needs.length > 0) {
    out.push('needs input (fill with `gitops-secrets set`):');
    out.push(...changeTable(needs));
  }
  const orphans = plan.prune ? [] : plan.orphans;
  if (orphans.length > 0) {
    out.push('no longer in the config (removed only by `sync --prune`):');
    for (const o of orphans)
      out.push(`  ${o.path}${o.keys.length > 0 ? `: ${o.keys.join(', ')}` : ''}`);
  }
  return out;
}
