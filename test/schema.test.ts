/**
 * config/schema.json, the JSON Schema shipped for editors: it is what the zod schema produces,
 * a valid draft-07 schema, and it agrees with the loader on every fixture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import test from 'ava';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { schemaText } from '../scripts/write-schema.js';
import { parseConfig } from '../src/config/parse.js';
import {
  configJsonSchema,
  configSchema,
  keySchema,
  SOURCE_FIELDS,
  sharedSchema,
} from '../src/config/schema.js';
import { DERIVED_FIELDS } from '../src/config/schema-derived.js';
import { configLike, invalidFixtures, ROOT, validFixtures } from './helpers/config-fixtures.js';

const SCHEMA_FILE = join(ROOT, 'config/schema.json');
const committed = readFileSync(SCHEMA_FILE, 'utf8');
const schema = JSON.parse(committed) as Record<string, unknown>;

// ajv-formats is CommonJS; under ESM its function is the default export's default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function errors(list: ErrorObject[] | null | undefined): string {
  return (list ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('\n');
}

/** The YAML as plain data, or undefined when it is not one well-formed document. */
function data(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, logLevel: 'error' });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) };
  } catch {
    return undefined;
  }
}

test('config/schema.json is up to date with the zod schema (run `npm run schema`)', (t) => {
  t.is(committed, schemaText(), 'config/schema.json is stale: run `npm run schema`');
  t.deepEqual(schema, configJsonSchema(), 'run `npm run schema`');
  t.true(committed.endsWith('}\n'));
});

test('config/schema.json is a draft-07 JSON Schema with an id and a title', (t) => {
  t.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  t.true(ajv.validateSchema(schema) as boolean, errors(ajv.errors));
  t.is(typeof schema.$id, 'string');
  t.is(schema.title, 'gitops-secrets config');
  t.deepEqual(schema.required, ['version', 'secrets']);
});

const validates = test.macro({
  exec(t, _file: string, text: string) {
    const parsed = data(text);
    t.truthy(parsed, 'not well-formed YAML');
    t.true(validate(parsed?.value), errors(validate.errors));
  },
  title: (_, file: string) => `schema.json accepts valid config ${file}`,
});

for (const { file, text } of validFixtures()) test(validates, file, text);

test('schema.json accepts the shipped examples', (t) => {
  const dir = join(ROOT, 'config/examples');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  t.true(files.length > 0);
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    t.true(validate(data(text)?.value), `${file}: ${errors(validate.errors)}`);
    t.deepEqual(parseConfig(text, file).problems, [], file);
  }
});

const agrees = test.macro({
  exec(t, _file: string, text: string, kind: 'yaml' | 'schema' | 'rule') {
    const parsed = data(text);
    if (kind === 'yaml') {
      t.is(parsed, undefined, 'expected YAML the JSON Schema cannot apply to');
      return;
    }
    t.truthy(parsed, 'not well-formed YAML');
    const ok = validate(parsed?.value);
    if (kind === 'schema') t.false(ok, 'schema.json accepts a config the schema should reject');
    // Rules (duplicates, references, one source per key) are beyond JSON Schema: an editor
    // accepts these, the loader does not.
    else t.true(ok, errors(validate.errors));
  },
  title: (_, file: string, _text: string, kind: string) =>
    `schema.json ${kind === 'schema' ? 'rejects' : kind === 'rule' ? 'accepts (rules reject)' : 'cannot read'} invalid config ${file}`,
});

for (const { file, text, kind } of invalidFixtures()) test(agrees, file, text, kind);

test('schema.json and the zod schema agree on generated configs; the loader is never laxer', (t) => {
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(configLike, (config) => {
      // Round-trip through JSON: what an editor sees.
      const value = JSON.parse(JSON.stringify(config)) as unknown;
      const json = validate(value);
      const zod = configSchema.safeParse(value).success;
      if (json !== zod)
        throw new Error(`schema.json says ${json}, zod says ${zod}: ${errors(validate.errors)}`);
      if (json) accepted++;
      else rejected++;
      if (!json && parseConfig(JSON.stringify(value), 'c.yaml').config)
        throw new Error('the loader accepted a config that schema.json rejects');
    }),
    { numRuns: 400 },
  );
  t.log(`${accepted + rejected} generated configs: ${accepted} pass the schema, ${rejected} fail`);
  t.true(accepted > 0 && rejected > 0);
});

test('a key takes the fields of a shared value, in their order, `from` and the derived fields', (t) => {
  // rules-sources.ts lists the fields a `from` key must not carry from SOURCE_FIELDS.
  t.deepEqual([...SOURCE_FIELDS], Object.keys(sharedSchema.shape));
  t.deepEqual([...SOURCE_FIELDS, 'from', ...DERIVED_FIELDS], Object.keys(keySchema.shape));
});

test('schema.json takes password rules on keys, shared values and defaults, and describes them', (t) => {
  const rules = {
    minLower: 1,
    minUpper: 1,
    minDigits: 2,
    minSymbols: 1,
    symbols: '!#%+-.=_',
    exclude: '0O1lI',
    maxRepeat: 2,
  };
  const config = {
    version: 1,
    defaults: { length: 24, charset: 'alphanumeric', rules },
    shared: { db: { length: 32, rules } },
    secrets: [
      { name: 'app', namespace: 'web', keys: { pw: { length: 24, rules }, db: { from: 'db' } } },
    ],
  };
  t.true(validate(config), errors(validate.errors));
  for (const bad of [
    { minDigits: -1 },
    { minDigits: 1.5 },
    { maxRepeat: 0 },
    { symbols: 'abc' },
    { symbols: ' ' },
    { exclude: '' },
    { minSymbol: 1 },
  ]) {
    const c = structuredClone(config);
    c.secrets[0]!.keys.pw = { length: 24, rules: bad as unknown as typeof rules };
    t.false(validate(c), JSON.stringify(bad));
  }
  // Editors show each field's description.
  const text = JSON.stringify(schema);
  for (const field of Object.keys(rules)) t.true(text.includes(`"${field}":{`), field);
  t.regex(text, /Symbols added to the alphabet \(default -\._/);
});
