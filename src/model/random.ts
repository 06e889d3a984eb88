import { randomBytes, randomUUID } from 'node:crypto';
import type { OwnSource } from '../config/types.js';
import { generateSshKey } from './derive.js';
import { randomPassword } from './password.js';

/** The source of randomness; `node:crypto` in production, injectable for exact tests. */
export interface RandomSource {
  bytes(n: number): Buffer;
  uuid(): string;
}

export const cryptoRandom: RandomSource = {
  bytes: (n) => randomBytes(n),
  uuid: () => randomUUID(),
};

/**
 * Draws `length` characters uniformly from `alphabet` by rejection sampling: a byte is used
 * only below the largest multiple of the alphabet size, so no character is favoured.
 */
export function randomString(length: number, alphabet: string, random: RandomSource): string {
  const chars = Array.from(alphabet);
  const n = chars.length;
  if (n < 2 || n > 256) throw new RangeError('alphabet must have 2 to 256 characters');
  const limit = 256 - (256 % n);
  let out = '';
  let produced = 0;
  while (produced < length) {
    // Ask for a little more than needed: most bytes are accepted.
    const buf = random.bytes(Math.ceil(((length - produced) * 256) / limit) + 8);
    for (let i = 0; i < buf.length && produced < length; i++) {
      const b = buf[i]!;
      if (b < limit) {
        out += chars[b % n];
        produced++;
      }
    }
  }
  return out;
}

/** A new value for a key whose source the tool generates. */
export function generateValue(source: OwnSource, random: RandomSource): string {
  switch (source.kind) {
    case 'random':
      return source.rules
        ? randomPassword(source.length, source.alphabet, source.rules, random)
        : randomString(source.length, source.alphabet, random);
    case 'bytes': {
      const buf = random.bytes(source.bytes);
      return source.encoding === 'hex' ? buf.toString('hex') : buf.toString(source.encoding);
    }
    case 'uuid':
      return random.uuid();
    case 'ssh':
      return generateSshKey(source);
    case 'provided':
      throw new Error('provided values are never generated');
  }
}
