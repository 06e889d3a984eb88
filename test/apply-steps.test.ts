/**
 * The apply step's own rules, with the fake sops of test/helpers/fakes.ts: after the first sops
 * failure no further sops process starts; no more at once than the limit; an existing file is
 * changed key by key with its state annotation last; a recipient change re-keys the file
 * (updatekeys, or rotate with the change); a file whose every value is replaced is encrypted
 * again whole only when that changes nothing else (hand-added fields stay); nothing is written
 * through a symlink.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type Document, parseDocument } from 'yaml';
import { applyPlan } from '../src/apply/apply.js';
import { parseConfig } from '../src/config/parse.js';
import type { Config } from '../src/config/types.js';
import { isProblem, type ManifestInfo, readManifest } from '../src/model/manifest.js';
import { plan } from '../src/plan/plan.js';
import { fakeSops, fixedClock, seededRandom } from './helpers/fakes.js';

const AGE = 'age17qedulsl98xzye6ugztw20ae8dmw67ywzx5vcd7xkmv4gyy7zcqqe863nf';

function config(secrets: number, keys = 'KEY: { length: 20 }'): Config {
  const list = Array.from(
    { length: secrets },
    (_, i) => `  - name: s${i}\n    namespace: ns\n    keys: { ${keys} }\n`,
  ).join('');
  const r = parseConfig(
    `version: 1\nsops: { age: [${AGE}] }\nsecrets:\n${list}`,
    'config/secrets.yaml',
  );
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-apply-steps-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const now = () => fixedClock().now();

/** A first sync of `c` into `dir` with the fake sops; returns what the files now hold. */
async function synced(c: Config, dir: string): Promise<Map<string, ManifestInfo>> {
  const p = plan({ config: c, job: 'sync', existing: new Map(), now: now() });
  const written = await applyPlan(
    { plan: p, dir, existing: new Map() },
    { sops: fakeSops(), random: seededRandom() },
  );
  const existing = new Map<string, ManifestInfo>();
  for (const path of written) {
    const info = readManifest(path, await readFile(join(dir, path), 'utf8'));
    if (isProblem(info)) throw new Error(info.problem);
    existing.set(path, info);
  }
  return existing;
}

test('after the first sops failure no further sops process starts, and no more than the limit run at once', async (t) => {
  const dir = await scratch(t);
  const sops = fakeSops();
  const encrypt = sops.encrypt.bind(sops);
  let running = 0;
  let most = 0;
  let started = 0;
  sops.encrypt = async (text, o) => {
    started++;
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    if (started === 5) throw new Error('sops failed on the fifth file');
    return encrypt(text, o);
  };
  const p = plan({ config: config(20), job: 'sync', existing: new Map(), now: now() });
  const error = await t.throwsAsync(
    applyPlan(
      { plan: p, dir, existing: new Map(), concurrency: 2 },
      { sops, random: seededRandom() },
    ),
  );
  t.is(error!.message, 'sops failed on the fifth file');
  t.is(most, 2);
  // The fifth failed while the sixth may have been running; nothing was queued after that.
  t.true(started <= 6, `${started} encryptions started`);
});

test('an existing file: each changed key with sops set, the state annotation last, then the guard', async (t) => {
  const dir = await scratch(t);
  const before = config(1);
  const existing = await synced(before, dir);
  const after = config(1, 'KEY: { length: 20 }, NEW: { length: 8 }');
  const p = plan({ config: after, job: 'sync', existing, now: now() });
  const sops = fakeSops();
  const sets: string[][] = [];
  // sops set, in the fake's style: a data value as fake ciphertext, the annotation as it is.
  sops.set = async (file, path, valueJson) => {
    sets.push([file, ...path]);
    const doc = parseDocument(await readFile(join(dir, file), 'utf8'));
    const value = JSON.parse(valueJson) as string;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const enc = `ENC[AES256_GCM,data:${b64(value)},iv:${b64('iv')},tag:${b64('tag')},type:str]`;
    doc.setIn(path, path[0] === 'data' ? enc : value);
    await writeFile(join(dir, file), doc.toString());
  };
  const written = await applyPlan({ plan: p, dir, existing }, { sops, random: seededRandom() });
  t.deepEqual(written, ['secrets/ns/s0.yaml']);
  t.deepEqual(sets, [
    ['secrets/ns/s0.yaml', 'data', 'NEW'],
    ['secrets/ns/s0.yaml', 'metadata', 'annotations', 'gitops-secrets.io/state'],
  ]);
});

