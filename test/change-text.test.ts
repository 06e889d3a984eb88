/**
 * Truthful text (issue 20): every change has its real kind in each output built from a plan —
 * the PR title (the commit subject), the commit message, the PR body, the terminal and `--json`
 * — and the restart command of each changed secret is in the terminal, `--dry-run` and `--json`.
 * Plans come from small configs and manifests read without decrypting; no process, no disk.
 */
import test from 'ava';
import type { JobResult } from '../src/apply/run-job.js';
import { jobJson } from '../src/commands/common.js';
import { setInPlan } from '../src/commands/set.js';
import { formatJob } from '../src/format.js';
import { emptyState, type ManifestInfo } from '../src/model/manifest.js';
import { type Plan, type PlanInput, plan } from '../src/plan/plan.js';
import { pullRequestBody } from '../src/plan/pr-body.js';
import { changeRows, commitMessage, commitSubject, restartHints } from '../src/plan/summary.js';
import { config, keptnSecrets, managedManifest, NEW, OLD, T0 } from './helpers/plan-fixtures.js';

const NOW = new Date('2026-06-01T00:00:00Z');

const CONFIG = config(`version: 1
sops: { age: [${NEW}] }
${keptnSecrets()}`);

/** A manifest as the tool leaves it, read back without decrypting. */
function manifest(id: string, keys: string[], recipient = NEW): [string, ManifestInfo] {
  const state = emptyState();
  for (const k of keys) state.keys[k] = { generated: T0, rotated: T0 };
  return managedManifest(id, keys, recipient, state);
}

const BRIDGE_KEYS = ['session_secret', 'database_encrypt_secret'];

function repo(...files: [string, ManifestInfo][]): PlanInput['existing'] {
  return new Map(files);
}

/** Every output a run shows, built from one plan as the CLI builds it. */
function outputs(p: Plan) {
  const rows = changeRows(p, new Map(), new Map());
  const restart = restartHints(CONFIG, rows);
  const result: JobResult = {
    job: p.job,
    branch: `gitops-secrets/${p.job}`,
    base: 'main',
    rows,
    plan: p,
    commit: 'c0ffee0000000000000000000000000000000000',
    pushed: true,
    pullRequest: undefined,
    sopsProcesses: 0,
    work: true,
  };
  return {
    title: commitSubject(p.job, rows),
    commitMessage: commitMessage(p.job, rows),
    body: pullRequestBody({ job: p.job, base: 'main', rows, config: CONFIG }),
    terminal: formatJob(result, false, restart).join('\n'),
    dryRun: formatJob(result, true, restart).join('\n'),
    json: jobJson(result, false, restart),
  };
}

const sync = (existing: PlanInput['existing'], prune = false) =>
  plan({ config: CONFIG, job: 'sync', existing, now: NOW, prune });

/** A rotate run over keptn/bridge-oauth with both keys in place, by policy or as selected. */
const rotateBridge = (rotate?: PlanInput['rotate']) =>
  plan({
    config: CONFIG,
    job: 'rotate',
    existing: repo(manifest('keptn/bridge-oauth', BRIDGE_KEYS)),
    now: NOW,
    ...(rotate ? { rotate } : {}),
  });

test('generated: a missing key is generated', (t) => {
  const o = outputs(sync(repo(manifest('keptn/bridge-oauth', ['session_secret']))));
  t.snapshot(o);
  t.is(o.title, 'chore(secrets): generate 1 key in keptn/bridge-oauth');
  t.regex(o.terminal, /database_encrypt_secret\s+generated\s+missing/);
  t.deepEqual(
    o.json.changes.map((c) => c.action),
    ['generated'],
  );
});

test('rotated: a key due by its policy is rotated, not "forced"', (t) => {
  const p = rotateBridge();
  const o = outputs(p);
  t.snapshot(o);
  t.is(o.title, 'chore(secrets): rotate 1 key in keptn/bridge-oauth');
  t.regex(o.body, /\| `session_secret` \| rotated \| last rotated 2026-01-01, policy 90d \|/);
  t.false(JSON.stringify(o).includes('forced'));
});

test('rotated (forced): rotate --force says it was forced in every output', (t) => {
  const p = rotateBridge({ secrets: ['keptn/bridge-oauth'], key: undefined, force: true });
  const o = outputs(p);
  t.snapshot(o);
  t.is(o.title, 'chore(secrets): rotate 2 keys (forced) in keptn/bridge-oauth');
  t.regex(o.body, /\| `database_encrypt_secret` \| rotated \(forced\) \|/);
  t.regex(o.terminal, /session_secret\s+rotated \(forced\)\s+forced; last rotated 2026-01-01/);
  t.deepEqual(
    o.json.changes.map((c) => [c.key, c.action, c.forced]),
    [
      ['database_encrypt_secret', 'rotated', true],
      ['session_secret', 'rotated', true],
    ],
  );
});

