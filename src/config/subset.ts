/**
 * A reader for the subset of YAML that configs are written in, faster than js-yaml on a cold
 * start (the 10,000-secret config: 127–161 ms against 184–216 ms; the config is read on every
 * run's critical path):
 *
 * - block mappings and sequences indented with spaces (a sequence may sit at its key's
 *   indentation), keys of `[A-Za-z0-9_.$/][-A-Za-z0-9_./$]*`;
 * - flow mappings and sequences that open and close on their line, with no quote inside;
 * - plain scalars, and single-line quoted ones with no backslash;
 * - full-line comments, and ` #` comments on lines without quotes.
 *
 * It returns what js-yaml (core schema) returns for such a text, or undefined for anything
 * else (anchors, tags, multi-line scalars, escapes, duplicate keys, numbers other than plain
 * decimal integers...), which the caller then gives to js-yaml. test/config-subset.test.ts
 * compares the two on generated texts.
 */

/** Thrown inside readConfigSubset when the text leaves the subset it reads. */
class OutsideSubset extends Error {}

const out = (): never => {
  throw new OutsideSubset();
};

const KEY_RE = /^([A-Za-z0-9_.$/][-A-Za-z0-9_./$]*):(?: +(.*))?$/;
/** Plain scalars js-yaml's core schema reads as something other than a string or an integer. */
const NULL_RE = /^(?:~|null|Null|NULL)$/;
const BOOL_RE = /^(?:true|True|TRUE|false|False|FALSE)$/;
const INT_RE = /^(?:0|-?[1-9][0-9]{0,14})$/;
/**
 * Anything js-yaml might read as a number (an int in any base, with `_`; a float; .inf, .nan),
 * a little wider than its own patterns: left to it.
 */
const NUMBERISH_RE =
  /^[-+]?(?:0[box][0-9a-fA-F_]*|[0-9_]+|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF|nan|NaN|NAN))$/;
/** A plain scalar cannot start with an indicator (some can, before a non-space: left to js-yaml). */
const PLAIN_START_RE = /^[-?:,[\]{}#&*!|>'"%@`]/;
/** Characters js-yaml refuses anywhere in its input (its PATTERN_NON_PRINTABLE). */
const NON_PRINTABLE_RE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters it looks for
  /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;

/** Trailing spaces removed (YAML's white space is spaces and tabs; no tabs get this far). */
function trimSpaces(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 32) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * A plain scalar (trimmed) as the core schema reads it; `flow`: inside a flow collection.
 * Dispatched on the first character: most scalars are words, and run no regular expression.
 */
function plain(raw: string, flow: boolean): unknown {
  const c = raw.charCodeAt(0);
  if (raw === '') return null;
  if (isLetter(c)) {
    if (raw.length <= 5 && SPECIAL_WORD_START.has(c)) {
      if (NULL_RE.test(raw)) return null;
      if (BOOL_RE.test(raw)) return c === 116 || c === 84; // t, T
    }
  } else if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (INT_RE.test(raw)) return Number(raw);
    if (NUMBERISH_RE.test(raw) || c === 45 || c === 43) out(); // `-x`, `+x`: left to js-yaml
  } else if (raw === '~') return null;
  else if (PLAIN_START_RE.test(raw)) out();
  // In flow context the scalar already ends before any `: `, `,` or bracket (flowValue).
  if (!flow && (raw.includes(': ') || raw.includes(' #') || raw.endsWith(':'))) out();
  return raw;
}

/** First letters of the words the core schema reads as null or a boolean. */
const SPECIAL_WORD_START = new Set([110, 78, 116, 84, 102, 70]); // n N t T f F

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** A single-line quoted scalar without escapes, or undefined when `raw` is not quoted. */
function quoted(raw: string): string | undefined {
  const q = raw.charCodeAt(0);
  if (q === 39 /* ' */) {
    const m = /^'((?:[^']|'')*)'$/.exec(raw);
    return m ? m[1]!.replaceAll("''", "'") : out();
  }
  if (q === 34 /* " */) {
    const m = /^"([^"\\]*)"$/.exec(raw);
    return m ? m[1]! : out();
  }
  return undefined;
}

