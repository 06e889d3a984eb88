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
import type { ConfigProblem } from '../errors.js';
import type { FieldPath } from './report.js';
import { positionOf } from './yaml-positions.js';

/** More alias expansions than this is an alias bomb (a billion laughs), refused. */
const MAX_ALIAS_COUNT = 100;

/** Where a field of the document is, 1-based (see positionOf). */
export type Locate = (
  path: FieldPath,
  options?: { key?: boolean },
) => { line: number; column: number };

export type YamlRead =
  | { ok: true; data: unknown; locate: Locate }
  | { ok: false; problems: ConfigProblem[] };

/**
 * Reads config text with the `yaml` package, keeping positions: the plain data and a way to
 * find any field's line and column. Malformed YAML, a duplicate key, an alias to no anchor and
 * an alias bomb are problems (with their position), never exceptions.
 */
export function readYaml(text: string, file: string): YamlRead {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    // Problems are returned, never printed: no process warning (e.g. for a mapping used as a key).
    logLevel: 'error',
  });
  const problem = (offset: number, message: string): ConfigProblem => {
    const pos = counter.linePos(offset);
    return { file, line: pos.line, column: pos.col, path: '', message };
  };
  const errors = [...doc.errors, ...doc.warnings];
  if (errors.length > 0)
    return {
      ok: false,
      problems: errors.map((e) => problem(e.pos[0], `YAML: ${firstLine(e.message)}`)),
    };
  try {
    const data: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return { ok: true, data, locate: (path, options) => positionOf(doc, counter, path, options) };
  } catch (err) {
    // The yaml package throws on alias bombs and on aliases to anchors that do not exist.
    const alias = firstUnresolvedAlias(doc);
    const message = alias
      ? `YAML: alias *${alias.source} refers to no anchor &${alias.source} defined before it`
      : `YAML: ${firstLine((err as Error).message)} (at most ${MAX_ALIAS_COUNT} alias expansions)`;
    return { ok: false, problems: [problem(alias?.range?.[0] ?? 0, message)] };
  }
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

/** The first line of a `yaml` error message (the rest is a source excerpt). */
export function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
