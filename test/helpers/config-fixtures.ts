/** The config fixture corpora (fixtures/configs) and generators shared by the config tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CHARSETS } from '../../src/config/schema.js';

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
export function expectedInvalid(): Record<
  string,
  { kind: InvalidKind; problems: ExpectedProblem[] }
> {
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
  const head =
    'version: 1\nsecrets:\n  - name: app\n    namespace: default\n    keys:\n      k: {}\n';
  const line = `# ${'x'.repeat(77)}\n`;
  let text = head;
  const lines = Math.max(0, Math.floor((size - head.length) / line.length));
  text += line.repeat(lines);
  const rest = size - Buffer.byteLength(text);
  if (rest > 0) text += rest === 1 ? '\n' : `#${'y'.repeat(rest - 2)}\n`;
  return text;
}

const AGE = 'age1lf8xdcwg84tennudqcspke5982xfsw5ve7neetx8wtz3kq5kn4asn2yfht';

/** A value of the wrong type or shape, for any field. */
const weird = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
  fc.constant([]),
  fc.constant({}),
);
/** Usually `good`, one time in `odds` `bad` (by default a value of the wrong type). */
function mostly<T, U = unknown>(
  good: fc.Arbitrary<T>,
  bad: fc.Arbitrary<U> = weird as fc.Arbitrary<U>,
  odds = 40,
): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: odds - 1, arbitrary: good }, { weight: 1, arbitrary: bad });
}
/** Usually `arb`, one time in 40 with an unknown (misspelt) field added. */
const withTypo = <T extends object>(arb: fc.Arbitrary<T>, field: string): fc.Arbitrary<T> =>
  fc.tuple(arb, fc.nat(39)).map(([value, n]) => (n === 0 ? { ...value, [field]: 'typo' } : value));
const opt = { requiredKeys: [] as [] };

const dnsName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?$/);
const name = mostly(dnsName, fc.constantFrom('App', 'my_app', '..', '', 'x'.repeat(254), 3));
const keyName = mostly(
  fc.oneof(
    fc.constantFrom('password', 'TOKEN', 'TOKEN_PREVIOUS', 'x.y-z_1'),
    fc.stringMatching(/^[-._a-zA-Z0-9]{1,10}$/),
  ),
  fc.constantFrom('my key', 'a/b', ''),
);
const charset = mostly(fc.constantFrom(...CHARSETS), fc.constantFrom('emoji', 'ALPHA'));
const length = mostly(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(0, 4097, -1, 1.5, '32'));
const duration = mostly(
  fc.stringMatching(/^[1-9][0-9]{0,3}[hdw]$/),
  fc.constantFrom('0d', '1m', '90days', 90),
);
const SHARED = ['db', 'shared-token'] as const;
const ruleCount = mostly(fc.integer({ min: 0, max: 3 }), fc.constantFrom(-1, 1.5, '1'));
/** Password rules, now and then impossible (too many, a class excluded) or malformed. */
const passwordRules = fc.record(
  {
    minLower: ruleCount,
    minUpper: ruleCount,
    minDigits: ruleCount,
    minSymbols: ruleCount,
    symbols: mostly(fc.constantFrom('-._', '!#%+='), fc.constantFrom('ab', '')),
    exclude: mostly(fc.constantFrom('0O1lI', '0123456789'), fc.constant('')),
    maxRepeat: mostly(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, '2')),
  },
  opt,
);

/** A key or shared value with one coherent source (and sometimes rotation). */
function coherentSource(withFrom: boolean) {
  const sources = [
    fc.record({ length, charset, rules: passwordRules }, opt),
    fc.record(
      {
        length,
        chars: mostly(fc.constantFrom('ab', '0123456789', 'αβγ'), fc.constantFrom('aa', 'a')),
        rules: passwordRules,
      },
      opt,
    ),
    fc.record(
      {
        bytes: length,
        encoding: mostly(fc.constantFrom('base64', 'base64url', 'hex'), fc.constant('b32')),
      },
      { requiredKeys: ['bytes'] },
    ),
    fc.constant({ uuid: true }),
    fc.record(
      {
        provided: fc.constant(true),
        description: mostly(fc.constantFrom('A token', 'Password of the db'), fc.constant('')),
        pattern: mostly(fc.constantFrom('^[a-z]+$', '.{8,}'), fc.constant('([a-z')),
        minLength: length,
      },
      { requiredKeys: ['provided', 'description'] },
    ),
  ];
  const source = withFrom
    ? fc.oneof(
        ...sources,
        fc.record({ from: mostly(fc.constantFrom(...SHARED), fc.constant('nope')) }),
      )
    : fc.oneof(...sources);
  return fc
    .tuple(source, fc.record({ rotateEvery: duration, keepPrevious: fc.boolean() }, opt))
    .map(([src, rotation]) => ('from' in src ? src : { ...src, ...rotation }));
}

/** Any combination of key fields, most of them conflicting. */
const chaoticKey = fc.record(
  {
    length,
    charset,
    chars: fc.constantFrom('ab', 'abc', 'aa', 'a'),
    rules: passwordRules,
    bytes: length,
    encoding: fc.constantFrom('base64', 'base64url', 'hex', 'base32'),
    uuid: mostly(fc.constant(true), fc.constant(false)),
    provided: fc.constant(true),
    description: fc.constantFrom('A token', ''),
    pattern: fc.constantFrom('^[a-z]+$', '([a-z', '.*'),
    minLength: length,
    from: fc.constantFrom(...SHARED, 'nope'),
    rotateEvery: duration,
    keepPrevious: fc.boolean(),
  },
  opt,
);

