import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseAllDocuments,
  parseDocument,
  type Scalar,
  type YAMLSeq,
} from 'yaml';
import { firstLine } from '../config/read-yaml.js';
import type { ConfigProblem } from '../errors.js';

/**
 * Reading and editing one top-level list of a small YAML file (a kustomization's `resources:`, a
 * ksops generator's `files:`). The `yaml` Document API finds the nodes; an edit is spliced into
 * the text at their positions, so every other byte (comments, blank lines, quoting, indentation,
 * the spacing before a comment, which re-stringifying would change) stays as it was. The result
 * is parsed again and must hold exactly the expected list and nothing else changed.
 */
export interface YamlFile {
  path: string;
  text: string;
  doc: Document;
  lines: LineCounter;
}

export type Parsed<T> = { ok: T } | { problem: ConfigProblem };

/** A file's one YAML document, a mapping; a YAML error or any other shape is a problem. */
export function parseYamlFile(path: string, text: string): Parsed<YamlFile> {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const problem = (offset: number, message: string) => ({
    problem: problemAt(path, lines, offset, '', message),
  });
  if (!Array.isArray(docs)) return problem(0, 'is empty');
  for (const d of docs) {
    const e = d.errors[0];
    if (e) return problem(e.pos[0], `is not valid YAML: ${firstLine(e.message)}`);
  }
  if (docs.length > 1) return problem(docs[1]!.range[0], 'holds more than one document');
  // Empty, or comments only: an empty mapping.
  const doc = docs[0] ?? parseDocument('');
  if (doc.contents !== null && !isMap(doc.contents))
    return problem(doc.contents.range?.[0] ?? 0, 'is not a YAML mapping');
  return { ok: { path, text, doc, lines } };
}

export function problemAt(
  file: string,
  lines: LineCounter,
  offset: number,
  path: string,
  message: string,
): ConfigProblem {
  const pos = lines.linePos(offset);
  return { file, line: pos.line, column: pos.col, path, message };
}

/** A top-level string field (`kind`, `apiVersion`). */
export function stringField(file: YamlFile, key: string): string | undefined {
  const v = file.doc.get(key);
  return typeof v === 'string' ? v : undefined;
}

interface ListInfo {
  pair: Pair | undefined;
  seq: YAMLSeq<Scalar<string>> | undefined;
  /** The entries, in order. */
  entries: string[];
}

/** The top-level list at `key`: absent or null is an empty list; anything but strings is a problem. */
export function listAt(file: YamlFile, key: string): Parsed<ListInfo> {
  const map = file.doc.contents;
  const pair = isMap(map)
    ? map.items.find((p) => isScalar(p.key) && p.key.value === key)
    : undefined;
  const value = pair?.value;
  const bad = (offset: number, message: string) => ({
    problem: problemAt(file.path, file.lines, offset, key, message),
  });
  if (!pair || value === null || (isScalar(value) && value.value === null))
    return { ok: { pair, seq: undefined, entries: [] } };
  if (!isSeq(value))
    return bad(rangeOf(value, pair), 'is not a list: gitops-secrets edits a list of paths here');
  const entries: string[] = [];
  for (const item of value.items) {
    if (!isScalar(item) || typeof item.value !== 'string')
      return bad(
        rangeOf(item, pair),
        'holds an entry that is not a plain string (an alias, a mapping, a number...): gitops-secrets does not edit this list',
      );
    entries.push(item.value);
  }
  return { ok: { pair, seq: value as YAMLSeq<Scalar<string>>, entries } };
}

function rangeOf(node: unknown, pair: Pair): number {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r?.[0] ?? (pair.key as Scalar).range?.[0] ?? 0;
}

/**
 * The text with `add` appended to the list at `key` (created at the end when absent) and the
 * entries at `remove` (indexes) taken out. A problem names what the tool cannot keep.
 */
