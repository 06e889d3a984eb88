import type { JobResult } from './apply/job.js';
import type { CheckResult } from './commands/check.js';
import type { ListResult } from './commands/list.js';
import type { ChangeRow } from './plan/summary.js';

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
    rows.map((r) => [`  ${r.id}`, r.key === '*' ? '(all keys)' : r.key, r.action, r.reason]),
  );
}

export function formatJob(result: JobResult, dryRun: boolean): string[] {
  const out: string[] = [];
  const { plan } = result;
  const changes = result.rows.filter((r) => r.action !== 'needs input');
  const needs = result.rows.filter((r) => r.action === 'needs input');
  out.push(
    `gitops-secrets ${result.job}${dryRun ? ' --dry-run' : ''}: ${plan.files.length} secret${plan.files.length === 1 ? '' : 's'}, base ${result.base}, branch ${result.branch}`,
  );
  if (changes.length === 0) {
    out.push(
      result.job === 'rotate'
        ? 'nothing to rotate: no key is due'
        : 'nothing to do: every declared key exists',
    );
  } else {
    const already = !result.work;
    out.push(
      already ? `nothing new; already on ${result.branch}:` : dryRun ? 'would change:' : 'changes:',
    );
    out.push(...changeTable(changes));
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

export function formatCheck(result: CheckResult): string[] {
  const out: string[] = [];
  if (!result.pending) {
    out.push(`ok: ${result.secrets} secret${result.secrets === 1 ? '' : 's'}, nothing pending`);
    return out;
  }
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
  for (const d of result.sharedDrift) {
    out.push(
      `shared value ${d.shared} may differ between consumers (rotation dates differ, or one was added by hand): ${d.paths.join(', ')}`,
    );
  }
  return out;
}

export function formatList(result: ListResult): string[] {
  const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-');
  const rows: string[][] = [
    ['SECRET', 'ENV', 'KEY', 'SOURCE', 'STATE', 'LAST ROTATED', 'NEXT DUE'],
  ];
  for (const s of result.secrets) {
    for (const k of s.keys) {
      rows.push([
        s.id,
        s.environment ?? '-',
        k.key,
        k.source,
        k.state,
        day(k.lastRotated),
        day(k.nextDue),
      ]);
    }
  }
  const out = table(rows);
  if (result.shared.length > 0) {
    out.push('');
    const shared: string[][] = [
      ['SHARED VALUE', 'ENV', 'STATE', 'LAST ROTATED', 'NEXT DUE', 'USED BY'],
    ];
    for (const v of result.shared) {
      const users = v.usedBy.map((u) => `${u.secret} ${u.key}`).join(', ');
      shared.push([
        v.name,
        v.environment ?? '-',
        v.state,
        day(v.lastRotated),
        day(v.nextDue),
        users,
      ]);
    }
    out.push(...table(shared));
  }
  return out;
}