test('provided: a value set by a person is "provided", never "generated"', (t) => {
  const p = sync(repo(manifest('keptn/bridge-oauth', BRIDGE_KEYS)));
  const analytics = CONFIG.secrets[1]!;
  const slot = { secret: analytics, key: analytics.keys[0]!, environment: undefined };
  setInPlan([slot], 'a value', 'value provided by a person')(p);
  const o = outputs(p);
  t.snapshot(o);
  t.is(o.title, 'chore(secrets): provide 1 key in renku/analytics');
  t.regex(
    o.body,
    /\| `renku\/analytics` \| `API_TOKEN` \| provided \| value provided by a person \|/,
  );
  t.false(/generat/i.test(`${o.title}\n${o.body}\n${o.terminal}`));
  t.deepEqual(
    o.json.changes.map((c) => c.action),
    ['provided'],
  );
  t.false(JSON.stringify(o).includes('a value'));
});

test('removed: sync --prune removes a key and a secret, and reads as a removal', (t) => {
  const p = sync(
    repo(
      manifest('keptn/bridge-oauth', [...BRIDGE_KEYS, 'old_key']),
      manifest('keptn/gone', ['x']),
    ),
    true,
  );
  const o = outputs(p);
  t.snapshot(o);
  t.is(o.title, 'chore(secrets): remove 1 secret and 1 key in keptn/bridge-oauth, keptn/gone');
  t.regex(
    o.body,
    /This pull request changes 2 secrets against `main`: remove 1 secret and 1 key\./,
  );
  t.false(/\badd|generat/i.test(`${o.title}\n${o.body}`));
  t.deepEqual(
    o.json.changes.map((c) => [c.id, c.key, c.action]),
    [
      ['keptn/bridge-oauth', 'old_key', 'removed'],
      ['keptn/gone', '*', 'removed'],
    ],
  );
});

test('removed: a secret alone removed by --prune: "remove 1 secret"', (t) => {
  const o = outputs(
    sync(repo(manifest('keptn/bridge-oauth', BRIDGE_KEYS), manifest('keptn/gone', ['x'])), true),
  );
  t.is(o.title, 'chore(secrets): remove 1 secret in keptn/gone');
  t.regex(o.terminal, /^changes: remove 1 secret$/m);
  t.deepEqual(o.json.restart, [], 'a removed secret has nothing to restart');
});

test('re-keyed: changed recipients re-key the secret, with no value change', (t) => {
  const o = outputs(sync(repo(manifest('keptn/bridge-oauth', BRIDGE_KEYS, OLD))));
  t.snapshot(o);
  t.is(o.title, 'chore(secrets): re-key 1 secret for new recipients in keptn/bridge-oauth');
  t.regex(o.terminal, /\(all keys\)\s+re-keyed\s+recipients changed \(1 added, 1 removed\)/);
  t.deepEqual(
    o.json.changes.map((c) => c.action),
    ['re-keyed'],
  );
});

test('kinds together: the title counts each kind, the forced share of rotations too', (t) => {
  const row = (key: string, action: 'generated' | 'rotated' | 'provided', forced = false) => ({
    id: 'ns/a',
    path: 'secrets/ns/a.yaml',
    key,
    action,
    ...(forced ? { forced: true as const } : {}),
    reason: 'r',
  });
  t.is(
    commitSubject('rotate', [row('a', 'rotated', true), row('b', 'rotated'), row('c', 'rotated')]),
    'chore(secrets): rotate 3 keys (1 forced) in ns/a',
  );
  t.is(
    commitSubject('sync', [row('a', 'generated'), row('b', 'provided')]),
    'chore(secrets): generate 1 key, provide 1 key in ns/a',
  );
});

test('restart hints: terminal, --dry-run and --json name the command of every changed secret', (t) => {
  const command = 'kubectl delete pods -n keptn --selector=app.kubernetes.io/name=bridge';
  const p = rotateBridge();
  const o = outputs(p);
  t.true(o.terminal.includes(`restart after merge:\n  keptn/bridge-oauth: ${command}`), o.terminal);
  t.true(o.dryRun.includes(`restart after merge:\n  keptn/bridge-oauth: ${command}`), o.dryRun);
  t.deepEqual(o.json.restart, [{ secret: 'keptn/bridge-oauth', command }]);
  t.true(o.body.includes(command));
  // A secret without a restart command, or without changes, has none.
  const none = outputs(sync(repo(manifest('keptn/bridge-oauth', BRIDGE_KEYS))));
  t.deepEqual(none.json.restart, []);
  t.false(none.terminal.includes('restart after merge'));
});

test('a rerun keeps the kinds an earlier run put on the job branch: provided stays provided', (t) => {
  const base = repo(manifest('keptn/bridge-oauth', BRIDGE_KEYS));
  const [path, onBranch] = manifest('renku/analytics', ['API_TOKEN']);
  onBranch.state.keys.API_TOKEN = { generated: T0, rotated: T0, provided: true };
  const start = new Map([...base, [path, onBranch]]);
  const p = sync(start);
  const infos = new Map([...start].filter((e): e is [string, ManifestInfo] => 'dataKeys' in e[1]));
  const rows = changeRows(p, new Map(base as Map<string, ManifestInfo>), infos);
  t.deepEqual(
    rows.map((r) => [r.id, r.key, r.action, r.reason]),
    [['renku/analytics', 'API_TOKEN', 'provided', 'value provided by a person']],
  );
  t.is(commitSubject('sync', rows), 'chore(secrets): provide 1 key in renku/analytics');
});
