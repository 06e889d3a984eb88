/**
 * The readings kept between runs (src/ports/memo.ts): where they are, that they hold no value,
 * that a changed file is read again, that a damaged memo is only a slower run, and the off switch.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { findLeaks, makeScenario, type Scenario } from './helpers/scenario.js';

const CONFIG = `version: 1
output: secrets/{namespace}/{name}.yaml
secrets:
  - name: app
    namespace: shop
    keys:
      token: { length: 40 }
  - name: worker
    namespace: shop
    keys:
      token: { length: 40 }
`;

async function memoFiles(s: Scenario): Promise<string[]> {
  const root = join(s.env.XDG_CACHE_HOME!, 'gitops-secrets');
  const out: string[] = [];
  for (const repo of await readdir(root).catch(() => []))
    for (const f of await readdir(join(root, repo))) out.push(join(root, repo, f));
  return out;
}

async function merged(t: { teardown(fn: () => Promise<void>): void }): Promise<Scenario> {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(CONFIG);
  await s.commitAndPush('config');
  const r = await s.run(['sync']);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await s.mergePullRequest();
  return s;
}

test('a run keeps its readings in one private file under XDG_CACHE_HOME, with no value in it', async (t) => {
  const s = await merged(t);
  const files = await memoFiles(s);
  t.is(files.length, 1);
  t.regex(files[0]!, /gitops-secrets\/[0-9a-f]{16}\/readings-[0-9a-f]{16}\.v8$/);
  t.is((await stat(files[0]!)).mode & 0o777, 0o600);
  t.is((await stat(join(files[0]!, '..'))).mode & 0o777, 0o700);
  const values: string[] = [];
  for (const name of ['app', 'worker']) {
    const file = await readFile(join(s.repo, `secrets/shop/${name}.yaml`), 'utf8');
    values.push(...Object.values((await s.decrypt(file)).data));
  }
  t.is(values.length, 2);
  t.deepEqual(await findLeaks(s, values), []);
});

test('a manifest changed since the last run is read again: check sees it', async (t) => {
  const s = await merged(t);
  t.is((await s.run(['check'])).exitCode, 0);
  // The worker's manifest, with its Secret's keys (and the sops MAC) left as they were, made
  // into a ConfigMap: a reading of the file as it was would still be a good Secret.
  const path = join(s.repo, 'secrets/shop/worker.yaml');
  await writeFile(path, (await readFile(path, 'utf8')).replace('kind: Secret', 'kind: ConfigMap'));
  const r = await s.run(['check', '--json']);
  const off = await s.run(['check', '--json'], { env: { GITOPS_SECRETS_CACHE: 'off' } });
  t.is(r.stdout, off.stdout);
  t.not(r.exitCode, 0);
  t.regex(r.stdout, /worker\.yaml[^\n]*\n?[^\n]*ConfigMap, not a v1 Secret/);
});

test('a config changed since the last run is validated again', async (t) => {
  const s = await merged(t);
  t.is((await s.run(['check'])).exitCode, 0);
  await s.writeConfig(
    CONFIG.replace('length: 40 }\n  - name: worker', 'length: 0 }\n  - name: worker'),
  );
  const r = await s.run(['check']);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /config\/secrets\.yaml:7:\d+/);
});

test('a damaged memo only costs a slower run, and is written again', async (t) => {
  const s = await merged(t);
  const [file] = await memoFiles(s);
  await writeFile(file!, 'not a memo');
  const r = await s.run(['check']);
  t.is(r.exitCode, 0, r.stderr);
  t.not(await readFile(file!, 'utf8'), 'not a memo');
});

test('GITOPS_SECRETS_CACHE=off: nothing is kept', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(CONFIG);
  await s.commitAndPush('config');
  const r = await s.run(['sync'], { env: { GITOPS_SECRETS_CACHE: 'off' } });
  t.is(r.exitCode, 0, r.stderr);
  t.deepEqual(await memoFiles(s), []);
});
