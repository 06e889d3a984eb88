import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { benchSecret, configText } from '../bench/workload.js';
import { loadConfig, MAX_CONFIG_BYTES } from '../src/config/load.js';
import { parseConfig } from '../src/config/parse.js';
import { ConfigError, type ConfigProblem, formatProblem, UsageError } from '../src/errors.js';
import {
  type ExpectedProblem,
  expectedInvalid,
  INVALID_DIR,
  invalidFileNames,
  invalidFixtures,
  paddedConfig,
  VALID_DIR,
  validFixtures,
} from './helpers/config-fixtures.js';

const valid = validFixtures();
const invalid = invalidFixtures();

/** What every reported problem must satisfy, whatever the input. */
function assertWellFormed(t: ExecutionContext, problem: ConfigProblem, file: string, text: string) {
  const where = `${problem.line}:${problem.column} ${problem.path}`;
  t.is(problem.file, file, where);
  t.true(Number.isInteger(problem.line) && problem.line >= 1, `line ${where}`);
  t.true(Number.isInteger(problem.column) && problem.column >= 1, `column ${where}`);
  // A position may be one past the last line (end of input), never further.
  t.true(problem.line <= text.split('\n').length + 1, `line inside the file ${where}`);
  t.true(problem.message.trim().length > 0, `message ${where}`);
  t.false(problem.message.includes('    at '), `stack trace in ${problem.message}`);
  t.false(problem.message.includes('[object Object]'), problem.message);
  t.false(/\bundefined\b/.test(problem.message), `"undefined" in ${problem.message}`);
  t.false(
    /Invalid input|Too small|Too big/.test(problem.message),
    `zod wording: ${problem.message}`,
  );
}

/** The problems of a config that must not load, each of them well formed. */
function rejected(t: ExecutionContext, text: string, file: string): ConfigProblem[] {
  const result = parseConfig(text, file);
  t.is(result.config, undefined);
  for (const problem of result.problems) assertWellFormed(t, problem, file, text);
  return result.problems;
}

const parsesValid = test.macro({
  exec(t, file: string, text: string) {
    const result = parseConfig(text, file);
    t.deepEqual(result.problems, [], result.problems.map(formatProblem).join('\n'));
    t.truthy(result.config);
    t.is(result.config?.file, file);
    t.true((result.config?.secrets.length ?? 0) > 0);
  },
  title: (_, file: string) => `valid config parses: ${file}`,
});

const reportsExpected = test.macro({
  exec(t, file: string, text: string, expected: ExpectedProblem[]) {
    const problems = rejected(t, text, file);
    t.true(problems.length >= 1);
    const got = problems.map(formatProblem).join('\n');
    t.deepEqual(
      problems.map(({ line, column, path }) => ({ line, column, path })),
      expected.map(({ line, column, path }) => ({ line, column, path })),
      got,
    );
    expected.forEach((e, i) => {
      const message = problems[i]?.message ?? '';
      t.true(message.includes(e.messageIncludes), `${got}\nexpected: ${e.messageIncludes}`);
    });
    // The error the CLI prints names file:line:column of each problem.
    const error = new ConfigError(problems);
    for (const e of expected) t.true(error.message.includes(`${file}:${e.line}:${e.column}: `));
  },
  title: (_, file: string) => `invalid config is reported: ${file}`,
});

for (const { file, text } of valid) test(parsesValid, file, text);
for (const { file, text, problems } of invalid) test(reportsExpected, file, text, problems);

test('the corpora are complete: enough fixtures, each invalid one has an expectation', (t) => {
  t.true(valid.length >= 8, `${valid.length} valid configs`);
  t.true(invalid.length >= 45, `${invalid.length} invalid configs`);
  const expected = expectedInvalid();
  const files = invalidFileNames();
  t.deepEqual(
    files.filter((f) => !(f in expected)),
    [],
    `fixtures without an entry in ${INVALID_DIR}/expected.json`,
  );
  t.deepEqual(
    Object.keys(expected).filter((f) => !files.includes(f)),
    [],
    'entries in expected.json without a fixture',
  );
  for (const [file, entry] of Object.entries(expected)) {
    t.true(entry.problems.length >= 1, file);
    t.true(['yaml', 'schema', 'rule'].includes(entry.kind), file);
  }
  t.log(`${valid.length} valid and ${invalid.length} invalid configs`);
});

