import { parseDocument } from 'yaml';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'gitops-secrets';
export const STATE_ANNOTATION = 'gitops-secrets.io/state';

/** What the tool records per key, in plaintext, so decisions need no private key. */
export interface KeyState {
  /** When the current value was first written (ISO-8601, UTC). */
  generated: string;
  /** When the current value was last written by a rotation or `set` (equals `generated` at first). */
  rotated: string;
  /** The shared value this key carries, if any. */
  shared?: string;
  /** The key is filled by a person. */
  provided?: boolean;
  /** This key holds the value before the last rotation of the named key. */
  previousOf?: string;
}

export interface ManifestState {
  version: 1;
  keys: Record<string, KeyState>;
}

/** A manifest as read from the repo without decrypting anything. */
export interface ManifestInfo {
  path: string;
  name: string;
  namespace: string;
  /** Keys under `data:` (names are plaintext; values are sops ciphertext). */
  dataKeys: string[];
  state: ManifestState;
  /** Recipients recorded in the file's `sops` section, e.g. `age:age1...`. */
  recipients: string[];
  managed: boolean;
}

/** Why a file at a managed path cannot be used as it is. */
export interface ManifestProblem {
  path: string;
  problem: string;
  remedy: string;
}

export function emptyState(): ManifestState {
  return { version: 1, keys: {} };
}

/** Serializes the state annotation: one line, keys sorted, so diffs stay small. */
export function stateToString(state: ManifestState): string {
  const keys: Record<string, KeyState> = {};
  for (const name of Object.keys(state.keys).sort()) {
    const k = state.keys[name]!;
    keys[name] = Object.fromEntries(
      Object.entries(k).filter(([, v]) => v !== undefined),
    ) as unknown as KeyState;
  }
  return JSON.stringify({ version: 1, keys });
}

export function parseState(text: unknown): ManifestState | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const data = JSON.parse(text) as { version?: unknown; keys?: unknown };
    if (data.version !== 1 || !data.keys || typeof data.keys !== 'object') return undefined;
    const keys: Record<string, KeyState> = {};
    for (const [name, raw] of Object.entries(data.keys as Record<string, unknown>)) {
      const k = raw as Partial<KeyState>;
      if (typeof k.generated !== 'string' || typeof k.rotated !== 'string') return undefined;
      keys[name] = k as KeyState;
    }
    return { version: 1, keys };
  } catch {
    return undefined;
  }
}

export interface PlainSecret {
  name: string;
  namespace: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: ManifestState;
  /** Plaintext values; they only ever go to sops's stdin. */
  data: Map<string, string>;
}

