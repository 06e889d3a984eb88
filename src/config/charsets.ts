import type { Charset } from './schema.js';

const lower = 'abcdefghijklmnopqrstuvwxyz';
const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const digits = '0123456789';

/** Printable ASCII without space (0x21..0x7e), so values survive shells and YAML. */
const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) =>
  String.fromCharCode(0x21 + i),
).join('');

export const ALPHABETS: Record<Charset, string> = {
  alphanumeric: upper + lower + digits,
  alpha: upper + lower,
  lower,
  upper,
  numeric: digits,
  hex: `${digits}abcdef`,
  base64url: `${upper + lower + digits}-_`,
  printable,
};
