/** Random bytes; random.ts's RandomSource (node:crypto) is one (not imported: no cycle). */
export interface ByteSource {
  bytes(n: number): Buffer;
}

/**
 * Password rules of a random string, resolved by the config rules (src/config/rules-password.ts):
 * the alphabet the key draws from already has the symbols added and the excluded characters
 * removed, and the config rules made sure the rules can be met, and often enough (below).
 */
export interface PasswordRules {
  minLower: number;
  minUpper: number;
  minDigits: number;
  minSymbols: number;
  /** No character more than this many times in a row; undefined: no limit. */
  maxRepeat: number | undefined;
  /** The rules in words, for people (`list`): config, never anything about a value. */
  summary: string;
}

/** The classes the minimums count, in the order of `classCounts`. */
export const CLASSES = ['lower', 'upper', 'digits', 'symbols'] as const;

/** 0 lower (a-z), 1 upper (A-Z), 2 digit (0-9), 3 symbol: any other character. */
export function classOf(c: string): 0 | 1 | 2 | 3 {
  if (c >= 'a' && c <= 'z') return 0;
  if (c >= 'A' && c <= 'Z') return 1;
  if (c >= '0' && c <= '9') return 2;
  return 3;
}

export function minimums(rules: PasswordRules): [number, number, number, number] {
  return [rules.minLower, rules.minUpper, rules.minDigits, rules.minSymbols];
}

/** Whether `chars` (one string, as characters) meets every rule. */
export function meetsRules(chars: readonly string[], rules: PasswordRules): boolean {
  const counts = [0, 0, 0, 0];
  let run = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    counts[classOf(c)]!++;
    run = i > 0 && chars[i - 1] === c ? run + 1 : 1;
    if (rules.maxRepeat !== undefined && run > rules.maxRepeat) return false;
  }
  const mins = minimums(rules);
  return counts.every((n, k) => n >= mins[k]!);
}

/**
 * The most whole strings drawn before giving up. The config refuses rules met by fewer than
 * 1 in MAX_EXPECTED_DRAWS strings (password-odds.ts), so with rules it accepts, running out is
 * an event of probability below e^-100: a bug, not bad luck.
 */
export const MAX_ATTEMPTS = 1_000_000;

/**
 * A random string of `length` characters from `alphabet` that meets `rules`, uniformly
 * distributed over all such strings (no valid string is likelier than another).
 *
 * How: draw a whole candidate and keep it only if it meets every rule, else draw a new one
 * (rejection sampling over whole strings). Conditioning a uniform draw on an event gives the
 * uniform distribution over that event, so the result carries the full entropy of the set of
 * valid strings. Each character is drawn without modulo bias (a byte at or above the largest
 * multiple of the alphabet size is skipped). With `maxRepeat: 1` the candidate is drawn
 * already free of repeats (each character uniform over the alphabet minus the one before),
 * which is uniform over repeat-free strings, so rejection only has the minimums left to check;
 * long strings stay cheap. The common alternative (place the required characters, fill, then
 * shuffle) is not uniform: it favours strings with more characters of the required classes.
 * The cost is drawing several candidates when the rules are tight, which is why the config
 * refuses rules that fewer than 1 in 10,000 candidates meet.
 */
export function randomPassword(
  length: number,
  alphabet: string,
  rules: PasswordRules,
  random: ByteSource,
): string {
  const chars = Array.from(alphabet);
  const n = chars.length;
  if (n < 2 || n > 256) throw new RangeError('alphabet must have 2 to 256 characters');
  const draw = indexDrawer(random, length);
  const candidate: string[] = new Array(length);
  const noRepeat = rules.maxRepeat === 1;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let prev = -1;
    for (let i = 0; i < length; i++) {
      let k: number;
      if (noRepeat && prev >= 0) {
        // Uniform over the n - 1 characters other than the previous one.
        k = draw(n - 1);
        if (k >= prev) k++;
      } else {
        k = draw(n);
      }
      candidate[i] = chars[k]!;
      prev = k;
    }
    if (meetsRules(candidate, rules)) return candidate.join('');
  }
  throw new Error(`no random string met the password rules in ${MAX_ATTEMPTS} draws`);
}

/** Uniform integers below n (2..256) from the source's bytes, by rejection; buffered. */
function indexDrawer(random: ByteSource, length: number): (n: number) => number {
  const size = Math.max(64, Math.min(length * 2, 4096));
  let buf = random.bytes(size);
  let pos = 0;
  return (n) => {
    const limit = 256 - (256 % n);
    for (;;) {
      if (pos === buf.length) {
        buf = random.bytes(size);
        pos = 0;
      }
      const b = buf[pos++]!;
      if (b < limit) return b % n;
    }
  };
}