test('a config over 1 MiB is refused before parsing, one at the limit is not', (t) => {
  const atLimit = paddedConfig(MAX_CONFIG_BYTES);
  t.is(Buffer.byteLength(atLimit), MAX_CONFIG_BYTES);
  t.deepEqual(parseConfig(atLimit, 'limit.yaml').problems, []);

  const tooLarge = paddedConfig(MAX_CONFIG_BYTES + 1);
  t.is(Buffer.byteLength(tooLarge), MAX_CONFIG_BYTES + 1);
  const result = parseConfig(tooLarge, 'too-large.yaml');
  t.is(result.config, undefined);
  t.is(result.problems.length, 1);
  const [problem] = result.problems;
  t.like(problem, { file: 'too-large.yaml', line: 1, column: 1, path: '' });
  t.regex(problem?.message ?? '', /larger than 1048576 bytes/);

  // Multi-byte characters count as bytes, not as UTF-16 units.
  const wide = `${paddedConfig(MAX_CONFIG_BYTES - 1000)}# ${'é'.repeat(600)}\n`;
  t.true(wide.length < MAX_CONFIG_BYTES);
  t.regex(parseConfig(wide, 'wide.yaml').problems[0]?.message ?? '', /larger than/);
});

test('loadConfig refuses a file over 1 MiB with a ConfigError (exit 2)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gitops-secrets-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'secrets.yaml');
  await writeFile(path, paddedConfig(MAX_CONFIG_BYTES + 4096));
  const error = await t.throwsAsync(loadConfig(path, 'config/secrets.yaml'), {
    instanceOf: ConfigError,
  });
  t.is(error?.exitCode, 2);
  t.like(error?.problems[0], { file: 'config/secrets.yaml', line: 1, column: 1 });
});

test('loadConfig reads a valid config and reports a missing file or a directory as usage errors', async (t) => {
  const config = await loadConfig(join(VALID_DIR, 'keptn-bridge.yaml'), 'keptn.yaml');
  t.is(config.file, 'keptn.yaml');
  t.deepEqual(
    config.secrets.map((s) => `${s.namespace}/${s.name}`),
    ['keptn/bridge-oauth'],
  );
  const missing = await t.throwsAsync(loadConfig(join(VALID_DIR, 'nope.yaml'), 'nope.yaml'), {
    instanceOf: UsageError,
  });
  t.regex(missing?.message ?? '', /cannot read config nope\.yaml: ENOENT/);
  t.is(missing?.exitCode, 2);
  await t.throwsAsync(loadConfig(VALID_DIR, 'dir'), {
    instanceOf: UsageError,
    message: /not a file/,
  });
  const invalidError = await t.throwsAsync(
    loadConfig(join(INVALID_DIR, 'length-zero.yaml'), 'length-zero.yaml'),
    { instanceOf: ConfigError },
  );
  t.regex(invalidError?.message ?? '', /^1 problem in config:\nlength-zero\.yaml:7:27: /);
});

