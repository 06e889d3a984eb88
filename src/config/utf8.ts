// Files the tool reads as text (the config, .sops.yaml) must be UTF-8: anything else is
// reported where its first bad byte is, rather than decoded into replacement characters that
// the YAML parser then reports as something else (or, in a comment, silently accepts).

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Where the first ill-formed UTF-8 sequence of `bytes` starts, or -1 when there is none. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The continuation bytes a lead byte takes, and the range its first one must be in (which
    // refuses overlong forms, surrogates and code points above U+10FFFF).
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** The text of `bytes` (a leading BOM dropped), or where it is not valid UTF-8 (1-based). */
export function decodeUtf8(
  bytes: Uint8Array,
): { text: string } | { text: undefined; line: number; column: number; offset: number } {
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    if (offset < 0) throw new Error('TextDecoder refused text that is valid UTF-8');
    const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
    let line = 1;
    for (let k = 0; k < lineStart; k++) if (bytes[k] === 0x0a) line++;
    // Columns count UTF-16 code units, as the positions of other config problems do; a BOM
    // at the start of the file is not a column.
    let before = new TextDecoder('utf-8', { ignoreBOM: true }).decode(
      bytes.subarray(lineStart, offset),
    );
    if (lineStart === 0 && before.startsWith('\ufeff')) before = before.slice(1);
    return { text: undefined, line, column: before.length + 1, offset };
  }
}

/** The message for a file that is not UTF-8, e.g. `not valid UTF-8 at 3:14 (byte 52)`. */
export function notUtf8Message(where: { line: number; column: number; offset: number }): string {
  return `not valid UTF-8 at ${where.line}:${where.column} (byte offset ${where.offset}); save the file as UTF-8`;
}
