/** The ciphertext guard's check, on texts made by hand (the e2e cases are in ciphertext-guard.test.ts). */
import test from 'ava';
import { ExternalError } from '../src/errors.js';
import { assertCiphertext, findCiphertextProblem } from '../src/model/ciphertext-guard.js';

const ENC = (data: string) =>
  `ENC[AES256_GCM,data:${data},iv:vqZO4adMDRUleNhEtonYjzEw71eE4gxQ0mkOg69udQE=,tag:CbHc8V/mlYZNg9D19emLpA==,type:str]`;
const AGE = `sops:
    age:
        - recipient: age17qedulsl98xzye6ugztw20ae8dmw67ywzx5vcd7xkmv4gyy7zcqqe863nf
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            -----END AGE ENCRYPTED FILE-----
    encrypted_regex: ^(data|stringData)$
    version: 3.13.2
`;
const doc = (data: string, sops = AGE) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n    name: x\n${data}${sops}`;
const SECRET = 'c2VjcmV0LXZhbHVlLW5ldmVyLXNob3du';

test('sops ciphertext for every key, a recipient, every managed key: fit to commit', (t) => {
  const text = doc(`data:\n    A: ${ENC('0g==')}\n    B: ${ENC('Lkf9D6CJh3g=')}\n`);
  t.is(findCiphertextProblem(text, ['A', 'B']), undefined);
  t.notThrows(() => assertCiphertext('s.yaml', text, ['A']));
});

test('an empty value holds no secret (sops leaves it as it is)', (t) => {
  t.is(findCiphertextProblem(doc(`data:\n    A: ""\n`), ['A']), undefined);
});

test('a plaintext value under data or stringData: named by key, never by value', (t) => {
  for (const section of ['data', 'stringData']) {
    const text = doc(`${section}:\n    A: ${ENC('0g==')}\n    TOKEN: ${SECRET}\n`);
    const error = t.throws(() => assertCiphertext('secrets/a.yaml', text, []), {
      instanceOf: ExternalError,
    });
    t.regex(
      error.message,
      new RegExp(`secrets/a\\.yaml: ${section}\\.TOKEN is not sops ciphertext`),
    );
    t.regex(error.message, /encryptedRegex or \.sops\.yaml rule that does not match data/);
    t.false(`${error.message}${error.remedy}`.includes(SECRET));
    t.is(error.exitCode, 1);
  }
});

test('values that only look like ciphertext, or are not strings, are refused', (t) => {
  for (const value of ['ENC[AES256_GCM,data:abc]', `${ENC('0g==')}x`, '42', 'true', '[a]', '{}'])
    t.truthy(findCiphertextProblem(doc(`data:\n    A: ${value}\n`), ['A']), value);
  t.is(findCiphertextProblem(doc('data: plain\n'), [])?.key, 'data');
});

test('no sops block, or one without a recipient', (t) => {
  const data = `data:\n    A: ${ENC('0g==')}\n`;
  t.is(findCiphertextProblem(doc(data, ''), ['A'])?.problem, 'has no sops block');
  t.is(
    findCiphertextProblem(doc(data, 'sops:\n    age: []\n    version: 3.13.2\n'), ['A'])?.problem,
    'has a sops block with no recipient',
  );
  for (const field of ['pgp', 'kms', 'gcp_kms', 'azure_kv', 'hc_vault'])
    t.is(
      findCiphertextProblem(doc(data, `sops:\n    ${field}:\n        - x: y\n`), ['A']),
      undefined,
    );
  const groups = 'sops:\n    key_groups:\n        - age:\n            - recipient: age1x\n';
  t.is(findCiphertextProblem(doc(data, groups), ['A']), undefined);
});

test('a managed key missing after sops', (t) => {
  const found = findCiphertextProblem(doc(`data:\n    A: ${ENC('0g==')}\n`), ['A', 'B']);
  t.deepEqual(found && { key: found.key, problem: found.problem }, {
    key: 'data.B',
    problem: 'is missing',
  });
  t.is(findCiphertextProblem(doc(''), ['A'])?.key, 'data.A');
});

test('not YAML, or not a mapping', (t) => {
  t.is(findCiphertextProblem('a: [', [])?.problem, 'is not valid YAML');
  t.is(findCiphertextProblem('- a\n', [])?.problem, 'is not a YAML mapping');
  t.is(findCiphertextProblem('', [])?.problem, 'is not a YAML mapping');
});