/**
 * Characters JSON leaves as they are that go-yaml (sops) reads differently inside a double-quoted
 * scalar: U+0085, U+2028 and U+2029 are line breaks to it (folded into spaces), and DEL, the C1
 * controls, U+FEFF, U+FFFE and U+FFFF are refused. Written as \u escapes, they read back as
 * themselves.
 */
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** A string as a YAML double-quoted scalar that go-yaml reads back exactly. */
export function yamlString(value: string): string {
  return JSON.stringify(value).replace(
    YAML_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The plaintext Kubernetes Secret that sops encrypts from stdin. Values are base64 under `data`.
 * Written by hand rather than by a YAML library (a third of a millisecond per Secret, on the
 * main thread that starts the sops processes): every scalar is a JSON string, which YAML reads
 * as a double-quoted scalar, so no name, label or value can be taken for a number, a boolean or
 * YAML syntax. sops re-emits the document in its own style, so the quoting never shows.
 */
export function renderPlainSecret(secret: PlainSecret): string {
  const q = yamlString;
  const map = (indent: string, entries: [string, string][]) =>
    entries.map(([k, v]) => `${indent}${q(k)}: ${q(v)}\n`).join('');
  const labels = Object.entries({ ...secret.labels, [MANAGED_BY_LABEL]: MANAGED_BY });
  const annotations = Object.entries({
    ...secret.annotations,
    [STATE_ANNOTATION]: stateToString(secret.state),
  });
  const data = [...secret.data.keys()]
    .sort()
    .map((k): [string, string] => [k, Buffer.from(secret.data.get(k)!, 'utf8').toString('base64')]);
  return [
    'apiVersion: v1\n',
    'kind: Secret\n',
    'metadata:\n',
    `  name: ${q(secret.name)}\n`,
    `  namespace: ${q(secret.namespace)}\n`,
    '  labels:\n',
    map('    ', labels),
    '  annotations:\n',
    map('    ', annotations),
    `type: ${q(secret.type)}\n`,
    data.length > 0 ? `data:\n${map('  ', data)}` : 'data: {}\n',
  ].join('');
}

/**
 * Reads the plaintext parts of an encrypted manifest: key names, the state annotation and the
 * recipients. Never decrypts. Returns a problem for anything the tool must not touch.
 */
export function readManifest(path: string, text: string): ManifestInfo | ManifestProblem {
  // sops writes a small, regular subset of YAML; read that directly (the `yaml` package costs
  // ~0.5 ms per manifest, which dominates `check` and a no-op `sync` in big repos).
  let data = readYamlSubset(text) as Record<string, unknown> | undefined;
  if (data === undefined) {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0) {
      return {
        path,
        problem: 'is not valid YAML',
        remedy: 'restore it from git history, or delete it and run sync',
      };
    }
    try {
      data = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown>;
    } catch {
      return { path, problem: 'is not valid YAML', remedy: 'restore it from git history' };
    }
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return {
      path,
      problem: 'is not a Kubernetes manifest',
      remedy: 'move it out of the output path',
    };
  }
  if (data.kind !== 'Secret' || data.apiVersion !== 'v1') {
    return {
      path,
      problem: `is a ${String(data.kind ?? 'document')}, not a v1 Secret`,
      remedy: 'move it away from the output path of the config, or change `output`',
    };
  }
  const sops = data.sops as Record<string, unknown> | undefined;
  if (!sops || typeof sops !== 'object' || typeof sops.mac !== 'string') {
    return {
      path,
      problem: 'is not encrypted with sops (no sops section)',
      remedy: 'encrypt it with `sops encrypt -i`, or delete it so that sync regenerates it',
    };
  }
  const meta = (data.metadata ?? {}) as Record<string, unknown>;
  const annotations = (meta.annotations ?? {}) as Record<string, unknown>;
  const labels = (meta.labels ?? {}) as Record<string, unknown>;
  const rawState = annotations[STATE_ANNOTATION];
  const state = parseState(rawState);
  if (rawState !== undefined && !state) {
    return {
      path,
      problem: `has an unreadable ${STATE_ANNOTATION} annotation`,
      remedy: 'restore the annotation from git history (it is covered by the sops MAC)',
    };
  }
  const values = data.data;
  const dataKeys: string[] = [];
  if (values && typeof values === 'object' && !Array.isArray(values)) {
    for (const [k, v] of Object.entries(values)) {
      if (typeof v !== 'string' || !v.startsWith('ENC[')) {
        return {
          path,
          problem: `has a plaintext value under data.${k}`,
          remedy: 'remove the plaintext value from the file and from git history, then run sync',
        };
      }
      dataKeys.push(k);
    }
  }
  return {
    path,
    name: own(String(meta.name ?? '')),
    namespace: own(String(meta.namespace ?? '')),
    dataKeys,
    state: state ?? emptyState(),
    recipients: recipientsOf(sops),
    managed: labels[MANAGED_BY_LABEL] === MANAGED_BY || state !== undefined,
  };
}

export function isProblem(m: ManifestInfo | ManifestProblem): m is ManifestProblem {
  return 'problem' in m;
}

/**
 * A string that V8 stores on its own. A part of a manifest's text taken by slicing (or joined
 * to another) can keep the whole text, 2 KB, alive for as long as the ManifestInfo lives: at
 * 10,000 manifests that is 20 MB more for the garbage collector to copy and promote.
 */
function own(s: string): string {
  // Under 13 characters V8 copies anyway. Else `${s} ` is a join of two strings, which slicing
  // first flattens into a new string: the slice refers to that copy, not to the manifest.
  return s.length < 13 ? s : `${s} `.slice(0, -1);
}

/** Recipients, one string each per run: most manifests of a repo name the same ones. */
const recipients = new Map<string, string>();
function recipient(s: string): string {
  let r = recipients.get(s);
  if (r === undefined) {
    r = own(s);
    recipients.set(r, r);
  }
  return r;
}

function recipientsOf(sops: Record<string, unknown>): string[] {
  const out: string[] = [];
  const list = (field: string, prop: string, prefix: string) => {
    const entries = sops[field];
    if (!Array.isArray(entries)) return;
    for (const e of entries) {
      const v = (e as Record<string, unknown>)?.[prop];
      if (typeof v === 'string') out.push(recipient(`${prefix}:${v}`));
    }
  };
  list('age', 'recipient', 'age');
  list('pgp', 'fp', 'pgp');
  list('kms', 'arn', 'kms');
  list('gcp_kms', 'resource_id', 'gcpKms');
  list('hc_vault', 'vault_address', 'hcVaultTransit');
  return out.sort();
}

/** Thrown inside readYamlSubset when the text leaves the subset it reads. */
class OutsideSubset extends Error {}

const KEY_RE = /^([A-Za-z0-9_][-A-Za-z0-9_./]*):(?: +(.*))?$/;
/** Plain scalars the YAML 1.2 core schema reads as null, booleans or numbers (as `yaml` does). */
const NON_STRING_RE = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
];
const PLAIN_START_RE = /^[-?:,[\]{}#&*!|>'"%@`]/;
/** NON_STRING_RE as one expression: one regex run per key and scalar instead of eight. */
const NON_STRING_ONE = new RegExp(NON_STRING_RE.map((re) => `(?:${re.source})`).join('|'));
/** First characters of what NON_STRING_RE matches: `~ n N t T f F . + -` and digits. */
const NON_STRING_START = new Set([...'~nNtTfF.+-0123456789'].map((c) => c.charCodeAt(0)));

/** A plain scalar the core schema reads as something other than a string. */
function nonString(s: string): boolean {
  return s === '' || (NON_STRING_START.has(s.charCodeAt(0)) && NON_STRING_ONE.test(s));
}

/**
 * Reads the subset of YAML that sops (go-yaml) writes: block mappings and sequences indented
 * with spaces, keys of `[A-Za-z0-9_][-A-Za-z0-9_./]*`, single-line plain, single- and
 * double-quoted scalars that are strings, and literal block scalars (`|`, `|-`). Returns what
 * `parseDocument(text).toJS()` returns for such a text, or undefined for anything else (other
 * scalar types, flow collections, anchors, tags, comments, tabs, multi-line scalars, duplicate
 * keys...), which the caller then reads with the `yaml` package.
 */
export function readYamlSubset(text: string): unknown {
  if (!text.endsWith('\n') || text.includes('\t') || text.includes('\r')) return undefined;
  // A line that ends in a space (the text's last line ends at its final newline).
  if (text.includes(' \n')) return undefined;
  const lines = text.slice(0, -1).split('\n');
  try {
    const i = skipBlankLines(lines, 0);
    if (i >= lines.length || indentOf(lines[i]!) !== 0) return undefined;
    const doc = subsetMapping(lines, i, 0, undefined);
    return lineAt === lines.length ? doc : undefined;
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}

/*
 * The reader's parts. Each takes the index of the line to start at and leaves the index of the
 * line after what it read in `lineAt`: the index lives in locals (registers), not in a closure's
 * context, since the reader runs cold, in V8's interpreter (1,000 manifests in a no-op sync,
 * 10,000 in `check`).
 */
let lineAt = 0;

function outside(): never {
  throw new OutsideSubset();
}

function indentOf(line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 32) n++;
  // Other leading whitespace is rare: count it the way trimStart does.
  return n < line.length && /\s/.test(line[n]!) ? line.length - line.trimStart().length : n;
}

function skipBlankLines(lines: string[], i: number): number {
  while (i < lines.length && lines[i] === '') i++;
  return i;
}

/** The value after `key: ` on the line before `i`; a literal block scalar reads on from `i`. */
function subsetScalar(lines: string[], i: number, raw: string, col: number): unknown {
  if (raw === '|' || raw === '|-') return subsetLiteral(lines, i, col, raw === '|');
  lineAt = i;
  if (raw.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'$/.exec(raw);
    return m ? m[1]!.replaceAll("''", "'") : outside();
  }
  if (raw.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(raw)) outside();
    try {
      return JSON.parse(raw) as string;
    } catch {
      return outside();
    }
  }
  if (PLAIN_START_RE.test(raw) || raw.includes(': ') || raw.includes(' #') || raw.endsWith(':'))
    outside();
  if (nonString(raw)) outside();
  return raw;
}

