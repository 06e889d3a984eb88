/**
 * A stable PR (issue 20, point 9): a rerun describes what the job branch holds against the base
 * exactly as the run that put it there did (kind, forced, reason), so the PR's title and body do
 * not change. Each case plans a first run against the base, writes its changes into the branch's
 * manifests as apply does (their state annotations, keys, recipients), plans the rerun from the
 * branch and compares the rows of the two runs. No process, no disk.
 */
import test from 'ava';
import { keyState } from '../src/apply/secret-state.js';
import { setInPlan } from '../src/commands/set.js';
import { emptyState, type ManifestInfo } from '../src/model/manifest.js';
import { parseState, stateToString } from '../src/model/state.js';
import { type Plan, type PlanInput, plan, type RotateSelection } from '../src/plan/plan.js';
import { pullRequestBody } from '../src/plan/pr-body.js';
import { type ChangeRow, changeRows, commitSubject } from '../src/plan/summary.js';
import { config, managedManifest, NEW, OLD, T0 } from './helpers/plan-fixtures.js';

const FIRST = new Date('2026-06-01T00:00:00Z');
const RERUN = new Date('2026-06-02T00:00:00Z');

const CONFIG = config(`version: 1
sops: { age: [${NEW}] }
shared:
  analytics-db-password: { length: 40, rotateEvery: 30d, keepPrevious: true }
  partner.token: { provided: true, description: Token issued by the partner }
secrets:
  - name: analytics
    namespace: renku
    labels: { team: data }
    keys:
      DB_PASSWORD: { from: analytics-db-password }
      SESSION: { length: 32, rotateEvery: 90d, keepPrevious: true }
      COOKIE: { length: 16, rotateEvery: 7d }
  - name: reporting
    namespace: renku
    keys:
      DB_PASSWORD: { from: analytics-db-password }
      PARTNER: { from: partner.token }
      API_TOKEN: { provided: true, description: Token for the analytics API }
`);

type Infos = Map<string, ManifestInfo>;

/** A manifest as the tool leaves it, read back without decrypting. */
function manifest(id: string, keys: string[], recipient = NEW, at = T0): [string, ManifestInfo] {
  const state = emptyState();
  for (const k of keys) {
    state.keys[k] = { generated: at, rotated: at };
    if (k === 'DB_PASSWORD') state.keys[k].shared = 'analytics-db-password';
    if (k === 'PARTNER') state.keys[k].shared = 'partner.token';
    if (k === 'API_TOKEN') state.keys[k].provided = true;
    if (k.endsWith('_PREVIOUS')) state.keys[k].previousOf = k.replace(/_PREVIOUS$/, '');
  }
  return managedManifest(id, keys, recipient, state);
}

/** The branch after applying `p` to `base`, as apply writes it (plaintext metadata only). */
function applied(p: Plan, base: Infos): Infos {
  const out: Infos = new Map(base);
  for (const f of p.files) {
    const before = base.get(f.path);
    const info: ManifestInfo = before
      ? structuredClone(before)
      : { ...manifest(f.id, [])[1], path: f.path };
    let changed = false;
    for (const c of f.changes) {
      if (c.action === 'needs-input') continue;
      changed = true;
      if (c.action === 'metadata') {
        const m = info.metadata!;
        info.metadata = {
          type: f.secret.type,
          labels: { ...m.labels, ...f.secret.labels },
          annotations: { ...m.annotations, ...f.secret.annotations },
        };
        continue;
      }
      if (c.action === 'remove') {
        info.dataKeys = info.dataKeys.filter((k) => k !== c.key);
        delete info.state.keys[c.key];
        continue;
      }
      info.state.keys[c.key] = keyState(f, c, p.now, before?.state.keys[c.key]);
      if (!info.dataKeys.includes(c.key)) info.dataKeys = [...info.dataKeys, c.key];
    }
    if (f.reencrypt) {
      info.recipients = [`age:${NEW}`];
      changed = true;
    }
    if (changed) out.set(f.path, info);
  }
  if (p.prune) for (const o of p.orphans) if (o.keys.length === 0) out.delete(o.path);
  return out;
}

interface Run {
  job: 'sync' | 'rotate';
  rotate?: RotateSelection;
  prune?: boolean;
  adjust?: (p: Plan) => void;
}

function planned(run: Run, existing: Infos, base: Infos, now: Date): Plan {
  const input: PlanInput = {
    config: CONFIG,
    job: run.job,
    existing,
    now,
    base,
    prune: run.prune ?? false,
    ...(run.rotate ? { rotate: run.rotate } : {}),
  };
  const p = plan(input);
  run.adjust?.(p);
  return p;
}

