/**
 * Unit tests of the planner (src/plan/plan.ts `plan()`) and the text built from a plan (commit
 * subject and message, PR body), with the port fakes of test/helpers/fakes.ts: the repo's
 * manifests are what the fake sops returns for the tool's plaintext, read back by the model
 * (readManifest), and time is a fixed clock moved by hand. No process, no disk, no network.
 */
import test from 'ava';
import {
  type KeyState,
  type ManifestInfo,
  type ManifestProblem,
  readManifest,
  renderPlainSecret,
} from '../src/model/manifest.js';
import { isEmptyPlan, type Plan, plan } from '../src/plan/plan.js';
import { pullRequestBody } from '../src/plan/pr-body.js';
import { changeRows, commitMessage, commitSubject } from '../src/plan/summary.js';
import { fakeSops, fixedClock } from './helpers/fakes.js';
import { SHOP_RECIPIENT, shopConfig } from './helpers/shop-config.js';

const NEW = SHOP_RECIPIENT;
const OLD = 'age173k90tk8j8qnyrjrpz7q9sqkl43s0en3e9asl83clkzm03345f2q7pma59';
const CONFIG = shopConfig('{ length: 10, rotateEvery: 90d }');

type Repo = Map<string, ManifestInfo | ManifestProblem>;

/**
 * A manifest as a run of the tool leaves it: the plaintext the tool renders, encrypted by the
 * fake sops for `recipient`, read back without decrypting.
 */
async function stored(name: string, keys: Record<string, KeyState>, recipient = NEW) {
  const path = `secrets/shop/${name}.yaml`;
  const state = { version: 1 as const, keys };
  const data = new Map(Object.keys(keys).map((k) => [k, `value-of-${k}`]));
  const plain = { name, namespace: 'shop', type: 'Opaque', labels: {}, annotations: {} };
  const text = await fakeSops().encrypt(renderPlainSecret({ ...plain, state, data }), {
    filename: path,
    cwd: '/repo',
    settings: { ...CONFIG.sops, age: [recipient] },
  });
  return [path, readManifest(path, text)] as const;
}

/** The repo after a first sync at `at`: every key but the provided slot, the shared value in both. */
async function syncedRepo(at: string, extra: Record<string, KeyState> = {}, recipient = NEW) {
  const key = { generated: at, rotated: at };
  return new Map([
    await stored('api', { DB: { ...key, shared: 'db' }, KEY: key, ...extra }, recipient),
    await stored('worker', { DB_PASSWORD: { ...key, shared: 'db' } }, recipient),
  ]) as Repo;
}

const changes = (p: Plan) =>
  p.files.flatMap((f) => f.changes.map((c) => `${f.id} ${c.key} ${c.action}: ${c.reason}`));

test('the fake sops output is what readManifest expects: key names, state, recipients, managed', async (t) => {
  const [, info] = await stored('api', { KEY: { generated: 'x', rotated: 'x' } });
  t.like(info, { name: 'api', namespace: 'shop', dataKeys: ['KEY'], managed: true });
  t.deepEqual((info as ManifestInfo).recipients, [`age:${NEW}`]);
});

test('a key due by its rotateEvery is rotated with reason "last rotated …, policy 90d"; not a day before', async (t) => {
  const clock = fixedClock('2026-01-01T00:00:00Z');
  const existing = await syncedRepo('2026-01-01T00:00:00Z');
  clock.advance(clock.days(89));
  t.true(isEmptyPlan(plan({ config: CONFIG, job: 'rotate', existing, now: clock.now() })));
  clock.advance(clock.days(1));
  const p = plan({ config: CONFIG, job: 'rotate', existing, now: clock.now() });
  t.deepEqual(
    changes(p).filter((c) => !c.includes('needs-input')),
    ['shop/api KEY rotate: last rotated 2026-01-01, policy 90d'],
  );
  t.deepEqual(p.shared, [], 'the shared value has no policy: not rotated');
});

test('a shared value is generated once for all consumers', (t) => {
  const p = plan({ config: CONFIG, job: 'sync', existing: new Map(), now: fixedClock().now() });
  t.deepEqual(
    p.shared.map((s) => `${s.group} ${s.action}`),
    ['db generate'],
  );
  const consumers = p.files.flatMap((f) =>
    f.changes.filter((c) => c.value?.kind === 'shared').map((c) => `${f.id} ${c.key}`),
  );
  t.deepEqual(consumers, ['shop/api DB', 'shop/worker DB_PASSWORD']);
  for (const f of p.files)
    for (const c of f.changes)
      if (c.value?.kind === 'shared') t.deepEqual(c.value, { kind: 'shared', group: 'db' });
});