/** Content lines more indented than the key at `col`; clip (`|`) or strip (`|-`) chomping. */
function subsetLiteral(lines: string[], i: number, col: number, clip: boolean): string {
  const body: string[] = [];
  let indent = -1;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line === '') {
      if (indent < 0) outside();
      body.push('');
      i++;
      continue;
    }
    const n = indentOf(line);
    if (indent < 0) {
      if (n <= col) outside();
      indent = n;
    }
    if (n < indent) {
      if (n > col) outside();
      break;
    }
    body.push(line.slice(indent));
    i++;
  }
  lineAt = i;
  while (body.length > 0 && body[body.length - 1] === '') body.pop();
  if (body.length === 0) outside();
  return body.join('\n') + (clip ? '\n' : '');
}

/** The value of a key written alone on its line: a nested block, or null. */
function subsetBlock(lines: string[], i: number, col: number): unknown {
  i = skipBlankLines(lines, i);
  const n = i < lines.length ? indentOf(lines[i]!) : -1;
  if (n <= col) {
    if (n === col && lines[i]!.startsWith('-', col)) outside(); // a sequence not indented
    lineAt = i;
    return null;
  }
  return lines[i]!.startsWith('- ', n)
    ? subsetSequence(lines, i, n)
    : subsetMapping(lines, i, n, undefined);
}

