import {
  type Alias,
  type Document,
  isAlias,
  isCollection,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
} from 'yaml';
import type { z } from 'zod';
import type { ConfigProblem } from '../errors.js';
import { MAX_CONFIG_BYTES, parseFast } from './fast.js';
import { checkRules } from './rules.js';
import { salvage } from './salvage.js';
import { configSchema } from './schema.js';
import type { Config } from './types.js';
import { type FieldPath, formatPath, positionOf } from './yaml-positions.js';

const MAX_ALIAS_COUNT = 100;

/** Reports a problem at a field path of the document being checked. */
export type Report = (path: FieldPath, message: string, options?: { key?: boolean }) => void;

/**
 * Parses and validates config text. Pure: no file system, no clock. A valid config takes the
 * fast path (fast.ts); anything else is parsed again with positions and checked by zod, so every
 * problem is reported with its line and column.
 */
export function parseConfig(
  text: string,
  file: string,
  options: { fast?: boolean } = {},
): { config: Config; problems: [] } | { config: undefined; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    return {
      config: undefined,
      problems: [
        {
          file,
          line: 1,
          column: 1,
          path: '',
          message: `file is larger than ${MAX_CONFIG_BYTES} bytes`,
        },
      ],
    };
  }
  const fast = options.fast === false ? undefined : parseFast(text, file);
  if (fast) return { config: fast, problems: [] };
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    // Problems are returned, never printed: no process warning (e.g. for a mapping used as a key).
    logLevel: 'error',
  });
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = counter.linePos(err.pos[0]);
    problems.push({
      file,
      line: pos.line,
      column: pos.col,
      path: '',
      message: `YAML: ${firstLine(err.message)}`,
    });
  }
  if (problems.length > 0) return { config: undefined, problems };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package throws on alias bombs and on aliases to anchors that do not exist.
    const alias = firstUnresolvedAlias(doc);
    const pos = counter.linePos(alias?.range?.[0] ?? 0);
    return {
      config: undefined,
      problems: [
        {
          file,
          line: pos.line,
          column: pos.col,
          path: '',
          message: alias
            ? `YAML: alias *${alias.source} refers to no anchor &${alias.source} defined before it`
            : `YAML: ${firstLine((err as Error).message)} (at most ${MAX_ALIAS_COUNT} alias expansions)`,
        },
      ],
    };
  }

  const report: Report = (path, message, options) => {
    const pos = positionOf(doc, counter, path, options);
    problems.push({ file, line: pos.line, column: pos.column, path: formatPath(path), message });
  };

  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    report([], 'the config must be a YAML mapping with `version: 1` and `secrets:`');
    return { config: undefined, problems };
  }

  // reportInput: tells a wrong value (`length: "32"`) from a missing one in the issues.
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // zod still runs length checks on a value of the wrong type (a list where a string belongs):
    // the wrong type is the one problem to report there.
    const wrongType = new Set(
      parsed.error.issues.filter((i) => i.code === 'invalid_type').map((i) => pathKey(i.path)),
    );
    for (const issue of parsed.error.issues) {
      if (issue.code !== 'invalid_type' && wrongType.has(pathKey(issue.path))) continue;
      reportIssue(issue, report);
    }
    // Check the parts that did parse too, so the user sees every problem in one run.
    const partial = salvage(data as Record<string, unknown>);
    checkRules(partial.raw, file, report, partial.hints);
    return { config: undefined, problems: sortProblems(dedupe(problems)) };
  }
  const config = checkRules(parsed.data, file, report);
  if (problems.length > 0 || !config)
    return { config: undefined, problems: sortProblems(problems) };
  return { config, problems: [] };
}

function reportIssue(issue: z.core.$ZodIssue, report: Report): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) {
      report([...path, key], `unknown field "${key}"${suggestion(path)}`, { key: true });
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
    report(
      path,
      Number(issue.minimum) === 1
        ? 'must not be empty'
        : `must have at least ${issue.minimum} characters`,
    );
    return;
  }
  if (issue.code === 'invalid_union') {
    report(path, 'must be an environment name (like prod) or { name, sops }');
    return;
  }
  report(path, issue.message);
}

function suggestion(path: FieldPath): string {
  const where = path[path.length - 1];
  if (path[0] === 'secrets' && path[2] === 'keys' && path.length === 4) {
    return '; allowed: length, charset, chars, bytes, encoding, uuid, provided, description, from, rotateEvery, keepPrevious, pattern, minLength';
  }
  if (path[0] === 'secrets' && path.length === 2) {
    return '; allowed: name, namespace, type, restart, rollout, labels, annotations, environments, keys';
  }
  if (path.length === 0) {
    return '; allowed: version, output, sops, pullRequest, defaults, environments, shared, secrets';
  }
  return where === undefined ? '' : '';
}

function expected(type: string): string {
  switch (type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'record':
      return 'a mapping';
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

/** The first alias, in document order, whose anchor is not defined before it. */
function firstUnresolvedAlias(doc: Document): Alias | undefined {
  const anchors = new Set<string>();
  let found: Alias | undefined;
  visit(doc, (_, node) => {
    if (isAlias(node)) {
      if (anchors.has(node.source)) return undefined;
      found = node;
      return visit.BREAK;
    }
    if ((isScalar(node) || isCollection(node)) && node.anchor) anchors.add(node.anchor);
    return undefined;
  });
  return found;
}

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('\u0000');
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}
