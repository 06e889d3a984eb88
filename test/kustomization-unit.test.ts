import test from 'ava';
import {
  isKustomizationPath,
  kustomizationCandidates,
  newKsopsGenerator,
  resolveEntry,
} from '../src/model/kustomization.js';
import { kustomizationKind, type UpkeepInput, upkeep } from '../src/model/kustomize-upkeep.js';
import { templateMatcher } from '../src/model/paths.js';
import { pullRequestBody } from '../src/plan/pr-body.js';
import { handWrittenKsopsGenerator } from './helpers/ksops-generator.js';
import { config } from './helpers/plan-fixtures.js';

/**
 * The upkeep of a small tree: texts by path, the managed manifests that exist; `more` replaces
 * any of the inputs (by default the kustomizations under secrets/ are the ones also looked at).
 */
function upkeepOf(
  files: Record<string, string>,
  present: string[],
  more: Partial<UpkeepInput> = {},
) {
  const matcher = templateMatcher('secrets/{namespace}/{name}.yaml');
  return upkeep({
    mode: undefined,
    present: new Set(present),
    exists: (p) => present.includes(p) || p in files,
    managed: (p) => matcher.test(p),
    also: Object.keys(files).filter((p) => p.startsWith('secrets/') && isKustomizationPath(p)),
    text: (p) => files[p],
    ...more,
  });
}

/** The upkeep of a small tree in a given kustomize mode. */
function run(files: Record<string, string>, present: string[], mode?: UpkeepInput['mode']) {
  return upkeepOf(files, present, { mode });
}

/** A kustomization with comments, quoting and spacing; `entries` follow its last resource. */
const commentedWith = (entries = '') => `# Flux applies this directory.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

# the app itself
resources:
- deployment.yaml   # the workload
- './prod/db.yaml'  # kept quoted
${entries}# secrets below

namespace: prod # trailing
`;
const commented = commentedWith();

test('adds the new manifests after the last entry, keeping comments, quoting and spacing', (t) => {
  const out = run({ 'secrets/kustomization.yaml': commented }, [
    'secrets/prod/db.yaml',
    'secrets/prod/api.yaml',
    'secrets/web/cookie.yaml',
  ]);
  t.deepEqual(out.problems, []);
  t.is(out.edits.length, 1);
  t.is(out.edits[0]!.text, commentedWith("- 'prod/api.yaml'\n- 'web/cookie.yaml'\n"));
  t.deepEqual(out.edits[0]!.added, ['secrets/prod/api.yaml', 'secrets/web/cookie.yaml']);
  t.snapshot(out.edits[0]!.text, 'kustomization with comments, one entry added');
});

test('an entry in any equivalent spelling is not added again; nothing to do is no edit', (t) => {
  const text = 'resources:\n  - ./prod/db.yaml\n  - web/../web/cookie.yaml\n  - prod//api.yaml\n';
  const out = run({ 'secrets/kustomization.yaml': text }, [
    'secrets/prod/db.yaml',
    'secrets/web/cookie.yaml',
    'secrets/prod/api.yaml',
  ]);
  t.deepEqual(out, { edits: [], problems: [] });
});

test('removes entries of managed manifests that are gone, and nothing else', (t) => {
  const text = `resources:
    - deployment.yaml
    # the database
    - prod/db.yaml # rotated monthly
    - prod/api.yaml
    - https://github.com/org/repo//base?ref=v1
    - ../outside.yaml
`;
  const out = run({ 'secrets/kustomization.yaml': text }, ['secrets/prod/api.yaml']);
  t.deepEqual(out.problems, []);
  t.is(
    out.edits[0]!.text,
    `resources:
    - deployment.yaml
    # the database
    - prod/api.yaml
    - https://github.com/org/repo//base?ref=v1
    - ../outside.yaml
`,
  );
  t.deepEqual(out.edits[0]!.removed, ['secrets/prod/db.yaml']);
  t.snapshot(out.edits[0]!.text, 'kustomization with a pruned entry removed');
});

test('the nearest kustomization lists the manifest; a new resources list keeps the file style', (t) => {
  const files = {
    'kustomization.yaml': 'resources:\n- apps\n',
    'secrets/prod/kustomization.yml': 'namespace: prod\nlabels:\n  - pairs:\n      a: b\n',
  };
  const out = run(files, ['secrets/prod/db.yaml']);
  t.deepEqual(out.problems, []);
  t.deepEqual(
    out.edits.map((e) => [e.path, e.text]),
    [
      [
        'secrets/prod/kustomization.yml',
        'namespace: prod\nlabels:\n  - pairs:\n      a: b\nresources:\n  - db.yaml\n',
      ],
    ],
  );
});