/** A key as js-yaml stores it: only keys that are strings to the core schema are taken. */
function keyOf(raw: string): string {
  const c = raw.charCodeAt(0);
  if (isLetter(c) && !(raw.length <= 5 && SPECIAL_WORD_START.has(c))) return raw;
  if (NULL_RE.test(raw) || BOOL_RE.test(raw) || NUMBERISH_RE.test(raw)) out();
  if (raw === '__proto__') out();
  return raw;
}

/** The characters of a key: `[-A-Za-z0-9_./$]*` (sticky: from lastIndex; it always matches). */
const FLOW_KEY = /[-A-Za-z0-9_./$]*/y;
/**
 * A plain scalar in flow context: characters up to a flow indicator (`,[]{}`), or up to a `:`
 * followed by a space, a flow indicator or the end (sticky; it always matches, maybe nothing).
 */
const FLOW_SCALAR = /(?:[^,[\]{}:]|:(?![ ,[\]{}]|$))*/y;

/**
 * Where the flow reader below stopped: each of its functions takes the position to start at and
 * leaves the one after what it read here. Positions live in locals (registers), not in a
 * closure's context: the reader runs cold, in V8's interpreter, on every run.
 */
let flowEnd = 0;

/** The position of the first character at or after `i` that is not a space. */
function skipSpaces(text: string, i: number): number {
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

/**
 * A plain scalar in flow context, trimmed: up to a flow indicator, or a `:` before a space,
 * a flow indicator or the end (as js-yaml's readPlainScalar). Scanned by a sticky regular
 * expression: irregexp's native code, where a loop over the characters would run in V8's
 * interpreter.
 */
function flowScalar(text: string, from: number): unknown {
  FLOW_SCALAR.lastIndex = from;
  FLOW_SCALAR.test(text);
  flowEnd = FLOW_SCALAR.lastIndex;
  return plain(trimSpaces(text.slice(from, flowEnd)), true);
}

/** A flow mapping, a flow sequence or a plain scalar at `i` (spaces before it skipped). */
function flowNode(text: string, i: number): unknown {
  i = skipSpaces(text, i);
  const c = text.charCodeAt(i);
  if (c === 123 /* { */) return flowMapping(text, i);
  if (c === 91 /* [ */) return flowSequence(text, i);
  return flowScalar(text, i);
}

/** The flow mapping whose `{` is at `i`. */
function flowMapping(text: string, i: number): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  i = skipSpaces(text, i + 1);
  if (text.charCodeAt(i) === 125) {
    flowEnd = i + 1;
    return map;
  }
  // Flow mappings are small: duplicates are found among the keys so far, without a lookup.
  const seen: string[] = [];
  for (;;) {
    const from = skipSpaces(text, i);
    FLOW_KEY.lastIndex = from;
    FLOW_KEY.test(text);
    i = FLOW_KEY.lastIndex;
    // `key: value`, with the colon right after the key and a space after it.
    if (i === from || text.charCodeAt(i) !== 58 || text.charCodeAt(i + 1) !== 32) out();
    if (text.charCodeAt(from) === 45) out(); // `-x:`
    const key = keyOf(text.slice(from, i));
    for (let k = 0; k < seen.length; k++) if (seen[k] === key) out();
    seen.push(key);
    map[key] = flowNode(text, i + 2);
    i = skipSpaces(text, flowEnd);
    const c = text.charCodeAt(i++);
    if (c === 125) {
      flowEnd = i;
      return map;
    }
    if (c !== 44) out();
  }
}

/** The flow sequence whose `[` is at `i`. */
function flowSequence(text: string, i: number): unknown[] {
  const list: unknown[] = [];
  i = skipSpaces(text, i + 1);
  if (text.charCodeAt(i) === 93) {
    flowEnd = i + 1;
    return list;
  }
  for (;;) {
    i = skipSpaces(text, i);
    // `[a, , b]` and a trailing comma are for js-yaml to judge.
    const first = text.charCodeAt(i);
    if (first === 44 || first === 93 || i === text.length) out();
    list.push(flowNode(text, i));
    i = skipSpaces(text, flowEnd);
    const c = text.charCodeAt(i++);
    if (c === 93) {
      flowEnd = i;
      return list;
    }
    if (c !== 44) out();
  }
}