export function editList(
  file: YamlFile,
  key: string,
  add: string[],
  remove: Set<number>,
): Parsed<string> {
  const found = listAt(file, key);
  if ('problem' in found) return found;
  const { pair, seq, entries } = found.ok;
  if (add.length === 0 && remove.size === 0) return { ok: file.text };
  let text: string;
  // No list yet, or an empty `[]` (what `init` writes): entries go in as a block list.
  if (!seq || (seq.flow && seq.items.length === 0)) text = addToEmpty(file, key, pair, add);
  else if (seq.flow) text = editFlow(file.text, seq, add, remove);
  else {
    const edited = editBlock(file, pair!, seq, add, remove);
    if ('problem' in edited) return edited;
    text = edited.ok;
  }
  const expected = [...entries.filter((_, i) => !remove.has(i)), ...add];
  return verify(file, key, text, expected);
}

/** The list's new text checked: parsed again, it holds the expected entries, the rest unchanged. */
function verify(file: YamlFile, key: string, text: string, expected: string[]): Parsed<string> {
  const again = parseYamlFile(file.path, text);
  const list = 'ok' in again ? listAt(again.ok, key) : undefined;
  const before = { ...(file.doc.toJS() as object), [key]: null };
  const after = 'ok' in again ? { ...(again.ok.doc.toJS() as object), [key]: null } : undefined;
  if (
    list &&
    'ok' in list &&
    JSON.stringify(list.ok.entries) === JSON.stringify(expected) &&
    JSON.stringify(before) === JSON.stringify(after)
  )
    return { ok: text };
  const at = (file.doc.get(key, true) as Scalar | undefined)?.range?.[0] ?? 0;
  return {
    problem: problemAt(
      file.path,
      file.lines,
      at,
      key,
      'is written in a style gitops-secrets cannot edit while keeping the rest of the file as it is; write it as a block list (`- path` lines)',
    ),
  };
}

/** A new list: after a `key:` with no value, or a new `key:` at the end of the file. */
function addToEmpty(file: YamlFile, key: string, pair: Pair | undefined, add: string[]): string {
  const { text } = file;
  const dash = blockDashIndent(file);
  if (pair) {
    const keyStart = (pair.key as Scalar).range?.[0] ?? 0;
    const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
    const keyIndent = keyStart - lineStart;
    const v = pair.value as Scalar | null;
    // `key: ~` or `key: null`: that value goes.
    let from = keyStart + key.length;
    from = text.indexOf(':', from) + 1;
    const end = v?.range ? v.range[1] : from;
    const eol = lineEnd(text, end);
    const rest = text.slice(end, eol).trimStart(); // a comment, kept
    const items = add.map((e) => `\n${' '.repeat(keyIndent + dash)}- ${plain(e)}`).join('');
    return `${text.slice(0, from)}${rest ? ` ${rest}` : ''}${items}${text.slice(eol)}`;
  }
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  const items = add.map((e) => `${' '.repeat(dash)}- ${plain(e)}\n`).join('');
  return `${text}${sep}${key}:\n${items}`;
}

/** How far block lists of this file indent their dashes under their key (0 or 2). */
function blockDashIndent(file: YamlFile): number {
  const map = file.doc.contents;
  if (!isMap(map)) return 0;
  for (const p of map.items) {
    const seq = p.value;
    if (!isSeq(seq) || seq.flow || !seq.range) continue;
    const keyCol = file.lines.linePos((p.key as Scalar).range?.[0] ?? 0).col;
    const lineStart = file.text.lastIndexOf('\n', seq.range[0] - 1) + 1;
    return Math.max(0, seq.range[0] - lineStart - (keyCol - 1));
  }
  return 0;
}

function lineEnd(text: string, from: number): number {
  const i = text.indexOf('\n', from);
  return i < 0 ? text.length : i;
}

/**
 * Block list: each removed entry's line goes, new ones follow the last entry's line. Every entry
 * taken out and none added: `key: []`, as a flow list keeps it (`key:` with no value is null,
 * which kustomize and ksops refuse: ksops fails on a generator without its `files` list).
 */