test('a flow list is kept a flow list', (t) => {
  const out = run({ 'secrets/kustomization.yaml': 'resources: [a.yaml, prod/db.yaml]\n' }, [
    'secrets/web/cookie.yaml',
  ]);
  t.is(out.edits[0]!.text, 'resources: [a.yaml, web/cookie.yaml]\n');
});

test('ksops mode: the generator listed gets the file; an explicit mode creates one', (t) => {
  const gen = handWrittenKsopsGenerator('secrets', 'files:\n  - ./prod/db.yaml # first\n');
  const k = 'generators:\n  - ./secret-generator.yaml\n';
  const detected = run({ 'secrets/kustomization.yaml': k, 'secrets/secret-generator.yaml': gen }, [
    'secrets/prod/db.yaml',
    'secrets/prod/api.yaml',
  ]);
  t.deepEqual(detected.problems, []);
  t.deepEqual(
    detected.edits.map((e) => e.path),
    ['secrets/secret-generator.yaml'],
  );
  t.true(detected.edits[0]!.text.endsWith('  - ./prod/db.yaml # first\n  - prod/api.yaml\n'));
  const created = run(
    { 'secrets/kustomization.yaml': 'resources: []\n' },
    ['secrets/prod/db.yaml'],
    'ksops',
  );
  t.deepEqual(created.problems, []);
  t.snapshot(
    created.edits.map((e) => `# ${e.path}${e.created ? ' (new)' : ''}\n${e.text}`).join('\n'),
    'ksops generator created and listed',
  );
  // Detected without a ksops generator: resources.
  const plain = run({ 'secrets/kustomization.yaml': 'resources: []\n' }, ['secrets/prod/db.yaml']);
  t.is(plain.edits[0]!.text, 'resources:\n- prod/db.yaml\n', 'an empty [] becomes a block list');
  t.deepEqual(run({ 'secrets/kustomization.yaml': k }, ['secrets/prod/db.yaml'], 'off'), {
    edits: [],
    problems: [],
  });
});

