/**
 * `check` and `list` read the manifests of the working tree (no git, no sops): every file at a
 * path the output template renders, without decrypting; a symlink or a broken file there is
 * reported, anything else below the output directory is ignored, and a template that points
 * outside the repo is a config error before anything is read.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { CLI } from './helpers/scenario.js';

const ROTATED = '2026-11-22T23:52:55Z';

/** A manifest as sops writes it (ciphertext shortened; no key behind it). */
const manifest = (ns: string, name: string) => `apiVersion: v1
kind: Secret
metadata:
    name: ${name}
    namespace: ${ns}
    labels:
        app.kubernetes.io/managed-by: gitops-secrets
    annotations:
        gitops-secrets.io/state: '{"version":1,"keys":{"pass":{"generated":"${ROTATED}","rotated":"${ROTATED}"}}}'
type: Opaque
data:
    pass: ENC[AES256_GCM,data:hkGfdnu3vJGdmHrz1iFIG2pCwKqbjDIk=,iv:iBxiAS+uL4i/rnFj+W8QtWFDAR8ug7aV3v4jZAh9lPg=,tag:F6qhH65Y9a7qjbiTlQqWvw==,type:str]
sops:
    age:
        - recipient: age16ev74ww3funf02uf2r6afd4x9sy0z074mclhh02eh9lwm7rsqpgs0sz5st
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "${ROTATED}"
    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]
    version: 3.13.2
`;

const config = (names: string[], output?: string) => `version: 1
${output ? `output: ${output}\n` : ''}sops:
  age: [age16ev74ww3funf02uf2r6afd4x9sy0z074mclhh02eh9lwm7rsqpgs0sz5st]
secrets:
${names.map((id) => `  - { namespace: ${id.split('/')[0]}, name: ${id.split('/')[1]}, keys: { pass: { length: 20 } } }`).join('\n')}
`;

async function repo(t: { teardown(fn: () => Promise<void>): void }, files: Record<string, string>) {
  const root = await mkdtemp(join(tmpdir(), 'gs-working-tree-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

/** The row `list --json` gives the one key, pass, of a declared secret. */
const passKey = (state: string, lastRotated: string | null) => ({
  key: 'pass',
  source: 'generated: 20 alphanumeric characters',
  state,
  lastRotated,
  nextDue: null,
  proposed: null,
});

const cli = (root: string, args: string[]) =>
  execa(process.execPath, [CLI, ...args, '--repo', root, '--now', '2026-12-01T00:00:00Z'], {
    reject: false,
  });

test('check and list read each manifest at an output path; symlinks and broken files are reported, other files ignored', async (t) => {
  const declared = ['ns0/s0', 'ns0/s1', 'ns0/link', 'ns1/s0', 'ns1/broken', 'ns2/absent'];
  const root = await repo(t, {
    'config/secrets.yaml': config(declared),
    'secrets/ns0/s0.yaml': manifest('ns0', 's0'),
    'secrets/ns0/s1.yaml': manifest('ns0', 's1'),
    'secrets/ns1/s0.yaml': manifest('ns1', 's0'),
    'secrets/ns1/broken.yaml': 'apiVersion: v1\nkind: [unclosed\n',
    'secrets/ns1/orphan.yaml': manifest('ns1', 'orphan'),
    'secrets/ns0/README.md': 'not a manifest\n',
    'secrets/ns0/deeper/x.yaml': 'not at an output path\n',
  });
  await symlink('s1.yaml', join(root, 'secrets/ns0/link.yaml'));

  const listed = await cli(root, ['list', '--json']);
  t.is(listed.exitCode, 0, listed.stderr);
  const states = Object.fromEntries(
    (
      JSON.parse(listed.stdout) as {
        secrets: { id: string; keys: { state: string; lastRotated: string | null }[] }[];
      }
    ).secrets.map((s) => [s.id, s.keys[0]]),
  );
  t.deepEqual(states, {
    'ns0/s0': passKey('present', ROTATED),
    'ns0/s1': passKey('present', ROTATED),
    'ns0/link': passKey('unreadable', null),
    'ns1/s0': passKey('present', ROTATED),
    'ns1/broken': passKey('unreadable', null),
    'ns2/absent': passKey('missing', null),
  });

  const checked = await cli(root, ['check', '--json']);
  t.is(checked.exitCode, 3, checked.stderr);
  const result = JSON.parse(checked.stdout) as {
    problems: { path: string; problem: string }[];
    orphans: { path: string }[];
    sync: { id: string; key: string }[];
  };
  t.deepEqual(result.problems.map((p) => [p.path, p.problem]).sort(), [
    ['secrets/ns0/link.yaml', 'is a symlink'],
    ['secrets/ns1/broken.yaml', 'is not valid YAML'],
  ]);
  // Only manifests at an output path count: README.md and deeper/x.yaml are not orphans.
  t.deepEqual(
    result.orphans.map((o) => o.path),
    ['secrets/ns1/orphan.yaml'],
  );
  t.true(result.sync.some((r) => r.id === 'ns2/absent' && r.key === 'pass'));
});

test('a repo without the output directory has every key missing', async (t) => {
  const root = await repo(t, { 'config/secrets.yaml': config(['a/b']) });
  const checked = await cli(root, ['check']);
  t.is(checked.exitCode, 3, checked.stderr);
  t.regex(checked.stdout, /pending for sync:\n\s+a\/b\s+pass/);
  const listed = await cli(root, ['list']);
  t.is(listed.exitCode, 0, listed.stderr);
  t.regex(listed.stdout, /a\/b\s+-\s+pass\s+generated: 20 alphanumeric characters\s+missing/);
});

test('an output template outside the repo is a config error: exit 2, nothing there is read', async (t) => {
  for (const output of [
    '../outside/{namespace}/{name}.yaml',
    '/etc/{namespace}/{name}.yaml',
    '.git/{namespace}/{name}.yaml',
  ]) {
    const root = await repo(t, { 'config/secrets.yaml': config(['a/b'], output) });
    // What the template names outside the repo (or in .git) holds a file that a read would
    // report as a problem.
    await mkdir(join(root, '.git/a'), { recursive: true });
    await writeFile(join(root, '.git/a/b.yaml'), 'kind: [unclosed\n');
    for (const command of ['check', 'list']) {
      const r = await cli(root, [command]);
      t.is(r.exitCode, 2, `${command} ${output}: ${r.stderr}`);
      t.regex(r.stderr, /config\/secrets\.yaml:2:\d+: output/, `${command} ${output}`);
      t.notRegex(r.stdout + r.stderr, /unclosed|not valid YAML/);
    }
  }
});
