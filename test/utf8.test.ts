import test from 'ava';
import fc from 'fast-check';
import { decodeUtf8, firstInvalidUtf8 } from '../src/config/utf8.js';

const fatal = new TextDecoder('utf-8', { fatal: true });
const valid = (bytes: Uint8Array) => {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

test('firstInvalidUtf8 agrees with TextDecoder: -1 exactly for valid text, else a valid prefix', (t) => {
  // Bytes near the edges of UTF-8's ranges, mixed with ASCII and real characters.
  const byte = fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(
      0x80,
      0xbf,
      0xc0,
      0xc1,
      0xc2,
      0xdf,
      0xe0,
      0xed,
      0xef,
      0xf0,
      0xf4,
      0xf5,
      0x9f,
      0xa0,
      0x8f,
      0x90,
      0x0a,
    ),
  );
  fc.assert(
    fc.property(
      fc.array(fc.oneof(byte, fc.constantFrom(...Buffer.from('é€😀\n', 'utf8'))), {
        maxLength: 24,
      }),
      (list) => {
        const bytes = Uint8Array.from(list);
        const at = firstInvalidUtf8(bytes);
        if (at < 0) return valid(bytes);
        return (
          !valid(bytes) &&
          valid(bytes.subarray(0, at)) &&
          !valid(bytes.subarray(0, at + 4).subarray(at))
        );
      },
    ),
    { numRuns: 20_000 },
  );
  t.pass();
});

test('decodeUtf8: line and column of the first bad byte; a BOM is dropped and not a column', (t) => {
  t.deepEqual(decodeUtf8(Buffer.from('\ufeffa: é\n', 'utf8')), { text: 'a: é\n' });
  const bad = decodeUtf8(
    Buffer.concat([Buffer.from('\ufeffab\ncdé', 'utf8'), Buffer.from([0xe9, 0x0a])]),
  );
  t.deepEqual(bad, { text: undefined, line: 2, column: 4, offset: 10 });
  const first = decodeUtf8(Buffer.concat([Buffer.from('\ufeff'), Buffer.from([0xff])]));
  t.like(first, { line: 1, column: 1, offset: 3 });
  const overlong = decodeUtf8(Buffer.from([0x61, 0xc0, 0xaf]));
  t.like(overlong, { line: 1, column: 2, offset: 1 });
  const surrogate = decodeUtf8(Buffer.from([0x0a, 0xed, 0xa0, 0x80]));
  t.like(surrogate, { line: 2, column: 1, offset: 1 });
});
