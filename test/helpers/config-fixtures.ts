/** The config fixture corpora (fixtures/configs) and generators shared by the config tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const VALID_DIR = join(ROOT, 'fixtures/configs/valid');
export const INVALID_DIR = join(ROOT, 'fixtures/configs/invalid');

export interface ExpectedProblem {
  line: number;
  column: number;
  path: string;
  messageIncludes: string;
}

/**
 * How far an invalid fixture gets: `yaml` is not a YAML document (the JSON Schema cannot
 * apply), `schema` is rejected by config/schema.json too, `rule` is valid by the JSON Schema and
 * only the loader's rules catch it.
 */
export type InvalidKind = 'yaml' | 'schema' | 'rule';

export interface InvalidFixture {
  file: string;
  text: string;
  kind: InvalidKind;
  problems: ExpectedProblem[];
}

export interface ValidFixture {
  file: string;
  text: string;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

export function validFixtures(): ValidFixture[] {
  return yamlFiles(VALID_DIR).map((file) => ({
    file,
    text: readFileSync(join(VALID_DIR, file), 'utf8'),
  }));
}

/** The expected.json mapping, without its `$comment`. */
export function expectedInvalid(): Record<string, { kind: InvalidKind; problems: ExpectedProblem[] }> {
  const raw = JSON.parse(readFileSync(join(INVALID_DIR, 'expected.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete raw.$comment;
  return raw as Record<string, { kind: InvalidKind; problems: ExpectedProblem[] }>;
}

/** The invalid fixture files (only those that have an entry in expected.json). */
export function invalidFixtures(): InvalidFixture[] {
  const expected = expectedInvalid();
  return yamlFiles(INVALID_DIR).flatMap((file) => {
    const entry = expected[file];
    if (!entry) return [];
    return [{ file, text: readFileSync(join(INVALID_DIR, file), 'utf8'), ...entry }];
  });
}

export function invalidFileNames(): string[] {
  return yamlFiles(INVALID_DIR);
}

/** A config of `size` bytes or more: a valid config padded with comment lines. */
export function paddedConfig(size: number): string {
  const head = 'version: 1\nsecrets:\n  - name: app\n    namespace: default\n    keys:\n      k: {}\n';
  const line = `# ${'x'.repeat(77)}\n`;
  let text = head;
  const lines = Math.max(0, Math.floor((size - head.length) / line.length));
  text += line.repeat(lines);
  const rest = size - Buffer.byteLength(text);
  if (rest > 0) text += rest === 1 ? '\n' : `#${'y'.repeat(rest - 2)}\n`;
  return text;
}

const AGE = 'age1lf8xdcwg84tennudqcspke5982xfsw5ve7neetx8wtz3kq5kn4asn2yfht';

/** Mostly plausible, sometimes wrong, values for each config field, so generated configs reach the rules. */
const name = fc.oneof(
  fc.constantFrom('app', 'db', 'web.frontend', 'a', 'App', 'my_app', '..', '', 'x'.repeat(254)),
  fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,12}$/),
);
const keyName = fc.oneof(
  fc.constantFrom('password', 'TOKEN', 'TOKEN_PREVIOUS', 'my key', 'a/b', '', 'x.y-z_1'),
  fc.stringMatching(/^[-._a-zA-Z0-9]{1,10}$/),
);
const weird = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
  fc.constant([]),
  fc.constant({}),
);
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: weird });

const keyFields = fc.record(
  {
    length: sometimes(fc.integer({ min: 0, max: 4097 })),
    charset: sometimes(
      fc.constantFrom('alphanumeric', 'alpha', 'lower', 'upper', 'numeric', 'hex', 'base64url'),
    ),
    chars: sometimes(fc.constantFrom('ab', 'abc', 'aa', 'a', '0123456789')),
    bytes: sometimes(fc.integer({ min: 0, max: 4097 })),
    encoding: sometimes(fc.constantFrom('base64', 'base64url', 'hex', 'base32')),
    uuid: sometimes(fc.constant(true)),
    provided: sometimes(fc.constant(true)),
    description: sometimes(fc.constantFrom('A token', '')),
    pattern: sometimes(fc.constantFrom('^[a-z]+$', '([a-z', '.*')),
    minLength: sometimes(fc.integer({ min: 0, max: 10 })),
    from: sometimes(fc.constantFrom('db', 'shared-token', 'nope')),
    rotateEvery: sometimes(fc.constantFrom('90d', '12h', '2w', '0d', '1m', '90days')),
    keepPrevious: sometimes(fc.boolean()),
    lenght: fc.constant(32),
  },
  { requiredKeys: [] },
);

const sops = fc.record(
  {
    age: sometimes(fc.array(fc.constantFrom(AGE, 'age1short', 'ssh-ed25519 AAAA'), { maxLength: 2 })),
    pgp: sometimes(fc.array(fc.constant('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'), { maxLength: 1 })),
    encryptedRegex: sometimes(fc.constantFrom('^(data|stringData)$', '(unclosed')),
    agekey: fc.constant([]),
  },
  { requiredKeys: [] },
);

const secret = fc.record(
  {
    name: sometimes(name),
    namespace: sometimes(name),
    type: sometimes(fc.constantFrom('Opaque', 'kubernetes.io/tls')),
    restart: sometimes(fc.constant('kubectl rollout restart deploy/app')),
    rollout: sometimes(fc.array(fc.constantFrom('deploy/app.yaml', '../x.yaml', '/abs.yaml'))),
    labels: sometimes(fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('web', 'db'))),
    environments: sometimes(fc.array(fc.constantFrom('dev', 'prod', 'staging'), { maxLength: 2 })),
    keys: sometimes(fc.dictionary(keyName, fc.oneof(keyFields, fc.constant(null)), { maxKeys: 4 })),
    kind: fc.constant('Secret'),
  },
  { requiredKeys: [] },
);

/** Config-shaped objects: usually close to valid, with a wrong or unknown field now and then. */
export const configLike: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    version: sometimes(fc.constant(1)),
    output: sometimes(
      fc.constantFrom(
        'secrets/{namespace}/{name}.yaml',
        'envs/{environment}/{namespace}/{name}.yaml',
        '/abs/{namespace}/{name}.yaml',
        'secrets/{namespace}.yaml',
        'secrets/{namespace}-{name}.yaml',
      ),
    ),
    sops: sometimes(sops),
    pullRequest: sometimes(fc.record({ labels: fc.array(fc.constantFrom('secrets', '')) })),
    defaults: sometimes(
      fc.record(
        { length: fc.integer({ min: 0, max: 5000 }), charset: fc.constantFrom('hex', 'emoji') },
        { requiredKeys: [] },
      ),
    ),
    environments: sometimes(
      fc.array(
        fc.oneof(
          fc.constantFrom('dev', 'prod', 'Prod'),
          fc.record({ name: fc.constantFrom('dev', 'prod'), sops }, { requiredKeys: ['name'] }),
        ),
        { maxLength: 3 },
      ),
    ),
    shared: sometimes(
      fc.dictionary(fc.constantFrom('db', 'shared-token', 'bad:name'), keyFields, { maxKeys: 2 }),
    ),
    secrets: sometimes(fc.array(secret, { maxLength: 4 })),
    extra: fc.constant(true),
  },
  { requiredKeys: [] },
);