/** A flow collection that opens and closes within `text` (no quotes in it). */
function flowValue(text: string): unknown {
  const result = flowNode(text, 0);
  if (skipSpaces(text, flowEnd) !== text.length) out();
  return result;
}

/** A value written on its key's (or dash's) line, comments already stripped. */
function inlineValue(raw: string): unknown {
  const c = raw.charCodeAt(0);
  if (c === 123 || c === 91) return flowValue(raw);
  const q = quoted(raw);
  return q !== undefined ? q : plain(raw, false);
}

/**
 * The line without a trailing ` #` comment and trailing spaces. A `#` on a line with quotes, or
 * right after another character, is left to js-yaml.
 */
function stripComment(line: string): string {
  const hash = line.indexOf('#');
  if (hash < 0) return trimSpaces(line);
  if (line.includes("'") || line.includes('"')) out();
  if (hash > 0 && line.charCodeAt(hash - 1) !== 32) out();
  return trimSpaces(line.slice(0, hash));
}

export function readConfigSubset(text: string): unknown {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  if (NON_PRINTABLE_RE.test(text)) return undefined;
  const lines = text.split('\n');
  // Content lines only, comments stripped; indentation kept.
  const content: string[] = [];
  const indents: number[] = [];
  try {
    for (const raw of lines) {
      let n = 0;
      while (raw.charCodeAt(n) === 32) n++;
      if (n === raw.length || raw.charCodeAt(n) === 35 /* # */) continue;
      if (raw.startsWith('---') || raw.startsWith('...')) return undefined;
      const line = stripComment(raw);
      content.push(line);
      indents.push(n);
    }
    let i = 0;

    // The value of a key written alone on its line at `col`: a nested block (a sequence may
    // sit at the key's own column), or null.
    const block = (col: number): unknown => {
      if (i >= content.length) return null;
      const n = indents[i]!;
      const line = content[i]!;
      if (n < col || (n === col && !line.startsWith('-', n))) return null;
      return line.startsWith('-', n) ? sequence(n) : mapping(n, undefined);
    };

    const entry = (map: Record<string, unknown>, text: string, col: number): void => {
      const m = KEY_RE.exec(text) ?? out();
      const key = keyOf(m[1]!);
      if (Object.hasOwn(map, key)) out();
      map[key] = m[2] === undefined || m[2] === '' ? block(col) : inlineValue(m[2]);
    };

    const mapping = (col: number, first: string | undefined): Record<string, unknown> => {
      const map: Record<string, unknown> = {};
      if (first !== undefined) entry(map, first, col);
      while (i < content.length) {
        const n = indents[i]!;
        if (n < col) break;
        if (n > col) out();
        const line = content[i]!;
        if (line.startsWith('-', n)) break; // a sequence at this column ends this mapping
        i++;
        entry(map, line.slice(col), col);
      }
      return map;
    };

    const sequence = (col: number): unknown[] => {
      const list: unknown[] = [];
      while (i < content.length) {
        const n = indents[i]!;
        if (n < col) break;
        if (n > col) out();
        const line = content[i]!;
        if (!line.startsWith('- ', col)) {
          if (line.startsWith('-', col)) out(); // `-` alone, or `-x`
          break;
        }
        i++;
        const item = line.slice(col + 2);
        let lead = 0;
        while (item.charCodeAt(lead) === 32) lead++;
        // `- - x` (a sequence in a sequence) and `-` alone are left to js-yaml; `- -3` is a number.
        if (item === '' || item.startsWith('- ', lead) || item.slice(lead) === '-') out();
        // `- key: value` starts a mapping at the item's column.
        if (KEY_RE.test(item.slice(lead))) list.push(mapping(col + 2 + lead, item.slice(lead)));
        else list.push(inlineValue(item.slice(lead)));
      }
      return list;
    };

    if (content.length === 0 || indents[0] !== 0) return undefined;
    if (content[0]!.startsWith('-') || content[0]!.startsWith('{') || content[0]!.startsWith('['))
      return undefined;
    const doc = mapping(0, undefined);
    return i === content.length ? doc : undefined;
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}