test('a new consumer of a shared value reuses the value a consumer already holds', async (t) => {
  const existing = await syncedRepo('2026-01-01T00:00:00Z');
  existing.delete('secrets/shop/worker.yaml');
  const p = plan({ config: CONFIG, job: 'sync', existing, now: fixedClock().now() });
  t.deepEqual(
    p.shared.map((s) => `${s.action} ${s.from?.path} ${s.from?.key}`),
    ['reuse secrets/shop/api.yaml DB'],
  );
  t.deepEqual(changes(p), [
    'shop/api TOKEN needs-input: the payment token',
    'shop/worker DB_PASSWORD generate: shared value db, already in use',
  ]);
});

test('a provided slot is needs-input with its description, and alone makes no work', async (t) => {
  const existing = await syncedRepo('2026-01-01T00:00:00Z');
  const p = plan({ config: CONFIG, job: 'sync', existing, now: fixedClock().now() });
  t.deepEqual(changes(p), ['shop/api TOKEN needs-input: the payment token']);
  t.true(isEmptyPlan(p));
});

test('prune removes keys and files gone from the config only with --prune', async (t) => {
  const existing = await syncedRepo('2026-01-01T00:00:00Z', {
    OLD: { generated: '2026-01-01T00:00:00Z', rotated: '2026-01-01T00:00:00Z' },
  });
  existing.set(...(await stored('gone', { X: { generated: 'x', rotated: 'x' } })));
  const now = fixedClock().now();
  const kept = plan({ config: CONFIG, job: 'sync', existing, now });
  t.deepEqual(
    kept.orphans.map((o) => `${o.path} [${o.keys.join(',')}]`),
    ['secrets/shop/api.yaml [OLD]', 'secrets/shop/gone.yaml []'],
  );
  t.false(changes(kept).some((c) => c.includes('remove')));
  t.true(isEmptyPlan(kept));
  const pruned = plan({ config: CONFIG, job: 'sync', existing, now, prune: true });
  t.deepEqual(
    changes(pruned).filter((c) => c.includes('remove')),
    ['shop/api OLD remove: no longer in the config'],
  );
  t.false(isEmptyPlan(pruned), 'the orphaned file is deleted');
});

test('a recipient changed in the config re-encrypts every file, adding the new and removing the old', async (t) => {
  const existing = await syncedRepo('2026-01-01T00:00:00Z', {}, OLD);
  const p = plan({ config: CONFIG, job: 'sync', existing, now: fixedClock().now() });
  t.deepEqual(
    p.files.map((f) => [f.path, f.reencrypt?.add, f.reencrypt?.remove]),
    [
      ['secrets/shop/api.yaml', [`age:${NEW}`], [`age:${OLD}`]],
      ['secrets/shop/worker.yaml', [`age:${NEW}`], [`age:${OLD}`]],
    ],
  );
  t.false(isEmptyPlan(p));
});

test('commit text: one subject line naming counts and secrets, and the job trailer', (t) => {
  const p = plan({ config: CONFIG, job: 'sync', existing: new Map(), now: fixedClock().now() });
  const rows = changeRows(p, new Map(), new Map());
  t.is(commitSubject('sync', rows), 'chore(secrets): generate 3 keys in shop/api, shop/worker');
  t.is(
    commitMessage('sync', rows),
    'chore(secrets): generate 3 keys in shop/api, shop/worker\n\nGitops-Secrets-Job: sync\n',
  );
});

test('PR body of a sync: the change table, the slot to fill with its set command, the job marker', (t) => {
  const p = plan({ config: CONFIG, job: 'sync', existing: new Map(), now: fixedClock().now() });
  const rows = changeRows(p, new Map(), new Map());
  const body = pullRequestBody({ job: 'sync', base: 'main', rows, config: CONFIG });
  t.regex(body, /^## gitops-secrets sync$/m);
  t.true(body.includes('This pull request changes 2 secrets against `main`: generate 3 keys.'));
  t.true(body.includes('| `shop/worker` | `DB_PASSWORD` | generated | shared value db |'));
  t.true(
    body.includes('- `shop/api` `TOKEN`: the payment token (`gitops-secrets set shop/api TOKEN`)'),
  );
  t.true(body.trimEnd().endsWith('<!-- gitops-secrets:job=sync -->'));
});

test('PR body of a rotation: the rotated key with its reason, the restart checklist', async (t) => {
  const clock = fixedClock('2026-01-01T00:00:00Z');
  const existing = await syncedRepo('2026-01-01T00:00:00Z');
  clock.advance(clock.days(90));
  const p = plan({ config: CONFIG, job: 'rotate', existing, now: clock.now() });
  const rows = changeRows(p, new Map(), new Map());
  const body = pullRequestBody({ job: 'rotate', base: 'main', rows, config: CONFIG });
  t.true(body.includes('This pull request changes 1 secret against `main`: rotate 1 key.'));
  t.true(body.includes('| `shop/api` | `KEY` | rotated | last rotated 2026-01-01, policy 90d |'));
  t.true(body.includes('Consumers that cache the old value are restarted'));
  t.true(body.trimEnd().endsWith('<!-- gitops-secrets:job=rotate -->'));
  t.is(commitSubject('rotate', rows), 'chore(secrets): rotate 1 key in shop/api');
});
