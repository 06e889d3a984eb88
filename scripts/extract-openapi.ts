/**
 * Extracts the GitHub REST operations that the loopback test server
 * (test/helpers/github-server.ts) implements from the api.github.com OpenAPI
 * description shipped in `@octokit/openapi`, together with every
 * `#/components/...` entry they reference (transitively), and writes an
 * Ajv-friendly subset to test/fixtures/github-openapi.json.
 *
 * Transformations:
 * - OpenAPI 3.0 `nullable: true` becomes JSON Schema: `type: [T, 'null']` (and
 *   `null` added to any `enum`) for plain typed schemas, or
 *   `anyOf: [<schema>, { type: 'null' }]` when `$ref`/`allOf`/`oneOf`/`anyOf`
 *   are involved.
 * - `example`/`examples`, schema `description`s, `discriminator`, `xml` and all
 *   `x-*` extensions are dropped (noise for Ajv, and keeps the fixture small).
 *
 * Usage: npx tsx scripts/extract-openapi.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const OPERATIONS: ReadonlyArray<readonly [path: string, method: string]> = [
  ['/repos/{owner}/{repo}', 'get'],
  ['/repos/{owner}/{repo}/pulls', 'get'],
  ['/repos/{owner}/{repo}/pulls', 'post'],
  ['/repos/{owner}/{repo}/pulls/{pull_number}', 'get'],
  ['/repos/{owner}/{repo}/pulls/{pull_number}', 'patch'],
  ['/repos/{owner}/{repo}/issues/{issue_number}/labels', 'post'],
  ['/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', 'post'],
];

/** Components always kept, even when no extracted operation references them. */
const EXTRA_REFS = ['#/components/schemas/basic-error', '#/components/schemas/validation-error'];

/**
 * Known inaccuracies of GitHub's description, fixed before conversion so that the test server
 * can answer exactly like api.github.com. Each entry: component schema, JSON path inside it,
 * properties to merge, and the upstream report.
 */
const SCHEMA_CORRECTIONS: ReadonlyArray<{
  schema: string;
  path: string[];
  patch: JsonObject;
  reason: string;
}> = [
  {
    // Labels without a description (e.g. auto-created by issues/add-labels) have
    // `description: null`, as pull-request already documents for the same label objects.
    schema: 'pull-request-simple',
    path: ['properties', 'labels', 'items', 'properties', 'description'],
    patch: { nullable: true },
    reason: 'https://github.com/github/rest-api-description/issues/1812',
  },
];

function applyCorrections(schemas: JsonObject): void {
  for (const { schema, path, patch, reason } of SCHEMA_CORRECTIONS) {
    const target = path.reduce<Json | undefined>(
      (node, key) => (isObject(node) ? node[key] : undefined),
      schemas[schema],
    );
    if (!isObject(target)) throw new Error(`correction target missing (${reason})`);
    Object.assign(target, patch);
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'test', 'fixtures', 'github-openapi.json');

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const COMPOSITION = ['allOf', 'anyOf', 'oneOf'] as const;
const DROPPED_SCHEMA_KEYS = new Set(['example', 'examples', 'description', 'discriminator', 'xml']);
const ANNOTATIONS = ['title', 'readOnly', 'writeOnly', 'deprecated', 'default'];

function mapValues(obj: JsonObject, fn: (value: Json) => Json): JsonObject {
  return Object.fromEntries(Object.entries(obj).map(([key, value]) => [key, fn(value)]));
}

/** Converts one OpenAPI 3.0 schema object (recursively) into JSON Schema for Ajv. */
export function convertSchema(node: Json): Json {
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-') || DROPPED_SCHEMA_KEYS.has(key) || key === 'nullable') continue;
    if ((key === 'properties' || key === 'patternProperties') && isObject(value)) {
      out[key] = mapValues(value, convertSchema);
    } else if (
      (key === 'items' || key === 'additionalProperties' || key === 'not') &&
      isObject(value)
    ) {
      out[key] = convertSchema(value);
    } else if ((COMPOSITION as readonly string[]).includes(key) && Array.isArray(value)) {
      out[key] = value.map(convertSchema);
    } else {
      out[key] = value;
    }
  }
  if (node.nullable !== true) return out;

  const composed = '$ref' in out || COMPOSITION.some((key) => key in out);
  if (!composed && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  if (!composed && Array.isArray(out.type)) {
    if (!out.type.includes('null')) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  if (!composed && out.type === undefined) return out; // no type constraint: null already allowed
  const outer: JsonObject = {};
  const inner: JsonObject = {};
  for (const [key, value] of Object.entries(out)) {
    (ANNOTATIONS.includes(key) ? outer : inner)[key] = value;
  }
  outer.anyOf = [inner, { type: 'null' }];
  return outer;
}

function convertContent(content: Json): Json {
  if (!isObject(content)) return content;
  return mapValues(content, (media): Json => {
    const out: JsonObject = {};
    if (isObject(media) && media.schema !== undefined) out.schema = convertSchema(media.schema);
    return out;
  });
}

function convertParameter(param: Json): Json {
  if (!isObject(param) || typeof param.$ref === 'string') return param;
  const { name, in: location, required, schema } = param;
  const out: JsonObject = { name: name ?? null, in: location ?? null };
  if (required !== undefined) out.required = required;
  if (schema !== undefined) out.schema = convertSchema(schema);
  return out;
}

function convertHeader(header: Json): Json {
  if (!isObject(header) || typeof header.$ref === 'string') return header;
  const out: JsonObject = {};
  if (header.schema !== undefined) out.schema = convertSchema(header.schema);
  return out;
}

function convertResponse(response: Json): Json {
  if (!isObject(response) || typeof response.$ref === 'string') return response;
  const out: JsonObject = { description: response.description ?? '' };
  if (isObject(response.headers)) out.headers = mapValues(response.headers, convertHeader);
  if (response.content !== undefined) out.content = convertContent(response.content);
  return out;
}

function convertOperation(op: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of ['operationId', 'summary', 'externalDocs'] as const) {
    if (op[key] !== undefined) out[key] = op[key];
  }
  if (Array.isArray(op.parameters)) out.parameters = op.parameters.map(convertParameter);
  if (isObject(op.requestBody)) {
    const body: JsonObject = { required: op.requestBody.required ?? false };
    body.content = convertContent(op.requestBody.content ?? {});
    out.requestBody = body;
  }
  if (isObject(op.responses)) out.responses = mapValues(op.responses, convertResponse);
  return out;
}

const CONVERTERS: Record<string, (node: Json) => Json> = {
  schemas: convertSchema,
  parameters: convertParameter,
  responses: convertResponse,
  headers: convertHeader,
};

function collectRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, into);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') into.add(value);
      else collectRefs(value, into);
    }
  }
}