test('a changed recipient re-keys the file: updatekeys with the config recipients, or rotate with the change', async (t) => {
  for (const rotateDataKey of [false, true]) {
    const dir = await scratch(t);
    const existing = await synced(config(1), dir);
    const info = existing.get('secrets/ns/s0.yaml')!;
    existing.set(info.path, {
      ...info,
      recipients: ['azureKv:https://v.vault.azure.net/keys/k/1'],
    });
    const p = plan({ config: config(1), job: 'sync', existing, now: now() });
    t.truthy(p.files[0]?.reencrypt);
    const sops = fakeSops();
    const rekeyed: unknown[] = [];
    sops.updateKeys = async (file, o) => {
      rekeyed.push({ file, rotate: o.rotate, hasRecipients: o.settings?.hasRecipients });
    };
    await applyPlan({ plan: p, dir, existing, rotateDataKey }, { sops, random: seededRandom() });
    t.deepEqual(rekeyed, [
      {
        file: 'secrets/ns/s0.yaml',
        rotate: rotateDataKey ? p.files[0]!.reencrypt : undefined,
        hasRecipients: true,
      },
    ]);
  }
});

test('rotating every key encrypts the file again whole, unless that would drop a hand-added label, annotation, type or other field', async (t) => {
  const PATH = 'secrets/ns/s0.yaml';
  const keys = 'KEY: { length: 20 }, OTHER: { length: 12 }';
  const edits: [string, (doc: Document) => void][] = [
    ['nothing', () => {}],
    ['a label', (doc) => doc.setIn(['metadata', 'labels', 'team'], 'payments')],
    ['an annotation', (doc) => doc.setIn(['metadata', 'annotations', 'owner'], 'alice')],
    ['a metadata field', (doc) => doc.setIn(['metadata', 'finalizers'], ['keep'])],
    ['the type', (doc) => doc.set('type', 'kubernetes.io/basic-auth')],
    ['a top-level field', (doc) => doc.set('immutable', true)],
    [
      'stringData',
      (doc) => doc.set('stringData', { note: 'ENC[AES256_GCM,data:,iv:a,tag:b,type:str]' }),
    ],
    ['a sops setting', (doc) => doc.setIn(['sops', 'shamir_threshold'], 2)],
  ];
  for (const [edit, change] of edits) {
    const dir = await scratch(t);
    await synced(config(1, keys), dir);
    const doc = parseDocument(await readFile(join(dir, PATH), 'utf8'));
    change(doc);
    const handEdited = doc.toString();
    await writeFile(join(dir, PATH), handEdited);
    const info = readManifest(PATH, handEdited);
    if (isProblem(info)) return t.fail(info.problem);
    const existing = new Map([[PATH, info]]);
    const rotate = { secrets: [], key: undefined, force: true };
    const p = plan({ config: config(1, keys), job: 'rotate', existing, now: now(), rotate });
    const sops = fakeSops();
    await applyPlan({ plan: p, dir, existing }, { sops, random: seededRandom('b') });
    const ops = sops.calls.map((c) => c.op);
    const after = await readFile(join(dir, PATH), 'utf8');
    if (edit === 'nothing') {
      t.deepEqual(ops, ['encrypt'], 'one sops process for the whole file');
      t.not(after, handEdited);
      continue;
    }
    // The whole new encryption is dropped: key by key, the file keeps what was added by hand.
    t.deepEqual(ops, ['encrypt', 'set', 'set', 'set'], edit);
    t.is(after, handEdited, edit);
  }
});

test('nothing is written through a symlink on the way to an output file', async (t) => {
  const dir = await scratch(t);
  const elsewhere = await scratch(t);
  await mkdir(join(dir, 'secrets'));
  await symlink(elsewhere, join(dir, 'secrets', 'ns'));
  const p = plan({ config: config(1), job: 'sync', existing: new Map(), now: now() });
  const error = await t.throwsAsync(
    applyPlan({ plan: p, dir, existing: new Map() }, { sops: fakeSops(), random: seededRandom() }),
  );
  t.is(error!.message, 'refusing to write secrets/ns/s0.yaml: secrets/ns is a symlink');
  t.deepEqual(await readdir(elsewhere), [], 'nothing written in the target');
});
