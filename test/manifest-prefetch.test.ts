import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import test from 'ava';
import { readManifestsFromDisk } from '../src/apply/repo-state.js';
import type { Config } from '../src/config/types.js';
import { DEFAULT_OUTPUT } from '../src/config/types.js';
import {
  guessOutput,
  type ManifestPrefetch,
  type PrefetchedEntry,
  prefetchFor,
  prefetchManifests,
} from '../src/core/manifest-prefetch.js';

/** A manifest as sops writes it (ciphertext shortened; no key behind it). */
const manifest = (ns: string, name: string, pad = '') => `apiVersion: v1
kind: Secret
metadata:
    name: ${name}
    namespace: ${ns}
    labels:
        app.kubernetes.io/managed-by: gitops-secrets
    annotations:
        gitops-secrets.io/state: '{"version":1,"keys":{"pass":{"generated":"2026-11-22T23:52:55Z","rotated":"2026-11-22T23:52:55Z"}}}'
type: Opaque
data:
    pass: ENC[AES256_GCM,data:hkGfdnu3vJGdmHrz1iFIG2pCwKqbjDIk=,iv:iBxiAS+uL4i/rnFj+W8QtWFDAR8ug7aV3v4jZAh9lPg=,tag:F6qhH65Y9a7qjbiTlQqWvw==,type:str]
sops:
    age:
        - recipient: age16ev74ww3funf02uf2r6afd4x9sy0z074mclhh02eh9lwm7rsqpgs0sz5st
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-11-22T23:52:55Z"
    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]${pad}
    version: 3.13.2
`;

const config = (output: string) => ({ output }) as unknown as Config;

/** The manifests of `root` for the default template, read with this prefetch (or without). */
const read = (root: string, prefetch?: ManifestPrefetch) =>
  readManifestsFromDisk(root, config(DEFAULT_OUTPUT), prefetch);

