/**
 * readManifest on the manifests users and sops write: what sops 3.13 writes, the same document
 * in other valid YAML styles, and the files it must refuse (plaintext values, not a Secret, not
 * YAML, no sops block).
 */
import test from 'ava';
import { isProblem, readManifest } from '../src/model/manifest.js';

/** What sops 3.13 writes for a Secret (ciphertext shortened; no real key behind it). */
const SOPS_OUTPUT = `apiVersion: v1
kind: Secret
metadata:
    name: s00001
    namespace: ns01
    labels:
        app.kubernetes.io/managed-by: gitops-secrets
    annotations:
        gitops-secrets.io/state: '{"version":1,"keys":{"db":{"generated":"2026-11-22T23:52:55Z","rotated":"2026-11-22T23:52:55Z","shared":"db1"},"it''s":{"generated":"2026-11-22T23:52:55Z","rotated":"2026-11-22T23:52:55Z"}}}'
type: Opaque
data:
    db: ENC[AES256_GCM,data:hkGfdnu3vJGdmHrz1iFIG2pCwKqbjDIk=,iv:iBxiAS+uL4i/rnFj+W8QtWFDAR8ug7aV3v4jZAh9lPg=,tag:F6qhH65Y9a7qjbiTlQqWvw==,type:str]
    key.pem: ENC[AES256_GCM,data:ebsI98gf2rgXQbiZUWXhmp=,iv:tjOOm/jYALZvrYpCEm3kpPGE5y3QOEFdpEnjn723Qmo=,tag:tal8hORjyQbV4xU6BrHxLQ==,type:str]
sops:
    age:
        - enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBWUjhudDFFK2pSVGZhTlRu
            5Cqa6HsYzBfFRZ8jBAT5r3WDujTQW6RLVzpBQITrlWLJ7UGy2SvPRA==
            -----END AGE ENCRYPTED FILE-----
          recipient: age16ev74ww3funf02uf2r6afd4x9sy0z074mclhh02eh9lwm7rsqpgs0sz5st
        - enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            -----END AGE ENCRYPTED FILE-----
          recipient: age1second
    encrypted_regex: ^(data|stringData)$
    lastmodified: "2026-11-22T23:52:56Z"
    mac: ENC[AES256_GCM,data:/Th0vY6q7iR6piF7uvU2ksxrMmELhEF4DVgaH=,iv:m1pfKNvGpG4wR7M+grmHzt8nBn9VeyKLoCRNXxa/9wk=,tag:hmaMBF7cLomiIFpEMy+5bw==,type:str]
    version: 3.13.2
`;

const EXPECTED = {
  path: 'secrets/ns01/s00001.yaml',
  name: 's00001',
  namespace: 'ns01',
  managed: true,
  dataKeys: ['db', 'key.pem'],
  recipients: [
    'age:age16ev74ww3funf02uf2r6afd4x9sy0z074mclhh02eh9lwm7rsqpgs0sz5st',
    'age:age1second',
  ],
};

const read = (text: string) => readManifest(EXPECTED.path, text);

test('sops output: names, keys, state and recipients', (t) => {
  const info = read(SOPS_OUTPUT);
  t.like(info, EXPECTED);
  t.false(isProblem(info));
  if (!isProblem(info)) t.deepEqual(Object.keys(info.state.keys), ['db', "it's"]);
});

