import type { RawConfig } from './schema.js';
import {
  CHARSETS,
  DNS1123_LABEL_RE,
  DNS1123_SUBDOMAIN_RE,
  DURATION_RE,
  ENCODINGS,
} from './vocabulary.js';

/**
 * True only when `data` certainly passes `configSchema` as it is: every field known, of its
 * type and within its bounds. zod's output for such a value is the value itself (the schema has
 * no defaults and no transforms), so the fast path can skip zod, which costs about 80 ms on a
 * config with 1,000 secrets (cold code, a few µs per object). It errs only one way: anything
 * unusual is false, and zod then decides, with its messages. test/config-fuzz checks it against
 * zod.
 */
export function surelyValid(data: unknown): data is RawConfig {
  if (!plain(data) || !only(data, TOP) || data.version !== 1 || !Array.isArray(data.secrets))
    return false;
  if (!opt(data.$schema, isString) || !opt(data.output, nonEmpty)) return false;
  if (!opt(data.sops, sops) || !opt(data.pullRequest, pullRequest)) return false;
  if (!opt(data.defaults, defaults) || !opt(data.environments, environments)) return false;
  if (data.shared !== undefined && !record(data.shared, shared)) return false;
  for (const s of data.secrets) if (!secret(s)) return false;
  return true;
}

type Plain = Record<string, unknown>;

const TOP = new Set([
  '$schema',
  'version',
  'output',
  'sops',
  'pullRequest',
  'defaults',
  'environments',
  'shared',
  'secrets',
]);
const SOPS = new Set([
  'age',
  'pgp',
  'kms',
  'gcpKms',
  'azureKv',
  'hcVaultTransit',
  'encryptedRegex',
]);
const RECIPIENTS = ['age', 'pgp', 'kms', 'gcpKms', 'azureKv', 'hcVaultTransit'];
const PULL_REQUEST = new Set(['labels', 'reviewers', 'teamReviewers']);
const DEFAULTS = new Set(['length', 'charset']);
const ENVIRONMENT = new Set(['name', 'sops']);
const SECRET = new Set([
  'name',
  'namespace',
  'type',
  'restart',
  'rollout',
  'labels',
  'annotations',
  'environments',
  'keys',
]);
const CHARSET_SET = new Set<unknown>(CHARSETS);
const ENCODING_SET = new Set<unknown>(ENCODINGS);

/** A mapping as a YAML parser makes it: a plain object, no prototype tricks. */
function plain(v: unknown): v is Plain {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  return Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * No field but these (strictObject); `__proto__` never (zod drops it from a record). The data
 * is what a YAML reader returned (js-yaml or readConfigSubset): plain objects, whose keys are
 * strings, none inherited; no symbol keys to look for.
 */
function only(o: Plain, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

/** `.optional()`: absent, or valid (null is not absent). */
function opt(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1;
}

/** `z.int().min(1).max(4096)`. */
function count(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 4096;
}

function list(v: unknown, item: (v: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (!item(x)) return false;
  return true;
}

function record(v: unknown, value: (v: unknown) => boolean): boolean {
  if (!plain(v)) return false;
  for (const k in v) if (k === '__proto__' || !value(v[k])) return false;
  return true;
}

function sops(v: unknown): boolean {
  if (!plain(v) || !only(v, SOPS)) return false;
  for (const f of RECIPIENTS) if (!opt(v[f], (x) => list(x, nonEmpty))) return false;
  return opt(v.encryptedRegex, nonEmpty);
}

function pullRequest(v: unknown): boolean {
  if (!plain(v) || !only(v, PULL_REQUEST)) return false;
  for (const f of PULL_REQUEST) if (!opt(v[f], (x) => list(x, nonEmpty))) return false;
  return true;
}

function defaults(v: unknown): boolean {
  return plain(v) && only(v, DEFAULTS) && opt(v.length, count) && opt(v.charset, charsetName);
}

function charsetName(v: unknown): boolean {
  return CHARSET_SET.has(v);
}

function label(v: unknown): boolean {
  return typeof v === 'string' && DNS1123_LABEL_RE.test(v);
}

function environments(v: unknown): boolean {
  return list(
    v,
    (e) => label(e) || (plain(e) && only(e, ENVIRONMENT) && label(e.name) && opt(e.sops, sops)),
  );
}

/**
 * A key or a shared value (`sourceFields`, and `from` for a key): each field it has, checked by
 * its name. One pass over the few fields a key has, with no function made per field: this runs
 * for every key of the config, cold.
 */
function sourceFields(v: unknown, from: boolean): boolean {
  if (!plain(v)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'length':
      case 'bytes':
      case 'minLength':
        if (!count(x)) return false;
        break;
      case 'charset':
        if (!CHARSET_SET.has(x)) return false;
        break;
      // zod counts code points (an emoji is one character, two UTF-16 units).
      case 'chars':
        if (typeof x !== 'string' || [...x].length < 2) return false;
        break;
      case 'encoding':
        if (!ENCODING_SET.has(x)) return false;
        break;
      case 'uuid':
      case 'provided':
        if (x !== true) return false;
        break;
      case 'description':
      case 'pattern':
        if (!nonEmpty(x)) return false;
        break;
      case 'rotateEvery':
        if (typeof x !== 'string' || !DURATION_RE.test(x)) return false;
        break;
      case 'keepPrevious':
        if (typeof x !== 'boolean') return false;
        break;
      case 'from':
        if (!from || !nonEmpty(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function shared(v: unknown): boolean {
  return sourceFields(v, false);
}

/** `keySchema.nullable()`. */
function key(v: unknown): boolean {
  return v === null || sourceFields(v, true);
}

function stringMap(v: unknown): boolean {
  return record(v, isString);
}

function secret(v: unknown): boolean {
  if (!plain(v) || !only(v, SECRET)) return false;
  const { name, namespace } = v;
  if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN_RE.test(name))
    return false;
  if (typeof namespace !== 'string' || namespace.length > 63 || !DNS1123_LABEL_RE.test(namespace))
    return false;
  return (
    opt(v.type, nonEmpty) &&
    opt(v.restart, nonEmpty) &&
    opt(v.rollout, (x) => list(x, nonEmpty)) &&
    opt(v.labels, stringMap) &&
    opt(v.annotations, stringMap) &&
    opt(v.environments, (x) => list(x, isString)) &&
    record(v.keys, key)
  );
}