const shown = (rows: ChangeRow[]) =>
  rows.map((r) => [r.id, r.key, r.action, r.forced ?? false, r.reason].join(' | '));

/** The first run's rows, and the rerun's (plain `sync`/`rotate`) from the branch it left. */
function twoRuns(base: Infos, first: Run) {
  const p1 = planned(first, base, base, FIRST);
  const rows1 = changeRows(p1, base, base, CONFIG.shared);
  const branch = applied(p1, base);
  const p2 = planned({ job: first.job }, branch, base, RERUN);
  const rows2 = changeRows(p2, base, branch, CONFIG.shared);
  return { rows1, rows2 };
}

function same(t: import('ava').ExecutionContext, base: Infos, first: Run): string[] {
  const { rows1, rows2 } = twoRuns(base, first);
  t.deepEqual(shown(rows2), shown(rows1));
  t.is(commitSubject(first.job, rows2), commitSubject(first.job, rows1));
  const body = (rows: ChangeRow[]) =>
    pullRequestBody({ job: first.job, base: 'main', rows, config: CONFIG });
  t.is(body(rows2), body(rows1));
  return shown(rows1);
}

/** Written the day before the first run: nothing is due by its policy. */
const RECENT = '2026-05-31T00:00:00Z';

const ALL = new Map([
  manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE']),
  manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN']),
]);

test('sync from nothing: shared values stay "shared value …", never "missing"', (t) => {
  const rows = same(t, new Map(), { job: 'sync' });
  t.true(
    rows.includes(
      'renku/reporting | DB_PASSWORD | generated | false | shared value analytics-db-password',
    ),
  );
  t.true(rows.includes('renku/analytics | SESSION | generated | false | missing'));
});