test('an unparseable kustomization, or a list it cannot edit, is refused with file:line:col', (t) => {
  const cases: Record<string, string> = {
    'resources:\n- a.yaml\n- [b.yaml\n': 'is not valid YAML',
    'resources: a.yaml\n': 'is not a list',
    'resources:\n- a.yaml\n- {path: b.yaml}\n': 'not a plain string',
    'a: 1\n---\nb: 2\n': 'more than one document',
  };
  const found = Object.entries(cases).map(([text]) => {
    const out = run({ 'secrets/kustomization.yaml': text }, ['secrets/prod/db.yaml']);
    t.deepEqual(out.edits, []);
    return out.problems.map(
      (p) => `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
    );
  });
  Object.values(cases).forEach((want, i) => {
    t.is(found[i]!.length, 1);
    t.regex(
      found[i]![0]!,
      new RegExp(`^secrets/kustomization.yaml:\\d+:\\d+: .*${want.replace(/[[\]]/g, '\\$&')}`),
    );
  });
  t.snapshot(found.flat().join('\n'), 'refusals');
});

test('paths: candidates up to the root, entries resolved inside the repo only', (t) => {
  t.deepEqual(kustomizationCandidates('a/b.yaml'), [
    'a/kustomization.yaml',
    'a/kustomization.yml',
    'a/Kustomization',
    'kustomization.yaml',
    'kustomization.yml',
    'Kustomization',
  ]);
  t.is(resolveEntry('secrets', './prod/../prod/db.yaml'), 'secrets/prod/db.yaml');
  t.is(resolveEntry('secrets', '../../x.yaml'), undefined);
  t.is(resolveEntry('', 'https://example.com/x.yaml'), undefined);
  t.is(resolveEntry('', 'git@github.com:org/repo.git'), undefined);
});

test('the PR body names each kustomization the commit changes, one line each', (t) => {
  const body = pullRequestBody({
    job: 'sync',
    base: 'main',
    rows: [],
    config: config('version: 1\nsecrets: []\n'),
    kustomizations: [
      {
        path: 'secrets/kustomization.yaml',
        kind: kustomizationKind({
          path: 'secrets/kustomization.yaml',
          text: '',
          created: false,
          added: ['secrets/a/b.yaml', 'secrets/a/c.yaml'],
          removed: ['secrets/a/d.yaml'],
        }),
      },
    ],
  });
  t.true(
    body.includes(
      '- `secrets/kustomization.yaml`: kustomization updated: 2 entries added, 1 removed\n',
    ),
  );
});

test('an empty kustomization gets a resources list; the last entry removed leaves an empty [] one', (t) => {
  const empty = run({ 'secrets/kustomization.yaml': '# nothing yet\n' }, ['secrets/prod/db.yaml']);
  t.is(empty.edits[0]!.text, '# nothing yet\nresources:\n- prod/db.yaml\n');
  const last = run(
    { 'secrets/kustomization.yaml': 'resources: # ours\n  - prod/db.yaml\nnamespace: x\n' },
    [],
  );
  // `resources:` with no value would be null: an empty list is written `[]`.
  t.is(last.edits[0]!.text, 'resources: [] # ours\nnamespace: x\n');
  const again = run({ 'secrets/kustomization.yaml': last.edits[0]!.text }, [
    'secrets/prod/db.yaml',
  ]);
  t.is(again.edits[0]!.text, 'resources: # ours\n- prod/db.yaml\nnamespace: x\n');
});

test('a kustomization found only by scanning, with no manifest of its own, is not refused when unreadable', (t) => {
  const files: Record<string, string> = {
    'secrets/kustomization.yaml': 'resources:\n- prod/db.yaml\n',
    'secrets/tools/kustomization.yaml': 'resources: [\n',
  };
  const out = upkeepOf(files, ['secrets/prod/db.yaml'], { also: [], scan: Object.keys(files) });
  t.deepEqual(out, { edits: [], problems: [] });
});

test('kustomize: ksops moves an entry out of resources into the generator (listed twice, kustomize would build it twice)', (t) => {
  const out = run(
    { 'secrets/kustomization.yaml': 'resources:\n- configmap.yaml\n- prod/db.yaml\n' },
    ['secrets/prod/db.yaml'],
    'ksops',
  );
  t.deepEqual(out.problems, []);
  t.deepEqual(
    out.edits.map((e) => [e.path, e.text, kustomizationKind(e)]),
    [
      [
        'secrets/kustomization.yaml',
        'resources:\n- configmap.yaml\ngenerators:\n- secret-generator.yaml\n',
        'kustomization updated: 1 moved out',
      ],
      [
        'secrets/secret-generator.yaml',
        newKsopsGenerator(['prod/db.yaml']),
        'ksops generator added: 1 entry added',
      ],
    ],
  );
});

test('files beside the Secrets are never listed as Secrets, and their entries are not dangling', (t) => {
  // secrets/prod/ holds the kustomization, its generator and a ConfigMap: all at paths the
  // output template can produce.
  const files = {
    'secrets/prod/kustomization.yaml': 'resources:\n- configmap.yaml\n- gone.yaml\n',
    'secrets/prod/configmap.yaml': 'kind: ConfigMap\n',
  };
  const out = run(files, ['secrets/prod/db.yaml']);
  t.deepEqual(out.problems, []);
  t.is(out.edits[0]!.text, 'resources:\n- configmap.yaml\n- db.yaml\n');
  t.deepEqual(out.edits[0]!.removed, ['secrets/prod/gone.yaml']);
});

test('flow lists: entries taken out (any of them), others kept as written, new ones appended', (t) => {
  const text = "resources: [ prod/a.yaml, 'x.yaml', prod/b.yaml ] # flow\n";
  const out = run({ 'secrets/kustomization.yaml': text }, ['secrets/prod/c.yaml']);
  t.deepEqual(out.problems, []);
  t.is(out.edits[0]!.text, "resources: [ 'x.yaml', prod/c.yaml ] # flow\n");
  const none = run({ 'secrets/kustomization.yaml': 'resources: [prod/a.yaml]\n' }, []);
  t.is(none.edits[0]!.text, 'resources: []\n');
});

test('a ksops generator whose last file is pruned keeps `files: []` (ksops refuses a generator without its files list)', (t) => {
  const gen = newKsopsGenerator(['prod/db.yaml', 'prod/api.yaml']);
  const out = run(
    {
      'secrets/kustomization.yaml': 'generators:\n- secret-generator.yaml\n',
      'secrets/secret-generator.yaml': gen,
    },
    [],
  );
  t.deepEqual(out.problems, []);
  t.deepEqual(out.edits[0]!.removed, ['secrets/prod/db.yaml', 'secrets/prod/api.yaml']);
  t.is(out.edits[0]!.text, gen.replace('files:\n- prod/db.yaml\n- prod/api.yaml\n', 'files: []\n'));
});

test('a listed generator the tool cannot read stops the run at its position (invalid, a symlink, a ksops one among several documents); several documents of other kinds are not ours', (t) => {
  const k = { 'secrets/kustomization.yaml': 'generators:\n- gen.yaml\n' };
  const problems = (gen: string, symlink = false) => {
    const files: Record<string, string> = { ...k, 'secrets/gen.yaml': gen };
    const out = upkeepOf(files, ['secrets/prod/db.yaml'], {
      also: [],
      symlink: (p) => symlink && p === 'secrets/gen.yaml',
    });
    t.deepEqual(out.edits, [], 'nothing written (not even under resources:)');
    return out.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
  };
  const ksops = newKsopsGenerator(['prod/db.yaml']);
  t.regex(
    problems('kind: ksops\nfiles: [\n')[0] ?? '',
    /^secrets\/gen\.yaml:\d+:\d+: is not valid YAML/,
  );
  // The blob of a symlink is the path it points to.
  t.regex(
    problems('../elsewhere/gen.yaml')[0] ?? '',
    /^secrets\/gen\.yaml:1:1: is not a YAML mapping/,
  );
  t.regex(problems(ksops, true)[0] ?? '', /^secrets\/gen\.yaml:1:1: is a symlink/);
  t.deepEqual(problems(`kind: Other\n---\n${ksops}`), [
    'secrets/gen.yaml:5:1: holds a ksops generator among several YAML documents: gitops-secrets edits a ksops generator only in a file of its own; move it to one',
  ]);
  const others = run({ ...k, 'secrets/gen.yaml': 'kind: A\n---\nkind: B\n' }, [
    'secrets/prod/db.yaml',
  ]);
  t.deepEqual(others.problems, []);
  t.is(others.edits[0]!.text, 'generators:\n- gen.yaml\nresources:\n- prod/db.yaml\n');
});

test('several ksops generators: a manifest any of them lists is listed, and stays where it is; a new one goes to the first', (t) => {
  const gen = (file: string) => newKsopsGenerator([file]);
  const files = {
    'secrets/kustomization.yaml': 'generators:\n- one.yaml\n- two.yaml\n',
    'secrets/one.yaml': gen('prod/a.yaml'),
    'secrets/two.yaml': gen('prod/b.yaml'),
  };
  const out = run(files, ['secrets/prod/a.yaml', 'secrets/prod/b.yaml', 'secrets/prod/c.yaml']);
  t.deepEqual(out.problems, []);
  t.deepEqual(
    out.edits.map((e) => [e.path, e.text, kustomizationKind(e)]),
    [
      [
        'secrets/one.yaml',
        newKsopsGenerator(['prod/a.yaml', 'prod/c.yaml']),
        'ksops generator updated: 1 entry added',
      ],
    ],
  );
  t.deepEqual(run(files, ['secrets/prod/a.yaml', 'secrets/prod/b.yaml']).edits, []);
});

test('a manifest a kustomization further up lists is listed: not added to the nearest one too', (t) => {
  const gen = newKsopsGenerator(['prod/api.yaml']);
  const files = {
    'secrets/kustomization.yaml': 'resources:\n- prod/db.yaml\n- prod\ngenerators:\n- gen.yaml\n',
    'secrets/gen.yaml': gen,
    'secrets/prod/kustomization.yaml': 'resources:\n- configmap.yaml\n',
    'secrets/prod/configmap.yaml': 'kind: ConfigMap\n',
    'kustomization.yaml': 'resources:\n- ./secrets/prod/web.yaml\n',
  };
  const present = ['secrets/prod/db.yaml', 'secrets/prod/api.yaml', 'secrets/prod/web.yaml'];
  t.deepEqual(run(files, present), { edits: [], problems: [] });
  const more = run(files, [...present, 'secrets/prod/new.yaml']);
  t.deepEqual(more.problems, []);
  t.deepEqual(
    more.edits.map((e) => [e.path, e.text]),
    [['secrets/prod/kustomization.yaml', 'resources:\n- configmap.yaml\n- new.yaml\n']],
  );
});
