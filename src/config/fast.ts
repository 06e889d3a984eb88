import jsYaml from 'js-yaml';
import { checkRules } from './rules.js';
import { readConfigSubset } from './subset.js';
import { surelyValid } from './sure.js';
import type { Config } from './types.js';

/** Configs larger than this are refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * YAML features the fast path leaves to the full parser: anchors, aliases, tags, directives,
 * merge keys, complex keys, tabs, `__proto__`, the few number forms on which js-yaml's core
 * schema and the yaml package's disagree (`0b1`, `+0x1`, `+.5`), and a `#` right after
 * something else (`{ a: 1 }#`: js-yaml takes it for a comment, the yaml package refuses it).
 */
const NOT_FOR_FAST_PATH = /[&*!%?\t]|<<|__proto__|\b0b[01]|\+0x|\+\.|\S#/;

/**
 * A line the fast path takes: blank, a comment, `key:` with or without a value, or a sequence
 * item (`- value`, `- key: value`); no block scalars (`|`, `>`). Anything else (a continuation
 * of a multi-line scalar, say) goes to the full parser, which is stricter about indentation.
 */
const SIMPLE_LINE = /^ *(?:- +)*(?:#.*|[\w./$-]+ *:(?: +[^|> ].*)?|(?<=- )[^|> ].*)?$/;

/** A flow collection (`{ … }`, `[ … ]`) opens and closes on the line, with no quote inside. */
function oneLineFlow(line: string): boolean {
  if (!FLOW_BRACKET.test(line)) return true;
  // The brackets alone (a native replace), counted: far fewer characters than the line.
  const brackets = line.replace(NOT_BRACKETS, '');
  let depth = 0;
  let opened = false;
  for (let k = 0; k < brackets.length; k++) {
    const c = brackets.charCodeAt(k);
    if (c === 123 || c === 91) {
      depth++;
      opened = true;
    } else if (--depth < 0) return false;
  }
  return depth === 0 && (!opened || !QUOTE.test(line));
}
const FLOW_BRACKET = /[{}[\]]/;
const NOT_BRACKETS = /[^{}[\]]+/g;
const QUOTE = /['"]/;

/** The text has none of the YAML features the fast path leaves to the full parser. */
export function fastPathTakes(text: string): boolean {
  if (NOT_FOR_FAST_PATH.test(text)) return false;
  for (const line of text.split('\n'))
    if (!SIMPLE_LINE.test(line) || !oneLineFlow(line)) return false;
  return true;
}

/**
 * A valid config parsed about ten times faster than by the full path: readConfigSubset or
 * js-yaml (YAML 1.2 core schema, duplicate keys refused), `surelyValid` for the schema and the
 * same rules. Anything unusual, and any
 * problem at all, returns undefined: the full path then parses again with positions, so every
 * message keeps its line and column. A config with 1,000 secrets is 150 KB; the full path takes
 * about 300 ms on it, this one about 30 ms.
 */
export function parseFast(text: string, file: string): Config | undefined {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) return undefined; // the full path says so
  if (!fastPathTakes(text)) return undefined;
  // The usual shapes of a config are read by readConfigSubset, the rest by js-yaml; both give
  // the same value (test/config-subset.test.ts).
  let data = readConfigSubset(text);
  if (data === undefined) {
    try {
      data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, json: false });
    } catch {
      return undefined;
    }
  }
  // Not zod here: a value surelyValid takes is what zod would return for it, unchanged.
  if (!surelyValid(data)) return undefined;
  let problem = false;
  const config = checkRules(data, file, () => {
    problem = true;
  });
  return problem ? undefined : config;
}