const key = withTypo(mostly(coherentSource(true), chaoticKey, 20), 'lenght');
const sharedValue = withTypo(mostly(coherentSource(false), chaoticKey, 20), 'lenght');

const sops = withTypo(
  fc.record(
    {
      age: mostly(
        fc.array(mostly(fc.constant(AGE), fc.constantFrom('age1short', 'AGE1X')), { maxLength: 2 }),
      ),
      pgp: mostly(
        fc.array(fc.constant('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'), { maxLength: 1 }),
      ),
      encryptedRegex: mostly(
        fc.constantFrom('^(data|stringData)$', '^data$'),
        fc.constant('(unclosed'),
      ),
    },
    opt,
  ),
  'agekey',
);

const ENVIRONMENTS = ['dev', 'prod', 'staging'] as const;

function secret(withEnvironments: boolean) {
  return withTypo(
    fc
      .record(
        {
          name,
          namespace: name,
          type: mostly(fc.constantFrom('Opaque', 'kubernetes.io/tls')),
          restart: mostly(fc.constant('kubectl rollout restart deploy/app')),
          rollout: mostly(
            fc.array(
              mostly(fc.constant('deploy/app.yaml'), fc.constantFrom('../x.yaml', '/abs.yaml')),
            ),
          ),
          labels: mostly(
            fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('web', 'db')),
          ),
          environments: withEnvironments
            ? mostly(fc.subarray([...ENVIRONMENTS]), fc.constant(['qa']))
            : fc.constant(['prod']),
          keys: mostly(
            fc.dictionary(keyName, mostly(key, fc.constant(null), 10), { minKeys: 1, maxKeys: 4 }),
            fc.constant({}),
          ),
        },
        { requiredKeys: ['name', 'namespace', 'keys'] },
      )
      .map((s) => (withEnvironments || !('environments' in s) ? s : mostly_drop(s))),
    'kind',
  );
}

/** Keeps a secret's `environments` without top-level environments only rarely (a rule error). */
function mostly_drop<T extends { environments?: unknown }>(s: T): T {
  const { environments, ...rest } = s;
  return (JSON.stringify(rest).length % 20 === 0 ? { ...rest, environments } : rest) as T;
}

/** Config-shaped objects: often valid, often with a wrong, conflicting or unknown field. */
export const configLike: fc.Arbitrary<Record<string, unknown>> = fc
  .boolean()
  .chain((withEnvironments) =>
    withTypo(
      fc.record(
        {
          version: mostly(fc.constant(1), fc.constantFrom(2, '1')),
          output: mostly(
            fc.constantFrom(
              ...(withEnvironments
                ? [
                    'envs/{environment}/{namespace}/{name}.yaml',
                    '{environment}/{namespace}-{name}.yml',
                  ]
                : ['secrets/{namespace}/{name}.yaml', 'secrets/{namespace}-{name}.yaml']),
            ),
            fc.constantFrom(
              '/abs/{namespace}/{name}.yaml',
              'secrets/{namespace}.yaml',
              '../{namespace}/{name}.yaml',
              'secrets/{cluster}/{namespace}/{name}.yaml',
            ),
          ),
          sops: mostly(sops),
          pullRequest: mostly(
            fc.record({
              labels: fc.array(mostly(fc.constant('secrets'), fc.constant('')), { maxLength: 3 }),
            }),
          ),
          defaults: mostly(fc.record({ length, charset }, opt)),
          environments: withEnvironments
            ? fc.uniqueArray(
                mostly(
                  fc.oneof(
                    fc.constantFrom(...ENVIRONMENTS),
                    fc.record(
                      { name: fc.constantFrom(...ENVIRONMENTS), sops },
                      { requiredKeys: ['name'] },
                    ),
                  ),
                  fc.constantFrom('Prod', 'dev'),
                ),
                {
                  minLength: 1,
                  maxLength: 3,
                  selector: (e) => (typeof e === 'string' ? e : e.name),
                },
              )
            : fc.constant([]),
          shared: mostly(
            fc.record({ db: sharedValue, 'shared-token': sharedValue }, opt),
            fc.constant({ 'bad:name': { uuid: true } }),
          ),
          secrets: mostly(fc.array(secret(withEnvironments), { minLength: 1, maxLength: 4 })),
        },
        {
          requiredKeys: withEnvironments
            ? ['version', 'secrets', 'environments']
            : ['version', 'secrets'],
        },
      ),
      'extra',
    ),
  );

/** Pieces of YAML syntax (and the config's words) that random texts are made of. */
export const YAML_TOKENS = [
  ':',
  ': ',
  '-',
  '- ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&a',
  '*a',
  '&b ',
  '*b',
  '!',
  '!!str ',
  '!!binary ',
  '|',
  '>',
  "'",
  '"',
  '#',
  '%YAML 1.2',
  '---',
  '...',
  '?',
  '@',
  '`',
  '\t',
  ' ',
  '  ',
  '\n',
  '\r\n',
  '\\',
  '~',
  'null',
  'true',
  '1',
  '-1',
  '0x1F',
  '.inf',
  '.nan',
  'version',
  'secrets',
  'keys',
  'name',
  'namespace',
  'length',
  'from',
  'shared',
  '<<',
  '\u00a0',
  '\ufeff',
  '\u2028',
  '\0',
];
