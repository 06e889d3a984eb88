import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { MAX_CONFIG_BYTES, parseConfig } from './parse.js';
import { refuseOutsideRepo } from './repo-file.js';
import type { Config } from './types.js';
import { decodeUtf8, notUtf8Message } from './utf8.js';

export { MAX_CONFIG_BYTES } from './parse.js';

/** Valid configs kept between runs, by a hash of their name and text (src/ports/memo.ts). */
export interface ConfigMemo {
  get(key: string): Config | undefined;
  set(key: string, config: Config): void;
}

/**
 * Reads and validates a config file; throws ConfigError (exit 2) with every problem found.
 * `onText` gets the text as soon as it is read, before it is parsed. With `root` (the
 * repository), a config that resolves to a file outside it (a symlink) is refused (exit 2).
 * With `memo`, a text validated before is not parsed again.
 */
export async function loadConfig(
  path: string,
  displayName = path,
  onText?: (text: string) => void,
  root?: string,
  memo?: ConfigMemo,
): Promise<Config> {
  let bytes: Buffer;
  try {
    const [info] = await Promise.all([
      stat(path),
      root === undefined ? undefined : refuseOutsideRepo(root, path, displayName, 'config'),
    ]);
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
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) throw err;
    throw new UsageError(
      `cannot read config ${displayName}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      'pass --config PATH, or run `gitops-secrets init` to write a starter config',
    );
  }
  const decoded = decodeUtf8(bytes);
  if (decoded.text === undefined) {
    const { line, column } = decoded;
    throw new ConfigError([
      { file: displayName, line, column, path: '', message: notUtf8Message(decoded) },
    ]);
  }
  const text = decoded.text;
  onText?.(text);
  const key = memo && createHash('sha256').update(`${displayName}\0${text}`).digest('hex');
  const known = key ? memo?.get(key) : undefined;
  if (known) return known;
  const result = parseConfig(text, displayName);
  if (!result.config) throw new ConfigError(result.problems);
  if (key) memo?.set(key, result.config);
  return result.config;
}
