/**
 * Which values sops encrypts, decided as sops decides it (sops.go, `Tree.shouldBeEncrypted`),
 * so that settings that would leave a Secret's values in plaintext are refused before anything
 * runs. sops matches each selector against every key on the path to a value: `data`, then the
 * value's key. The Secrets the tool renders carry no comments.
 */
import type { SecretSpec, SharedSpec } from '../config/types.js';
import { STATE_ANNOTATION } from './state.js';

/** The encryption selectors of sops: a `.sops.yaml` creation rule's fields, or the flags. */
export interface Selectors {
  encrypted_regex?: string;
  unencrypted_regex?: string;
  encrypted_suffix?: string;
  unencrypted_suffix?: string;
  encrypted_comment_regex?: string;
  unencrypted_comment_regex?: string;
}

export const SELECTOR_FIELDS = [
  'encrypted_regex',
  'unencrypted_regex',
  'encrypted_suffix',
  'unencrypted_suffix',
  'encrypted_comment_regex',
  'unencrypted_comment_regex',
] as const satisfies readonly (keyof Selectors)[];

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Lookaround and backreferences: JavaScript has them, Go's RE2 refuses them. */
export const NOT_RE2 = /\(\?<?[=!]|\\[1-9]/;

/**
 * A Go (RE2) regular expression as a JavaScript one: leading flags (`(?i)`, `(?s)`, `(?m)`),
 * `\A`, `\z` and ASCII classes (`[[:alpha:]]`). Throws when JavaScript cannot compile it.
 */
export function goRegExp(source: string): RegExp {
  let flags = '';
  let body = source;
  const lead = /^\(\?([ims]+)\)/.exec(body);
  if (lead?.[1]) {
    flags = [...new Set(lead[1])].join('');
    body = body.slice(lead[0].length);
  }
  body = body
    .replace(/\[:(\^?)([a-z]+):\]/g, (all, neg: string, name: string) => {
      const set = POSIX_CLASSES[name];
      if (!set) return all;
      if (neg) throw new SyntaxError('negated ASCII classes are not supported here');
      return set;
    })
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, '$1$2^')
    .replace(/(^|[^\\])((?:\\\\)*)\\z/g, '$1$2$(?![\\s\\S])');
  return new RegExp(body, flags);
}

const compiled = new Map<string, RegExp>();
function re(source: string): RegExp {
  let r = compiled.get(source);
  if (!r) {
    if (NOT_RE2.test(source)) throw new SyntaxError('lookaround and backreferences are not RE2');
    r = goRegExp(source);
    compiled.set(source, r);
  }
  return r;
}

/** A selector sops counts as set: a non-empty string (sops reads an empty one as unset). */
export function selectorValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * sops's decision for a value at `path` (`Tree.shouldBeEncrypted`, no comments around it): each
 * selector in sops's order, the later ones overriding. Throws on a regex that does not compile.
 */
export function shouldBeEncrypted(s: Selectors, path: readonly string[]): boolean {
  let encrypted = true;
  if (s.unencrypted_suffix) {
    const suffix = s.unencrypted_suffix;
    if (path.some((k) => k.endsWith(suffix))) encrypted = false;
  }
  if (s.encrypted_suffix) {
    const suffix = s.encrypted_suffix;
    encrypted = path.some((k) => k.endsWith(suffix));
  }
  if (s.unencrypted_regex) {
    const r = re(s.unencrypted_regex);
    if (path.some((k) => r.test(k))) encrypted = false;
  }
  if (s.encrypted_regex) {
    const r = re(s.encrypted_regex);
    encrypted = path.some((k) => r.test(k));
  }
  // unencrypted_comment_regex: no comment, no effect. encrypted_comment_regex: only a value
  // below a matching comment is encrypted, and there is none.
  if (s.encrypted_comment_regex) {
    re(s.encrypted_comment_regex);
    encrypted = false;
  }
  if (s.unencrypted_comment_regex) re(s.unencrypted_comment_regex);
  return encrypted;
}

/** Metadata the tool reads without a key: it must stay plaintext. */
const READABLE: readonly (readonly string[])[] = [
  ['metadata', 'annotations', STATE_ANNOTATION],
  ['metadata', 'name'],
  ['kind'],
];

/**
 * Why these selectors are unsafe for a Secret with these data keys (a value under `data` or
 * `stringData` left plaintext, or the tool's own metadata encrypted), or undefined.
 */
export function encryptionProblem(s: Selectors, keys: Iterable<string>): string | undefined {
  try {
    if (s.encrypted_comment_regex)
      return 'encrypts only values below a comment that matches it, and the Secrets gitops-secrets writes have no comments: every data value would be plaintext';
    const parents = ['data', 'stringData'];
    // An encrypted_regex that matches both parents encrypts every value below them.
    const everyValue =
      Object.keys(s).length === 1 &&
      s.encrypted_regex !== undefined &&
      parents.every((p) => shouldBeEncrypted(s, [p]));
    if (!everyValue)
      for (const parent of parents)
        for (const key of keys)
          if (!shouldBeEncrypted(s, [parent, key]))
            return `would leave ${parent}.${key} unencrypted: sops must encrypt every value under data and stringData (match "data" and "stringData", e.g. ^(data|stringData)$)`;
    for (const path of READABLE)
      if (shouldBeEncrypted(s, path))
        return `would encrypt ${path.join('.')}, which gitops-secrets reads without a key: leave metadata, kind and type plaintext (e.g. ^(data|stringData)$)`;
  } catch {
    return 'is not a valid regular expression (sops uses Go RE2 syntax: no lookaround, no backreferences)';
  }
  return undefined;
}

/** The data keys a Secret holds: its keys, and `_PREVIOUS` of those that keep the last value. */
export function secretDataKeys(secret: SecretSpec, shared: Map<string, SharedSpec>): string[] {
  const keys: string[] = [];
  for (const k of secret.keys) {
    keys.push(k.name);
    const keeps =
      k.keepPrevious || (k.source.kind === 'shared' && shared.get(k.source.from)?.keepPrevious);
    if (keeps) keys.push(`${k.name}_PREVIOUS`);
  }
  return keys;
}
