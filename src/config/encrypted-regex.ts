import {
  encryptionProblem,
  goRegExp,
  NOT_RE2,
  secretDataKeys,
} from '../model/encryption-selectors.js';
import type { FieldPath, Report } from './report.js';
import type { RawConfig } from './schema.js';
import type { EnvironmentSpec, SecretSpec, SharedSpec } from './types.js';

/**
 * An `encryptedRegex` the config sets (top level, or an environment's own) that would leave a
 * value under `data` or `stringData` of a Secret it applies to in plaintext, or encrypt the
 * metadata the tool reads, is a problem at that `encryptedRegex`. sops matches it against every
 * key on a value's path (src/model/encryption-selectors.ts). A regex that does not compile was
 * reported already.
 */
export function checkEncryptedRegexes(
  raw: RawConfig,
  environments: EnvironmentSpec[],
  secrets: SecretSpec[],
  shared: Map<string, SharedSpec>,
  fail: Report,
): void {
  const own = (raw.environments ?? []).map((e) =>
    typeof e === 'string' ? undefined : e.sops?.encryptedRegex,
  );
  const top = raw.sops?.encryptedRegex;
  if (top === undefined && own.every((r) => r === undefined)) return; // the default is safe

  // Where the regex of each Secret instance is written, with the data keys it must encrypt.
  const places = new Map<string, { path: FieldPath; regex: string; keys: Set<string> }>();
  const place = (env: string | undefined): { path: FieldPath; regex: string } | undefined => {
    const i = env === undefined ? -1 : environments.findIndex((e) => e.name === env);
    const mine = i >= 0 ? own[i] : undefined;
    if (mine !== undefined)
      return { path: ['environments', i, 'sops', 'encryptedRegex'], regex: mine };
    return top === undefined ? undefined : { path: ['sops', 'encryptedRegex'], regex: top };
  };
  for (const secret of secrets) {
    let keys: string[] | undefined;
    for (const env of secret.environments) {
      const p = place(env);
      if (!p) continue;
      const id = p.path.join('.');
      let entry = places.get(id);
      if (!entry) {
        entry = { ...p, keys: new Set() };
        places.set(id, entry);
      }
      keys ??= secretDataKeys(secret, shared);
      for (const k of keys) entry.keys.add(k);
    }
  }
  for (const { path, regex, keys } of places.values()) {
    if (!compiles(regex)) continue;
    const problem = encryptionProblem({ encrypted_regex: regex }, keys);
    if (problem) fail(path, problem);
  }
}

function compiles(source: string): boolean {
  if (NOT_RE2.test(source)) return false;
  try {
    goRegExp(source);
    return true;
  } catch {
    return false;
  }
}
