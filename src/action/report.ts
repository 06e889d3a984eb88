import { relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { CommanderError } from 'commander';
import { ConfigError, GitopsSecretsError } from '../errors.js';
import { changeTable } from '../format.js';
import type { ChangeRow } from '../plan/summary.js';
import type { ActionCommand } from './inputs.js';

/** The parts of `sync --json` / `rotate --json` the Action reads. */
export interface JobJson {
  branch: string;
  changes: ChangeRow[];
  needsInput: ChangeRow[];
  commit: string | null;
  pullRequest: { number: number; url: string; action: 'created' | 'updated' | 'unchanged' } | null;
}

/** The parts of `check --json` the Action reads. */
export interface CheckJson {
  pending: boolean;
  sync: ChangeRow[];
  due: ChangeRow[];
}

/** Step outputs, the log's change table and the job summary of a job (`sync`, `rotate`). */
export async function reportJob(command: ActionCommand, doc: JobJson): Promise<void> {
  const pr = doc.pullRequest;
  const operation = pr && pr.action !== 'unchanged' ? pr.action : 'none';
  core.setOutput('pull-request-number', pr ? String(pr.number) : '');
  core.setOutput('pull-request-url', pr?.url ?? '');
  core.setOutput('pull-request-operation', operation);
  core.setOutput('commit', doc.commit ?? '');
  core.setOutput('branch', doc.branch);
  core.setOutput('changes', JSON.stringify(doc.changes));
  core.info(doc.changes.length > 0 ? 'changes:' : 'nothing to change');
  for (const line of changeTable(doc.changes)) core.info(line);
  const summary = core.summary.addHeading(`gitops-secrets ${command}`, 3);
  if (pr) {
    summary.addRaw(`Pull request ${operation === 'none' ? 'up to date' : operation}: `);
    summary.addLink(`#${pr.number}`, escapeHtml(pr.url)).addBreak();
  } else {
    summary.addRaw(doc.changes.length ? 'No pull request.' : 'Nothing to do.').addBreak();
  }
  await writeTable(summary, [...doc.changes, ...doc.needsInput]);
}

/** Step outputs and job summary of `check`: `pending` and what is pending. */
export async function reportCheck(doc: CheckJson): Promise<void> {
  const rows = [...doc.sync, ...doc.due];
  core.setOutput('pending', String(doc.pending));
  core.setOutput('changes', JSON.stringify(rows));
  core.setOutput('pull-request-operation', 'none');
  core.info(doc.pending ? 'pending:' : 'nothing pending');
  for (const line of changeTable(rows)) core.info(line);
  const summary = core.summary.addHeading('gitops-secrets check', 3);
  summary.addRaw(doc.pending ? 'Work is pending.' : 'Nothing is pending.').addBreak();
  await writeTable(summary, rows);
}

/** The PR's table: secret, key, change and why; names and our own words, never a value. */
async function writeTable(summary: typeof core.summary, rows: ChangeRow[]): Promise<void> {
  if (rows.length > 0) {
    const head = ['Secret', 'Key', 'Change', 'Why'].map((data) => ({ data, header: true }));
    const cells = rows.map((r) =>
      [r.id, r.key === '*' ? '(all keys)' : r.key, r.action, r.reason].map(escapeHtml),
    );
    summary.addTable([head, ...cells]);
  }
  // A runner without job summaries (an old GitHub Enterprise Server) still gets the outputs.
  if (process.env.GITHUB_STEP_SUMMARY) await summary.write();
  else core.info('no job summary: GITHUB_STEP_SUMMARY is not set');
}

/**
 * Fails the step for an error a command threw: each config problem as an annotation at its
 * file and line (relative to the workspace, as the runner expects), others as one error.
 */
export function reportError(e: unknown, repo: string): void {
  if (e instanceof ConfigError) {
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    for (const p of e.problems) {
      core.error(`${p.path ? `${p.path}: ` : ''}${p.message}`, {
        title: 'gitops-secrets config',
        file: relative(workspace, resolve(repo, p.file)),
        startLine: p.line,
        startColumn: p.column,
      });
    }
    core.setFailed(e.message.split('\n')[0] ?? 'config error');
  } else if (e instanceof GitopsSecretsError) {
    core.setFailed(e.remedy ? `${e.message}\n  fix: ${e.remedy}` : e.message);
  } else if (e instanceof CommanderError) {
    core.setFailed(`the args input: ${e.message.replace(/^error: /, '')}`);
  } else {
    core.setFailed(`unexpected failure: ${(e as Error)?.message ?? String(e)}`);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