test('the same manifest in other valid YAML styles reads the same', (t) => {
  const variants: [string, string][] = [
    [
      'two-space indents',
      SOPS_OUTPUT.replace(/^[\s\S]*?\nsops:/, (head) =>
        head.replace(/^( {4})+/gm, (m) => ' '.repeat(m.length / 2)),
      ),
    ],
    ['comments', SOPS_OUTPUT.replace('kind: Secret\n', 'kind: Secret # a comment\n# another\n')],
    ['a document start marker', `---\n${SOPS_OUTPUT}`],
    ['CRLF line ends', SOPS_OUTPUT.replaceAll('\n', '\r\n')],
    ['quoted keys and scalars', SOPS_OUTPUT.replace('name: s00001', '"name": \'s00001\'')],
    [
      'a flow mapping',
      SOPS_OUTPUT.replace(
        '    labels:\n        app.kubernetes.io/managed-by: gitops-secrets\n',
        '    labels: {app.kubernetes.io/managed-by: gitops-secrets}\n',
      ),
    ],
    [
      'an anchor and alias',
      SOPS_OUTPUT.replace('namespace: ns01', 'namespace: &ns ns01\n    x-copy: *ns'),
    ],
    ['an explicit string tag', SOPS_OUTPUT.replace('name: s00001', 'name: !!str s00001')],
    ['a tab after a key', SOPS_OUTPUT.replace('kind: Secret', 'kind:\tSecret')],
  ];
  for (const [what, text] of variants) t.like(read(text), EXPECTED, what);
  // A number-like name stays the text it is.
  t.like(read(SOPS_OUTPUT.replace('name: s00001', 'name: "00123"')), { name: '00123' });
});

test('a plaintext value under data is refused, naming the key only', (t) => {
  for (const value of ['hunter2', '"ENC"', '123', 'true', '{a: b}', '']) {
    const info = read(SOPS_OUTPUT.replace(/^ {4}db: .*$/m, `    db: ${value}`));
    t.like(info, { problem: 'has a plaintext value under data.db' }, value);
    t.false(JSON.stringify(info).includes('hunter2'));
  }
});

test('an empty value is read as sops leaves it (no secret in it), as the ciphertext guard lets it through', (t) => {
  for (const value of ["''", '""']) {
    const info = read(SOPS_OUTPUT.replace(/^ {4}db: .*$/m, `    db: ${value}`));
    t.false(isProblem(info), value);
    if (!isProblem(info)) t.deepEqual(info.dataKeys, ['db', 'key.pem']);
  }
  // Something that only starts like ciphertext is not ciphertext.
  const half = read(SOPS_OUTPUT.replace(/^ {4}db: .*$/m, '    db: ENC[hunter2]'));
  t.like(half, { problem: 'has a plaintext value under data.db' });
});

test('what is not an encrypted v1 Secret is refused', (t) => {
  const problem = (text: string) => {
    const info = read(text);
    return isProblem(info) ? info.problem : 'read';
  };
  t.is(
    problem(SOPS_OUTPUT.replace('kind: Secret', 'kind: ConfigMap')),
    'is a ConfigMap, not a v1 Secret',
  );
  t.is(
    problem(SOPS_OUTPUT.replace('apiVersion: v1', 'apiVersion: v2')),
    'is a Secret, not a v1 Secret',
  );
  t.is(
    problem(SOPS_OUTPUT.slice(0, SOPS_OUTPUT.indexOf('sops:'))),
    'is not encrypted with sops (no sops section)',
  );
  t.is(
    problem(SOPS_OUTPUT.replace(/^ {4}mac: .*$/m, '')),
    'is not encrypted with sops (no sops section)',
  );
  t.is(problem('- a\n- b\n'), 'is not a Kubernetes manifest');
  t.is(problem(''), 'is not a Kubernetes manifest');
  t.is(problem('a: [b\n'), 'is not valid YAML');
  t.is(problem('k: v\nk: [\n'), 'is not valid YAML');
  // An alias bomb is refused, not expanded.
  const bomb = ['a: &a [x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++)
    bomb.push(
      `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(8).fill(`*${'abcdefghij'[i]}`).join(', ')}]`,
    );
  t.is(problem(`${bomb.join('\n')}\n`), 'is not valid YAML');
  t.is(
    problem(SOPS_OUTPUT.replace(/gitops-secrets\.io\/state: .*$/m, "gitops-secrets.io/state: '{'")),
    'has an unreadable gitops-secrets.io/state annotation',
  );
});