test('several independent problems are reported at once: schema errors and rule errors together', (t) => {
  const text = [
    'version: 1', // 1
    'output: secrets/{namespace}/{name}.json', // 2: rule (template)
    'shared:', // 3
    '  db: { length: 40, rotateEvery: 90 }', // 4: schema (type)
    'secrets:', // 5
    '  - name: app', // 6
    '    namespace: default', // 7
    '    keys:', // 8
    '      a: { length: 4097 }', // 9: schema (range)
    '      b: { uuid: true, bytes: 16 }', // 10: rule (two sources)
    '      c: { from: db }', // 11: no problem: db exists, even though it is broken
    '      d: { from: missing }', // 12: rule (dangling from)
    '      e: { lenght: 3 }', // 13: schema (unknown field)
    '  - name: app', // 14: rule (duplicate)
    '    namespace: default', // 15
    '    keys:', // 16
    '      "x y": {}', // 17: rule (key name)
    '',
  ].join('\n');
  const problems = rejected(t, text, 'many.yaml');
  t.deepEqual(
    problems.map((p) => `${p.line}:${p.column} ${p.path}`),
    [
      '2:9 output',
      '4:34 shared.db.rotateEvery',
      '9:20 secrets[0].keys.a.length',
      '10:10 secrets[0].keys.b',
      '12:18 secrets[0].keys.d.from',
      '13:12 secrets[0].keys.e.lenght',
      '14:11 secrets[1].name',
      '17:7 secrets[1].keys.x y',
    ],
    problems.map(formatProblem).join('\n'),
  );
});

test('a schema error in one secret and a rule error in another are reported in the same run', (t) => {
  const text = [
    'version: 1', // 1
    'secrets:', // 2
    '  - name: api', // 3
    '    namespace: web', // 4
    '    keys:', // 5
    '      token: { length: "32" }', // 6: schema (a string where a number belongs)
    '  - name: worker', // 7
    '    namespace: web', // 8
    '    keys:', // 9
    '      id: { uuid: true, length: 8 }', // 10: rule (two sources)
    '',
  ].join('\n');
  t.deepEqual(
    rejected(t, text, 'two.yaml').map((p) => `${formatProblem(p)}`),
    [
      'two.yaml:6:24: secrets[0].keys.token.length: must be a whole number from 1 to 4096, not a string',
      'two.yaml:10:11: secrets[1].keys.id: has more than one source (length/charset/chars and uuid); a key takes exactly one',
    ],
  );
});

test("the benchmark's configs (flow style, one line per secret; compact at 10×N) load", (t) => {
  const secrets = Array.from({ length: 60 }, (_, i) => benchSecret(i));
  for (const text of [configText(secrets), configText(secrets, true)]) {
    const result = parseConfig(text, 'bench.yaml');
    t.deepEqual(result.problems, [], result.problems.map(formatProblem).join('\n'));
    t.is(result.config?.secrets.length, 60);
  }
});

/** The text at a problem's line and column. */
function at(text: string, problem: ConfigProblem | undefined): string {
  if (!problem) return '';
  return (text.split('\n')[problem.line - 1] ?? '').slice(problem.column - 1);
}

const pointsAt = test.macro({
  exec(t, yaml: string, path: string, startsWith: string) {
    const result = parseConfig(yaml, 'p.yaml');
    const problem = result.problems.find((p) => p.path === path);
    t.truthy(problem, result.problems.map(formatProblem).join('\n'));
    t.true(at(yaml, problem).startsWith(startsWith), `points at: ${at(yaml, problem)}`);
  },
  title: (title) => `position points at ${title}`,
});

const doc = (key: string) =>
  `version: 1\nsecrets:\n  - name: app\n    namespace: default\n    keys:\n      ${key}\n`;

test(
  'the value of a field out of range',
  pointsAt,
  doc('pw: { length: 0 }'),
  'secrets[0].keys.pw.length',
  '0 }',
);
test(
  'the value of a field of the wrong type',
  pointsAt,
  doc('pw: { length: "32" }'),
  'secrets[0].keys.pw.length',
  '"32"',
);
test(
  'the key of an unknown field',
  pointsAt,
  doc('pw: { lenght: 32 }'),
  'secrets[0].keys.pw.lenght',
  'lenght: 32',
);
test(
  'the key of an invalid key name',
  pointsAt,
  doc('"a b": {}'),
  'secrets[0].keys.a b',
  '"a b": {}',
);
test(
  'a block-style value',
  pointsAt,
  doc('pw:\n        bytes: 16\n        encoding: base32'),
  'secrets[0].keys.pw.encoding',
  'base32',
);
test(
  'the mapping that lacks a required field',
  pointsAt,
  'version: 1\nsecrets:\n  - name: app\n    keys: { a: {} }\n',
  'secrets[0].namespace',
  'name: app',
);
test(
  'the second of two duplicate secrets',
  pointsAt,
  'version: 1\nsecrets:\n  - { name: a, namespace: b, keys: { k: {} } }\n  - { name: a, namespace: b, keys: { k: {} } }\n',
  'secrets[1].name',
  'a, namespace: b, keys: { k: {} } }',
);
test(
  'a field under a numeric key',
  pointsAt,
  doc('1: { length: 0 }'),
  'secrets[0].keys.1.length',
  '0 }',
);
test('an alias to an undefined anchor', pointsAt, doc('pw: *nothing'), '', '*nothing');

