import { z } from 'zod';

/**
 * The symbols a random string may draw when its rules ask for symbols and name none: the
 * punctuation that needs no escaping in a URL (RFC 3986 unreserved), a YAML or JSON string, or a
 * POSIX shell word. `~` is unreserved too but left out: a shell expands it at the start of a word.
 */
export const DEFAULT_SYMBOLS = '-._';

/** Printable ASCII punctuation (no letter, digit, space or control character). */
const SYMBOLS_RE = /^[!-/:-@[-`{-~]+$/;

const count = (what: string) =>
  z
    .int({ message: 'must be a whole number from 0 to 4096' })
    .min(0, { message: 'must be a whole number from 0 to 4096' })
    .max(4096, { message: 'must be a whole number from 0 to 4096' })
    .optional()
    .describe(`At least this many ${what} (default 0).`);

/** Password rules of a random string (`rules:` of a key, a shared value or `defaults:`). */
export const passwordRulesSchema = z
  .strictObject({
    minLower: count('lower-case letters a-z'),
    minUpper: count('upper-case letters A-Z'),
    minDigits: count('digits 0-9'),
    minSymbols: count('symbols (characters that are not an ASCII letter or digit)'),
    symbols: z
      .string()
      .regex(SYMBOLS_RE, {
        message: 'must list ASCII punctuation only (no letter, digit or space), e.g. "-._!#%+="',
      })
      .optional()
      .describe(
        `Symbols added to the alphabet (default ${DEFAULT_SYMBOLS}, added only when minSymbols > 0).`,
      ),
    exclude: z
      .string()
      .min(1)
      .optional()
      .describe('Characters removed from the alphabet, e.g. the ambiguous 0O1lI.'),
    maxRepeat: z
      .int({ message: 'must be a whole number from 1 to 4096' })
      .min(1, { message: 'must be a whole number from 1 to 4096' })
      .max(4096, { message: 'must be a whole number from 1 to 4096' })
      .optional()
      .describe('No character more than this many times in a row.'),
  })
  .describe('Password rules for a random string; drawn without bias (see docs/config.md).');

export type RawPasswordRules = z.infer<typeof passwordRulesSchema>;
