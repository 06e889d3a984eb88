/**
 * Metadata drift (issue 20, point 5): the labels, annotations and type a secret declares in the
 * config, against the plaintext metadata of its manifest (read without decrypting). The tool's
 * own label and state annotation are never drift; labels and annotations only in the manifest
 * are left as they are.
 */
import test from 'ava';
import { readManifest, renderPlainSecret } from '../src/model/manifest.js';
import { metadataDrift } from '../src/plan/metadata.js';
import { isEmptyPlan, plan } from '../src/plan/plan.js';
import { changeRows, commitSubject } from '../src/plan/summary.js';
import { fakeSops } from './helpers/fakes.js';
import { shopConfig } from './helpers/shop-config.js';

const meta = (
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
  type = 'Opaque',
) => ({ type, labels, annotations });

const spec = (
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
  type = 'Opaque',
) => ({ type, labels, annotations });

test('no drift when the config and the manifest agree (the tool own label and annotation ignored)', (t) => {
  const m = meta(
    { team: 'core', 'app.kubernetes.io/managed-by': 'gitops-secrets' },
    { 'gitops-secrets.io/state': '{}', note: 'x' },
  );
  t.is(metadataDrift(spec({ team: 'core' }, { note: 'x' }), m), undefined);
});

test('a label added, an annotation changed and the type changed are each named', (t) => {
  const d = metadataDrift(
    spec({ team: 'core' }, { owner: 'b' }, 'kubernetes.io/basic-auth'),
    meta({}, { owner: 'a' }),
  );
  t.truthy(d);
  t.is(
    d!.text,
    'label team added, annotation owner changed, type Opaque → kubernetes.io/basic-auth',
  );
  t.deepEqual(d!.labels, { team: 'core' });
  t.deepEqual(d!.annotations, { owner: 'b' });
  t.is(d!.type, 'kubernetes.io/basic-auth');
});

test('labels and annotations only in the manifest are left as they are: not drift', (t) => {
  t.is(
    metadataDrift(spec(), meta({ 'added-by-hand': 'yes' }, { 'argocd.argoproj.io/x': 'y' })),
    undefined,
  );
});

test('readManifest keeps the plaintext metadata: labels, annotations and type', async (t) => {
  const text = await fakeSops().encrypt(
    renderPlainSecret({
      name: 'api',
      namespace: 'shop',
      type: 'kubernetes.io/basic-auth',
      labels: { team: 'core' },
      annotations: { owner: 'me' },
      state: { version: 1, keys: {} },
      data: new Map([['K', 'v']]),
    }),
    {
      filename: 'secrets/shop/api.yaml',
      cwd: '/repo',
      settings: shopConfig('{ length: 10 }').sops,
    },
  );
  const info = readManifest('secrets/shop/api.yaml', text);
  t.false('problem' in info);
  const m = (info as { metadata?: unknown }).metadata as ReturnType<typeof meta>;
  t.is(m.type, 'kubernetes.io/basic-auth');
  t.is(m.labels.team, 'core');
  t.is(m.annotations.owner, 'me');
});

test('sync plans a "metadata changed" row for a label added in the config; rotate does not', async (t) => {
  const config = shopConfig('{ length: 10 }');
  const worker = config.secrets.find((s) => s.name === 'worker')!;
  const path = 'secrets/shop/worker.yaml';
  const text = await fakeSops().encrypt(
    renderPlainSecret({
      name: 'worker',
      namespace: 'shop',
      type: 'Opaque',
      labels: {},
      annotations: {},
      state: { version: 1, keys: { DB_PASSWORD: { generated: 'x', rotated: 'x', shared: 'db' } } },
      data: new Map([['DB_PASSWORD', 'v']]),
    }),
    { filename: path, cwd: '/repo', settings: config.sops },
  );
  const existing = new Map([[path, readManifest(path, text)]]);
  const now = new Date('2026-12-01T00:00:00Z');
  const changed = {
    ...config,
    secrets: config.secrets.map((s) => (s === worker ? { ...s, labels: { team: 'core' } } : s)),
  };
  const p = plan({ config: changed, job: 'sync', existing, now });
  const rows = changeRows(p, new Map(), new Map()).filter((r) => r.id === 'shop/worker');
  t.deepEqual(
    rows.map((r) => [r.key, r.action, r.reason]),
    [['*', 'metadata changed', 'label team added']],
  );
  t.false(isEmptyPlan({ ...p, files: p.files.filter((f) => f.id === 'shop/worker') }));
  t.regex(commitSubject('sync', rows), /update metadata of 1 secret in shop\/worker/);
  const same = plan({ config, job: 'sync', existing, now });
  t.deepEqual(same.files.find((f) => f.id === 'shop/worker')!.changes, []);
  const rotate = plan({ config: changed, job: 'rotate', existing, now });
  t.deepEqual(rotate.files.find((f) => f.id === 'shop/worker')!.changes, []);
});