function editBlock(
  file: YamlFile,
  pair: Pair,
  seq: YAMLSeq<Scalar<string>>,
  add: string[],
  remove: Set<number>,
): Parsed<string> {
  const { text } = file;
  const cuts: { from: number; to: number; insert: string }[] = [];
  const lineOf = (item: Scalar<string>) => {
    const start = item.range?.[0] ?? 0;
    const from = text.lastIndexOf('\n', start - 1) + 1;
    const eol = lineEnd(text, item.range?.[1] ?? start);
    return { from, prefix: text.slice(from, start), to: eol < text.length ? eol + 1 : eol };
  };
  const last = seq.items[seq.items.length - 1]!;
  const lastLine = lineOf(last);
  for (const [i, item] of seq.items.entries()) {
    const l = lineOf(item);
    if (!/^\s*-\s+$/.test(l.prefix))
      return {
        problem: problemAt(
          file.path,
          file.lines,
          item.range?.[0] ?? 0,
          '',
          'has a list entry that does not stand on a line of its own: gitops-secrets does not edit this list',
        ),
      };
    if (remove.has(i)) cuts.push({ from: l.from, to: l.to, insert: '' });
  }
  if (add.length > 0) {
    const nl = lastLine.to === text.length && !text.endsWith('\n') ? '\n' : '';
    const lines = add.map((e) => `${lastLine.prefix}${quoteLike(last, e)}\n`).join('');
    cuts.push({ from: lastLine.to, to: lastLine.to, insert: `${nl}${lines}` });
  } else if (remove.size === seq.items.length) {
    const keyEnd = (pair.key as Scalar).range?.[1] ?? 0;
    const colon = text.indexOf(':', keyEnd) + 1;
    cuts.push({ from: colon, to: colon, insert: ' []' });
  }
  return { ok: splice(text, cuts) };
}

/** Flow list (`[a, b]`): new entries before the `]`; with entries taken out, written again on one line. */
function editFlow(
  text: string,
  seq: YAMLSeq<Scalar<string>>,
  add: string[],
  remove: Set<number>,
): string {
  const items = seq.items;
  const open = seq.range?.[0] ?? 0;
  const close = text.lastIndexOf(']', (seq.range?.[1] ?? 1) - 1);
  const last = items[items.length - 1];
  const added = add.map((e) => (last ? quoteLike(last, e) : plain(e)));
  if (remove.size === 0) {
    const at = last?.range?.[1] ?? close;
    return splice(text, [{ from: at, to: at, insert: (last ? ', ' : '') + added.join(', ') }]);
  }
  // Entries taken out: the list is written again on one line, each kept entry as it was written.
  const inner = text.slice(open + 1, close);
  const pad = inner.startsWith(' ') && inner.endsWith(' ') ? ' ' : '';
  const kept = items
    .filter((_, i) => !remove.has(i))
    .map((it) => text.slice(it.range?.[0] ?? 0, it.range?.[1] ?? 0));
  const all = [...kept, ...added];
  const list = all.length > 0 ? `[${pad}${all.join(', ')}${pad}]` : '[]';
  return splice(text, [{ from: open, to: close + 1, insert: list }]);
}

function splice(text: string, cuts: { from: number; to: number; insert: string }[]): string {
  let out = text;
  for (const c of [...cuts].sort((a, b) => b.from - a.from || b.to - a.to))
    out = out.slice(0, c.from) + c.insert + out.slice(c.to);
  return out;
}

/** A new entry quoted as the sample entry is (plain when it can be). */
function quoteLike(sample: Scalar, value: string): string {
  if (sample.type === 'QUOTE_DOUBLE') return JSON.stringify(value);
  if (sample.type === 'QUOTE_SINGLE') return `'${value.replaceAll("'", "''")}'`;
  return plain(value);
}

function plain(value: string): string {
  return /^[A-Za-z0-9_./][A-Za-z0-9_./@+=-]*$/.test(value) && !/^[0-9.]+$/.test(value)
    ? value
    : JSON.stringify(value);
}
