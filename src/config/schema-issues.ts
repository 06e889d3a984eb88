import type { z } from 'zod';
import type { FieldPath, Report } from './report.js';
import { configSchema, keySchema, secretSchema } from './schema.js';
import { passwordRulesSchema } from './schema-rules.js';

/** Reports zod's issues in the project's words, each at its field. */
export function reportSchemaIssues(issues: readonly z.core.$ZodIssue[], report: Report): void {
  // zod still runs length checks on a value of the wrong type (a list where a string belongs):
  // the wrong type is the one problem to report there.
  const wrongType = new Set(
    issues.filter((i) => i.code === 'invalid_type').map((i) => pathKey(i.path)),
  );
  for (const issue of issues) {
    if (issue.code !== 'invalid_type' && wrongType.has(pathKey(issue.path))) continue;
    reportIssue(issue, report);
  }
}

function reportIssue(issue: z.core.$ZodIssue, report: Report): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) {
      report([...path, key], `unknown field "${key}"${allowedFields(path)}`, { key: true });
    }
    return;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    report(path, `is required (${expected(issue.expected)})`);
    return;
  }
  if (issue.code === 'invalid_type') {
    // Keep the schema's own wording ("must be a whole number from 1 to 4096") when it has one.
    const what = issue.message.startsWith('Invalid input')
      ? `must be ${expected(issue.expected)}`
      : issue.message;
    report(path, `${what}, not ${describe(issue.input)}`);
    return;
  }
  if (issue.code === 'invalid_value' && issue.input === undefined) {
    report(path, `is required; ${issue.message}`);
    return;
  }
  if (
    issue.code === 'too_small' &&
    issue.origin === 'string' &&
    issue.message.startsWith('Too small')
  ) {
    // zod's default wording ("expected string to have >=1 characters") is not for people.
    const min = Number(issue.minimum);
    report(path, min === 1 ? 'must not be empty' : `must have at least ${min} characters`);
    return;
  }
  if (issue.code === 'invalid_union') {
    report(path, 'must be an environment name (like prod) or { name, sops }');
    return;
  }
  report(path, issue.message);
}

/** The fields allowed where an unknown one was found, for the places people mistype most. */
function allowedFields(path: FieldPath): string {
  const fields = (shape: object) =>
    `; allowed: ${Object.keys(shape)
      .filter((k) => k !== '$schema')
      .join(', ')}`;
  if (path[0] === 'secrets' && path[2] === 'keys' && path.length === 4)
    return fields(keySchema.shape);
  if (path[path.length - 1] === 'rules') return fields(passwordRulesSchema.shape);
  if (path[0] === 'secrets' && path.length === 2) return fields(secretSchema.shape);
  if (path.length === 0) return fields(configSchema.shape);
  return '';
}

function expected(type: string): string {
  switch (type) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'int':
    case 'number':
      return 'a number';
    default:
      return `a ${type}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('\u0000');
}
