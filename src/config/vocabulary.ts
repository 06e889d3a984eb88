// The config's vocabulary without zod: what the fast path (sure.ts, rules.ts) checks against.
// A CLI run loads zod (schema.ts) only when a config has a problem.

/** The charsets a random string can be drawn from. */
export const CHARSETS = [
  'alphanumeric',
  'alpha',
  'lower',
  'upper',
  'numeric',
  'hex',
  'base64url',
  'printable',
] as const;
export type Charset = (typeof CHARSETS)[number];

export const ENCODINGS = ['base64', 'base64url', 'hex'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const DURATION_RE = /^[1-9][0-9]{0,5}[hdw]$/;
export const KEY_NAME_RE = /^[-._a-zA-Z0-9]+$/;
export const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN_RE =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The fields a key (or a shared value) can carry, in order; schema.ts checks it has them all. */
export const SOURCE_FIELDS = [
  'length',
  'charset',
  'chars',
  'bytes',
  'encoding',
  'uuid',
  'provided',
  'description',
  'pattern',
  'minLength',
  'rotateEvery',
  'keepPrevious',
] as const;
