/** A field of the config, as keys and list indexes: `['secrets', 0, 'keys', 'pw']`. */
export type FieldPath = readonly (string | number)[];

/**
 * Reports a problem at a field. With `key`, the position is that of the field's key (an unknown
 * or misnamed key) rather than its value.
 */
export type Report = (path: FieldPath, message: string, options?: { key?: boolean }) => void;

/** Formats a field path the way users write it: `secrets[0].keys.session_secret`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}
