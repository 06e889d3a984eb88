import test from 'ava';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { readManifest, readYamlSubset } from '../src/model/manifest.js';

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

/** The subset reader either declines, or returns exactly what the `yaml` package reads. */
function agrees(text: string): boolean {
  const fast = readYamlSubset(text);
  if (fast === undefined) return true;
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) return false;
  let slow: unknown;
  try {
    slow = doc.toJS({ maxAliasCount: 50 });
  } catch {
    return false;
  }
  return JSON.stringify(fast) === JSON.stringify(slow);
}

test('sops output is read by the subset reader, exactly as the yaml package reads it', (t) => {
  const fast = readYamlSubset(SOPS_OUTPUT);
  t.not(fast, undefined);
  t.deepEqual(fast, parseDocument(SOPS_OUTPUT).toJS());
  const info = readManifest('secrets/ns01/s00001.yaml', SOPS_OUTPUT);
  t.like(info, { name: 's00001', namespace: 'ns01', managed: true, dataKeys: ['db', 'key.pem'] });
  t.deepEqual((info as { recipients: string[] }).recipients, [
    'age:age16ev74ww3funf02uf2r6afd4x9sy0z074mclhh02eh9lwm7rsqpgs0sz5st',
    'age:age1second',
  ]);
});

test('texts outside the subset are declined', (t) => {
  for (const text of [
    'a: 1\n', // a number
    'a: true\n',
    'a: ~\n',
    'a: x # comment\n',
    'a: &x y\nb: *x\n',
    'a: !!str 1\n',
    'a: {b: c}\n',
    'a: [b]\n',
    'a:\n- b\n', // sequence not indented
    'a: b\n  c\n', // multi-line plain scalar
    'k: v\nk: w\n', // duplicate key
    '---\na: b\n',
    'a: b', // no final newline
    'a:\tb\n',
    'a: >\n  folded\n',
    '__proto__: x\n',
    '- a\n',
  ])
    t.is(readYamlSubset(text), undefined, text);
});

const MUTATION_CHARS = [' ', '  ', '\n', ':', ': ', '- ', '-', '#', ' #', "'", '"', '|', '|-', '>'];
const MORE_CHARS = ['&a', '*a', '!', '[', ']', '{', '}', ',', '\\', '\t', '1', '.', '~', 'x', '?'];
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(...MUTATION_CHARS, ...MORE_CHARS),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('indent' as const),
    at: fc.nat(),
    by: fc.integer({ min: -4, max: 4 }),
  }),
);

function mutate(text: string, muts: unknown[]): string {
  let out = text;
  for (const raw of muts) {
    const m = raw as { kind: string; at: number; text?: string; length?: number; by?: number };
    const lines = out.split('\n');
    if (m.kind === 'insert') {
      const at = m.at % (out.length + 1);
      out = out.slice(0, at) + m.text + out.slice(at);
    } else if (m.kind === 'delete') {
      const at = m.at % (out.length + 1);
      out = out.slice(0, at) + out.slice(at + (m.length ?? 1));
    } else if (m.kind === 'dupLine') {
      const at = m.at % lines.length;
      lines.splice(at, 0, lines[at]!);
      out = lines.join('\n');
    } else {
      const at = m.at % lines.length;
      const by = m.by ?? 0;
      lines[at] =
        by >= 0 ? ' '.repeat(by) + lines[at] : lines[at]!.replace(new RegExp(`^ {0,${-by}}`), '');
      out = lines.join('\n');
    }
  }
  return out;
}

test('mutated sops output: the subset reader declines or agrees with the yaml package', (t) => {
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) =>
      agrees(mutate(SOPS_OUTPUT, muts)),
    ),
    { numRuns: 3000 },
  );
  t.pass();
});

const scalarText = fc.stringMatching(/^[-a-zA-Z0-9 :#'"|>.,[\]{}&*!%@`~?\\/=+_]{0,12}$/);
const keyText = fc.stringMatching(/^[-a-zA-Z0-9_./]{1,8}$/);
const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarText,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(keyText, tie('node'), { maxKeys: 4 }),
  ),
}));

test('generated documents in several styles: the subset reader declines or agrees', (t) => {
  let read = 0;
  fc.assert(
    fc.property(
      fc.dictionary(keyText, tree.node, { minKeys: 1, maxKeys: 5 }),
      fc.constantFrom(2, 4),
      fc.boolean(),
      (doc, indent, indentSeq) => {
        const text = stringify(doc, { indent, indentSeq, lineWidth: 0 });
        if (readYamlSubset(text) !== undefined) read++;
        return agrees(text);
      },
    ),
    { numRuns: 3000 },
  );
  t.true(read > 100, `only ${read} generated documents were inside the subset`);
});