/** A tree of 1,203 manifests, more than two of the worker's 500-file chunks, and odd entries. */
async function tree(t: { teardown(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(join(tmpdir(), 'gs-prefetch-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (let n = 0; n < 3; n++) {
    await mkdir(join(root, `secrets/ns${n}/deeper`), { recursive: true });
    for (let i = 0; i < 401; i++)
      await writeFile(join(root, `secrets/ns${n}/s${i}.yaml`), manifest(`ns${n}`, `s${i}`));
  }
  // Bigger than a 1 MB chunk: the worker grows its buffer for it.
  await writeFile(
    join(root, 'secrets/ns1/big.yaml'),
    manifest('ns1', 'big', `\n    # ${'x'.repeat(3 << 20)}`),
  );
  await writeFile(join(root, 'secrets/ns0/README.md'), 'not a manifest\n');
  await writeFile(join(root, 'secrets/ns0/deeper/x.yaml'), 'not at an output path\n');
  await writeFile(join(root, 'secrets/ns2/broken.yaml'), 'apiVersion: v1\nkind: [unclosed\n');
  await writeFile(join(root, 'secrets/ns2/configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\n');
  await symlink('s1.yaml', join(root, 'secrets/ns0/link.yaml'));
  return root;
}

test('manifests read on the worker thread are what the main thread reads', async (t) => {
  const root = await tree(t);
  const alone = await read(root);
  const prefetched = await read(root, prefetchManifests(root, DEFAULT_OUTPUT));
  t.is(alone.size, 3 * 401 + 4);
  t.deepEqual([...prefetched], [...alone]); // same entries, same (readdir) order
  t.like(prefetched.get('secrets/ns0/link.yaml'), { problem: 'is a symlink' });
  t.like(prefetched.get('secrets/ns2/broken.yaml'), { problem: 'is not valid YAML' });
  t.like(prefetched.get('secrets/ns1/big.yaml'), { name: 'big', dataKeys: ['pass'] });
  t.false(prefetched.has('secrets/ns0/README.md'));
  t.false(prefetched.has('secrets/ns0/deeper/x.yaml'));
});

test('the worker reads each file at an output path, in readdir order, and reports symlinks', async (t) => {
  const root = await tree(t);
  const matcher = /^secrets\/[^/]+\/[^/]+\.yaml$/;
  const expected = readdirSync(join(root, 'secrets'), { recursive: true, withFileTypes: true })
    .map((e) => ({ e, path: relative(root, join(e.parentPath, e.name)) }))
    .filter(({ path }) => matcher.test(path));
  const got: PrefetchedEntry[] = [];
  let chunks = 0;
  for await (const chunk of prefetchManifests(root, DEFAULT_OUTPUT).entries()) {
    if (!chunk) return t.fail('the worker failed');
    chunks++;
    got.push(...chunk);
  }
  t.true(chunks >= 3);
  t.deepEqual(
    got.map((g) => g.path),
    expected.map((x) => x.path),
  );
  for (const g of got) {
    if (g.path === 'secrets/ns0/link.yaml') t.is(g.kind, 'symlink');
    else if (g.kind === 'file') t.is(g.text, readFileSync(g.full, 'utf8'), g.path);
    else t.fail(`${g.path}: ${g.kind}`);
  }
});

test('a prefetch is used only for its own tree and template', async (t) => {
  const made = (root: string, template: string) => {
    const p = {
      root,
      template,
      cancelled: false,
      async *entries() {
        yield [{ path: 'secrets/a/b.yaml', full: '/nowhere', kind: 'symlink' as const }];
      },
      cancel() {
        p.cancelled = true;
      },
    };
    return p;
  };
  const root = await mkdtemp(join(tmpdir(), 'gs-prefetch-stub-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const used = made(root, DEFAULT_OUTPUT);
  t.deepEqual([...(await read(root, used)).keys()], ['secrets/a/b.yaml']);
  // A worker that failed: the tree is read here.
  await mkdir(join(root, 'secrets/a'), { recursive: true });
  await writeFile(join(root, 'secrets/a/c.yaml'), 'kind: [unclosed\n');
  const failed = {
    ...made(root, DEFAULT_OUTPUT),
    async *entries() {
      yield undefined;
    },
  };
  t.deepEqual([...(await read(root, failed)).keys()], ['secrets/a/c.yaml']);
  for (const other of [
    made(root, 'x/{namespace}/{name}.yaml'),
    made(`${root}/x`, DEFAULT_OUTPUT),
  ]) {
    t.deepEqual([...(await read(root, other)).keys()], ['secrets/a/c.yaml']);
    t.true(other.cancelled);
  }
});

test('a prefetch for another template or tree is not used', async (t) => {
  const root = await tree(t);
  const alone = await read(root);
  // The guess was wrong: nothing of the other template's directory is taken.
  const other = await read(root, prefetchManifests(root, 'elsewhere/{namespace}/{name}.yaml'));
  t.deepEqual([...other], [...alone]);
  const elsewhere = await mkdtemp(join(tmpdir(), 'gs-prefetch-other-'));
  t.teardown(() => rm(elsewhere, { recursive: true, force: true }));
  const otherTree = await read(root, prefetchManifests(elsewhere, DEFAULT_OUTPUT));
  t.deepEqual([...otherTree], [...alone]);
});

test('a tree without the output directory reads as empty, with or without the worker', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'gs-prefetch-empty-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  t.is((await read(root, prefetchManifests(root, DEFAULT_OUTPUT))).size, 0);
});

test('the output template is guessed from the config text', (t) => {
  t.is(guessOutput('version: 1\nsecrets: []\n'), DEFAULT_OUTPUT);
  t.is(
    guessOutput('version: 1\noutput: k8s/{namespace}/{name}.yml\n'),
    'k8s/{namespace}/{name}.yml',
  );
  t.is(guessOutput("output: 'a/{namespace}/{name}.yaml' # where\n"), 'a/{namespace}/{name}.yaml');
  t.is(guessOutput('output: "a/{namespace}/{name}.yaml"\r\n'), 'a/{namespace}/{name}.yaml');
  // Only a top-level key counts.
  t.is(guessOutput('secrets:\n  - output: x/{name}.yaml\n'), DEFAULT_OUTPUT);
});

test('a guessed template outside the repo is not read', (t) => {
  const root = join(tmpdir(), 'gs-prefetch-none');
  for (const output of [
    '../../{namespace}/{name}.yaml',
    '/etc/{namespace}/{name}.yaml',
    '.git/{name}.yaml',
  ])
    t.is(prefetchFor(root, `version: 1\noutput: ${output}\n`), undefined, output);
  const inside = prefetchFor(root, 'version: 1\noutput: k8s/{namespace}/{name}.yaml\n');
  t.is(inside?.template, 'k8s/{namespace}/{name}.yaml');
  inside?.cancel();
});