test('sync of a new consumer of a shared value the base holds: "already in use" stays', (t) => {
  const rows = same(
    t,
    new Map([manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE'])]),
    {
      job: 'sync',
    },
  );
  t.true(
    rows.includes(
      'renku/reporting | DB_PASSWORD | generated | false | shared value analytics-db-password, already in use',
    ),
  );
});

test('rotate --force of a key not due: forced on the rerun too, with its _PREVIOUS', (t) => {
  const recent = new Map([
    manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE'], NEW, RECENT),
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN'], NEW, RECENT),
  ]);
  const rows = same(t, recent, {
    job: 'rotate',
    rotate: { secrets: ['renku/analytics'], key: 'SESSION', force: true },
  });
  t.true(
    rows.includes('renku/analytics | SESSION | rotated | true | forced; last rotated 2026-05-31'),
  );
  t.true(
    rows.includes(
      'renku/analytics | SESSION_PREVIOUS | generated | false | value of SESSION before this rotation',
    ),
  );
});

test('rotate --force with a _PREVIOUS already on the base: its rotation is forced too', (t) => {
  const base = new Map([
    manifest(
      'renku/analytics',
      ['DB_PASSWORD', 'SESSION', 'SESSION_PREVIOUS', 'COOKIE'],
      NEW,
      RECENT,
    ),
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN'], NEW, RECENT),
  ]);
  const rows = same(t, base, {
    job: 'rotate',
    rotate: { secrets: ['renku/analytics'], key: 'SESSION', force: true },
  });
  t.true(
    rows.includes(
      'renku/analytics | SESSION_PREVIOUS | rotated | true | value of SESSION before this rotation',
    ),
  );
});

test('rotate --force of a shared value: forced in every consumer on the rerun too', (t) => {
  const recent = new Map([
    manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE'], NEW, RECENT),
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN'], NEW, RECENT),
  ]);
  const rows = same(t, recent, {
    job: 'rotate',
    rotate: { secrets: ['renku/reporting'], key: 'DB_PASSWORD', force: true },
  });
  t.true(
    rows.includes(
      'renku/analytics | DB_PASSWORD | rotated | true | shared value analytics-db-password: forced; last rotated 2026-05-31',
    ),
  );
});

test('a scheduled rotation (own and shared values due by policy) reads the same on the rerun', (t) => {
  const rows = same(t, ALL, { job: 'rotate' });
  t.true(
    rows.includes(
      'renku/analytics | SESSION | rotated | false | last rotated 2026-01-01, policy 90d',
    ),
  );
  t.true(
    rows.includes(
      'renku/analytics | COOKIE | rotated | false | last rotated 2026-01-01, policy 7d',
    ),
  );
  t.true(
    rows.includes(
      'renku/reporting | DB_PASSWORD | rotated | false | shared value analytics-db-password: last rotated 2026-01-01, policy 30d',
    ),
  );
});

test('sync --prune: the removed key and the removed secret stay removed on a plain rerun', (t) => {
  const base = new Map([
    manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE', 'OLD_KEY']),
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN']),
    manifest('renku/gone', ['X']),
  ]);
  const rows = same(t, base, { job: 'sync', prune: true });
  t.true(rows.includes('renku/analytics | OLD_KEY | removed | false | no longer in the config'));
  t.true(rows.includes('renku/gone | * | removed | false | secret no longer in the config'));
});

test('re-keyed for new recipients stays re-keyed', (t) => {
  const base = new Map([
    manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE'], OLD),
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN']),
  ]);
  const rows = same(t, base, { job: 'sync' });
  t.true(
    rows.includes(
      'renku/analytics | * | re-keyed | false | recipients changed (1 added, 1 removed); no value changes',
    ),
  );
});

test('set: a slot and a replaced shared value stay provided', (t) => {
  const slots = CONFIG.secrets
    .filter((s) => s.name === 'analytics' || s.name === 'reporting')
    .map((secret) => ({
      secret,
      key: secret.keys.find((k) => k.name === 'DB_PASSWORD')!,
      environment: undefined,
    }));
  const rows = same(t, ALL, {
    job: 'sync',
    adjust: setInPlan(slots, 'v', 'shared value analytics-db-password replaced by a person'),
  });
  t.true(
    rows.includes(
      'renku/analytics | DB_PASSWORD | provided | false | shared value analytics-db-password replaced by a person',
    ),
  );
  const reporting = CONFIG.secrets.find((s) => s.name === 'reporting')!;
  const slot = [
    {
      secret: reporting,
      key: reporting.keys.find((k) => k.name === 'API_TOKEN')!,
      environment: undefined,
    },
  ];
  const base = new Map([
    manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE']),
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER']),
  ]);
  const filled = same(t, base, {
    job: 'sync',
    adjust: setInPlan(slot, 'v', 'value provided by a person'),
  });
  t.true(
    filled.includes('renku/reporting | API_TOKEN | provided | false | value provided by a person'),
  );
});

test('metadata changed on the branch stays "metadata changed"', (t) => {
  const [path, info] = manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE']);
  info.metadata = { type: 'Opaque', labels: {}, annotations: {} };
  const base = new Map([[path, info], manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER'])]);
  const rows = same(t, base, { job: 'sync' });
  t.true(rows.includes('renku/analytics | * | metadata changed | false | label team added'));
});

test('rotate --force of a key that was due anyway: still forced on the rerun', (t) => {
  const analytics = manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE'], NEW, RECENT);
  // SESSION alone is due by its policy (90d): the rerun must not read its rotation as scheduled.
  analytics[1].state.keys.SESSION = { generated: T0, rotated: T0 };
  const base = new Map([
    analytics,
    manifest('renku/reporting', ['DB_PASSWORD', 'PARTNER', 'API_TOKEN'], NEW, RECENT),
  ]);
  const rows = same(t, base, {
    job: 'rotate',
    rotate: { secrets: ['renku/analytics'], key: 'SESSION', force: true },
  });
  t.true(
    rows.includes('renku/analytics | SESSION | rotated | true | forced; last rotated 2026-01-01'),
  );
});

test('the state records a forced write; the next write that is not forced leaves it out', (t) => {
  const [, info] = manifest('renku/analytics', ['DB_PASSWORD', 'SESSION', 'COOKIE']);
  const base = new Map([[info.path, info]]);
  const forced = planned(
    { job: 'rotate', rotate: { secrets: ['renku/analytics'], key: 'SESSION', force: true } },
    base,
    base,
    FIRST,
  );
  const after = applied(forced, base).get(info.path)!.state;
  t.is(after.keys.SESSION?.forced, true);
  t.is(parseState(stateToString(after))?.keys.SESSION?.forced, true);
  t.is(after.keys.COOKIE?.forced, undefined);
  const branch = new Map([[info.path, { ...info, state: after }]]);
  const due = planned({ job: 'rotate' }, branch, branch, new Date('2026-12-01T00:00:00Z'));
  const later = applied(due, branch).get(info.path)!.state;
  t.is(later.keys.SESSION?.forced, undefined);
  // A manifest of an older version, without the field, reads as before.
  const old = '{"version":1,"keys":{"A":{"generated":"x","rotated":"x","forced":"yes"}}}';
  t.deepEqual(parseState(old)?.keys.A, { generated: 'x', rotated: 'x' });
});
