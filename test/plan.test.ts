import test from 'ava';
import { parseConfig } from '../src/config/parse.js';
import type { Config } from '../src/config/types.js';
import { emptyState, type ManifestInfo, type ManifestProblem } from '../src/model/manifest.js';
import { isEmptyPlan, plan } from '../src/plan/plan.js';

function config(text: string): Config {
  const r = parseConfig(text, 'config/secrets.yaml');
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

const CONFIG = config(`version: 1
shared:
  db: { length: 40, rotateEvery: 30d, keepPrevious: true }
secrets:
  - name: a
    namespace: ns
    keys:
      DB: { from: db }
      TOKEN: { provided: true, description: a token }
      KEY: { length: 10, rotateEvery: 1w }
  - name: b
    namespace: ns
    keys:
      PASSWORD: { from: db }
`);

const T0 = '2026-01-01T00:00:00Z';

function manifest(
  path: string,
  name: string,
  keys: Record<string, { shared?: string }>,
): ManifestInfo {
  const state = emptyState();
  for (const [k, v] of Object.entries(keys))
    state.keys[k] = { generated: T0, rotated: T0, ...(v.shared ? { shared: v.shared } : {}) };
  return {
    path,
    name,
    namespace: 'ns',
    dataKeys: Object.keys(keys),
    state,
    recipients: [],
    managed: true,
  };
}

const summary = (p: ReturnType<typeof plan>) =>
  p.files.flatMap((f) => f.changes.map((c) => `${f.id} ${c.key} ${c.action}: ${c.reason}`));

test('empty repo: everything generated once, the shared value once for both consumers, the slot needs input', (t) => {
  const p = plan({ config: CONFIG, job: 'sync', existing: new Map(), now: new Date(T0) });
  t.snapshot(summary(p));
  t.deepEqual(
    p.shared.map((s) => `${s.group} ${s.action}`),
    ['db generate'],
  );
  t.false(isEmptyPlan(p));
});

test('a new consumer reuses the value of an existing one; nothing else changes', (t) => {
  const existing = new Map<string, ManifestInfo | ManifestProblem>([
    ['secrets/ns/a.yaml', manifest('secrets/ns/a.yaml', 'a', { DB: { shared: 'db' }, KEY: {} })],
  ]);
  const p = plan({ config: CONFIG, job: 'sync', existing, now: new Date(T0) });
  t.deepEqual(summary(p), [
    'ns/a TOKEN needs-input: a token',
    'ns/b PASSWORD generate: shared value db, already in use',
  ]);
  t.deepEqual(
    p.shared.map((s) => `${s.group} ${s.action} ${s.from?.path}`),
    ['db reuse secrets/ns/a.yaml'],
  );
});

test('rotation: due keys by policy, the shared value with _PREVIOUS in every consumer; nothing before the due date', (t) => {
  const existing = new Map<string, ManifestInfo | ManifestProblem>([
    [
      'secrets/ns/a.yaml',
      manifest('secrets/ns/a.yaml', 'a', { DB: { shared: 'db' }, KEY: {}, TOKEN: {} }),
    ],
    ['secrets/ns/b.yaml', manifest('secrets/ns/b.yaml', 'b', { PASSWORD: { shared: 'db' } })],
  ]);
  const early = plan({
    config: CONFIG,
    job: 'rotate',
    existing,
    now: new Date('2026-01-07T23:59:59Z'),
  });
  t.true(isEmptyPlan(early));
  const p = plan({
    config: CONFIG,
    job: 'rotate',
    existing,
    now: new Date('2026-02-01T00:00:00Z'),
  });
  t.snapshot(summary(p));
  t.deepEqual(
    p.shared.map((s) => `${s.group} ${s.action}`),
    ['db rotate'],
  );
});

test('keys and secrets gone from the config are orphans; only --prune removes them', (t) => {
  const existing = new Map<string, ManifestInfo | ManifestProblem>([
    [
      'secrets/ns/a.yaml',
      manifest('secrets/ns/a.yaml', 'a', { DB: { shared: 'db' }, KEY: {}, TOKEN: {}, OLD: {} }),
    ],
    ['secrets/ns/b.yaml', manifest('secrets/ns/b.yaml', 'b', { PASSWORD: { shared: 'db' } })],
    ['secrets/ns/gone.yaml', manifest('secrets/ns/gone.yaml', 'gone', { X: {} })],
  ]);
  const kept = plan({ config: CONFIG, job: 'sync', existing, now: new Date(T0) });
  t.deepEqual(
    kept.orphans.map((o) => `${o.path} ${o.keys.join(',')}`),
    ['secrets/ns/a.yaml OLD', 'secrets/ns/gone.yaml '],
  );
  t.true(isEmptyPlan(kept));
  const pruned = plan({ config: CONFIG, job: 'sync', existing, now: new Date(T0), prune: true });
  t.deepEqual(summary(pruned), ['ns/a OLD remove: no longer in the config']);
  t.false(isEmptyPlan(pruned));
});

test('a manifest that cannot be read is a problem, never overwritten', (t) => {
  const existing = new Map<string, ManifestInfo | ManifestProblem>([
    [
      'secrets/ns/a.yaml',
      {
        path: 'secrets/ns/a.yaml',
        problem: 'is not encrypted with sops (no sops section)',
        remedy: 'encrypt it',
      },
    ],
  ]);
  const p = plan({ config: CONFIG, job: 'sync', existing, now: new Date(T0) });
  t.deepEqual(
    p.problems.map((x) => x.path),
    ['secrets/ns/a.yaml'],
  );
  t.false(p.files.some((f) => f.path === 'secrets/ns/a.yaml'));
});

test('rotate --secret: a shared value rotates in every consumer, also unselected ones; --key narrows it away', (t) => {
  const existing = new Map<string, ManifestInfo | ManifestProblem>([
    [
      'secrets/ns/a.yaml',
      manifest('secrets/ns/a.yaml', 'a', { DB: { shared: 'db' }, KEY: {}, TOKEN: {} }),
    ],
    ['secrets/ns/b.yaml', manifest('secrets/ns/b.yaml', 'b', { PASSWORD: { shared: 'db' } })],
  ]);
  const rotate = (secrets: string[], key?: string) =>
    summary(
      plan({
        config: CONFIG,
        job: 'rotate',
        existing,
        now: new Date(T0),
        rotate: { secrets, key, force: true },
      }),
    ).filter((row) => !row.includes('_PREVIOUS'));
  t.deepEqual(rotate(['ns/b']), [
    'ns/a DB rotate: shared value db: forced; last rotated 2026-01-01',
    'ns/b PASSWORD rotate: shared value db: forced; last rotated 2026-01-01',
  ]);
  t.deepEqual(rotate(['ns/a'], 'KEY'), ['ns/a KEY rotate: forced; last rotated 2026-01-01']);
});