function subsetMapping(
  lines: string[],
  i: number,
  col: number,
  first: string | undefined,
): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  let entry = first;
  for (;;) {
    if (entry === undefined) {
      i = skipBlankLines(lines, i);
      const n = i < lines.length ? indentOf(lines[i]!) : -1;
      if (n < col) break;
      if (n > col) outside();
      entry = lines[i++]!.slice(col);
    }
    const m = KEY_RE.exec(entry) ?? outside();
    const key = m[1]!;
    if (key === '__proto__' || Object.hasOwn(map, key) || nonString(key)) outside();
    map[key] = m[2] === undefined ? subsetBlock(lines, i, col) : subsetScalar(lines, i, m[2], col);
    i = lineAt;
    entry = undefined;
  }
  lineAt = i;
  return map;
}

function subsetSequence(lines: string[], i: number, col: number): unknown[] {
  const list: unknown[] = [];
  for (;;) {
    i = skipBlankLines(lines, i);
    const n = i < lines.length ? indentOf(lines[i]!) : -1;
    if (n < col) break;
    if (n > col) outside();
    const line = lines[i++]!;
    if (!line.startsWith('- ', col)) outside();
    const item = line.slice(col + 2);
    if (item === '' || item.startsWith(' ') || item.startsWith('- ')) outside();
    if (item === '|' || item === '|-') outside();
    list.push(
      KEY_RE.test(item)
        ? subsetMapping(lines, i, col + 2, item)
        : subsetScalar(lines, i, item, col),
    );
    i = lineAt;
  }
  lineAt = i;
  return list;
}