test('keys that take defaults, shared values and rotation become a typed config', (t) => {
  const files = Object.fromEntries(valid.map((v) => [v.file, v.text]));
  const charsets = parseConfig(files['charsets.yaml'] ?? '', 'c').config;
  const sources = Object.fromEntries(
    (charsets?.secrets[0]?.keys ?? []).map((k) => [k.name, k.source]),
  );
  t.like(sources.an, { kind: 'random', length: 45, charset: 'alphanumeric' });
  t.like(sources.up, {
    kind: 'random',
    length: 32,
    charset: 'upper',
    alphabet: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  });
  t.like(sources.custom, { kind: 'random', length: 12, charset: 'custom', alphabet: 'ab' });

  const defaults = parseConfig(files['null-key-defaults.yaml'] ?? '', 'd').config;
  t.like(defaults?.secrets[0]?.keys[0]?.source, { kind: 'random', length: 48, charset: 'hex' });

  const bytes = parseConfig(files['bytes-uuid.yaml'] ?? '', 'b').config;
  t.deepEqual(bytes?.secrets[0]?.keys[0]?.source, { kind: 'bytes', bytes: 32, encoding: 'base64' });
  t.like(bytes?.secrets[0]?.keys[5], {
    name: 'id.rotating',
    rotateEvery: { text: '2w', ms: 14 * 86_400_000 },
  });

  const shared = parseConfig(files['shared-rotation.yaml'] ?? '', 's').config;
  t.like(shared?.shared.get('analytics-db-password'), {
    keepPrevious: true,
    rotateEvery: { text: '30d', ms: 30 * 86_400_000 },
  });
  t.like(shared?.secrets[0]?.keys[0], {
    name: 'DB_PASSWORD',
    source: { kind: 'shared', from: 'analytics-db-password' },
  });
  t.like(shared?.secrets[0]?.keys[2], {
    rotateEvery: { text: '24h', ms: 86_400_000 },
    keepPrevious: true,
  });

  const envs = parseConfig(files['environments-objects.yaml'] ?? '', 'e').config;
  t.deepEqual(
    envs?.environments.map((e) => [e.name, e.sops.age.length, e.sops.hasRecipients]),
    [
      ['dev', 1, true],
      ['prod', 2, true],
      ['qa', 1, true],
    ],
  );
  t.deepEqual(envs?.secrets[0]?.environments, ['dev', 'prod', 'qa']);
  const strings = parseConfig(files['environments-strings.yaml'] ?? '', 'e').config;
  t.deepEqual(strings?.secrets[1]?.environments, ['prod']);
  const minimal = parseConfig(files['minimal.yaml'] ?? '', 'm').config;
  t.like(minimal, { output: 'secrets/{namespace}/{name}.yaml', sops: { hasRecipients: false } });
  t.like(minimal?.secrets[0], { type: 'Opaque', environments: [undefined] });
});

test('a mapping used as a key is a problem, not a process warning on stderr', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const text = doc('? { a: 1 }\n      : { length: 3 }');
  const result = parseConfig(text, 'complex-key.yaml');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(result.config, undefined);
  t.like(result.problems[0], { line: 6, column: 7, path: 'secrets[0].keys.{ a: 1 }' });
  t.deepEqual(warnings, []);
});
