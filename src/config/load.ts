import { readFile, stat } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { MAX_CONFIG_BYTES, parseFast } from './fast.js';
import type { Config } from './types.js';

export { MAX_CONFIG_BYTES } from './fast.js';

/**
 * Reads and validates a config file; throws ConfigError (exit 2) with every problem found.
 * `onText` gets the text as soon as it is read, before it is parsed.
 */
export async function loadConfig(
  path: string,
  displayName = path,
  onText?: (text: string) => void,
): Promise<Config> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`config ${displayName} is not a file`);
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError([
        {
          file: displayName,
          line: 1,
          column: 1,
          path: '',
          message: `file is larger than ${MAX_CONFIG_BYTES} bytes`,
        },
      ]);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) throw err;
    throw new UsageError(
      `cannot read config ${displayName}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      'pass --config PATH, or run `gitops-secrets init` to write a starter config',
    );
  }
  onText?.(text);
  // A valid config needs neither zod nor the yaml package's positions: they load only when a
  // config has a problem to report.
  const fast = parseFast(text, displayName);
  if (fast) return fast;
  const { parseConfig } = await import('./parse.js');
  const result = parseConfig(text, displayName, { fast: false });
  if (!result.config) throw new ConfigError(result.problems);
  return result.config;
}