function sortKeys(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => a.localeCompare(b)));
}

async function main(): Promise<void> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@octokit/openapi/package.json'));
  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as JsonObject;
  const source = JSON.parse(
    await readFile(join(pkgDir, 'generated', 'api.github.com.json'), 'utf8'),
  ) as JsonObject;
  const sourcePaths = source.paths as JsonObject;
  const sourceComponents = source.components as JsonObject;
  applyCorrections(sourceComponents.schemas as JsonObject);

  const paths: Record<string, JsonObject> = {};
  for (const [path, method] of OPERATIONS) {
    const item = sourcePaths[path];
    const op = isObject(item) ? item[method] : undefined;
    if (!isObject(item) || !isObject(op)) throw new Error(`operation not found: ${method} ${path}`);
    const converted = convertOperation(op);
    if (Array.isArray(item.parameters)) {
      const shared = item.parameters.map(convertParameter);
      converted.parameters = [...shared, ...((converted.parameters as Json[]) ?? [])];
    }
    paths[path] = { ...(paths[path] ?? {}), [method]: converted };
  }

  const components: Record<string, JsonObject> = {};
  const pending = new Set<string>(EXTRA_REFS);
  collectRefs(paths, pending);
  const done = new Set<string>();
  while (pending.size > 0) {
    const [ref] = pending;
    if (ref === undefined) break;
    pending.delete(ref);
    if (done.has(ref)) continue;
    done.add(ref);
    const match = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
    const section = match?.[1];
    const name = match?.[2];
    const converter = section === undefined ? undefined : CONVERTERS[section];
    const sectionNode = section === undefined ? undefined : sourceComponents[section];
    const original = isObject(sectionNode) && name !== undefined ? sectionNode[name] : undefined;
    if (section === undefined || name === undefined || !converter || original === undefined) {
      throw new Error(`cannot resolve ${ref}`);
    }
    const converted = converter(original);
    components[section] = { ...(components[section] ?? {}), [name]: converted };
    const found = new Set<string>();
    collectRefs(converted, found);
    for (const next of found) if (!done.has(next)) pending.add(next);
  }

  const info = source.info as JsonObject;
  const output: JsonObject = {
    openapi: source.openapi ?? '3.0.3',
    info: {
      title: `${String(info.title)} (subset for gitops-secrets tests)`,
      version: String(info.version),
      description:
        `Generated by scripts/extract-openapi.ts from @octokit/openapi ${String(pkg.version)} ` +
        '(generated/api.github.com.json). Do not edit by hand. OpenAPI 3.0 `nullable` has been ' +
        'rewritten to JSON Schema null types; examples, schema descriptions and x-* extensions ' +
        'were removed. Corrections applied: ' +
        SCHEMA_CORRECTIONS.map((c) => `${c.schema}/${c.path.join('/')} (${c.reason})`).join('; '),
    },
    paths,
    components: sortKeys(mapValues(components, (section) => sortKeys(section as JsonObject))),
  };
  await writeFile(outFile, `${JSON.stringify(output, null, 2)}\n`);
  const counts = Object.entries(components)
    .map(([section, entries]) => `${Object.keys(entries).length} ${section}`)
    .join(', ');
  console.log(`wrote ${outFile}: ${OPERATIONS.length} operations, ${counts}`);
}

await main();
