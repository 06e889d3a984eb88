import { goRegExp, NOT_RE2 } from '../model/encryption-selectors.js';
import type { Report } from './report.js';
import type { RawConfig, RawSops } from './schema.js';
import { DEFAULT_ENCRYPTED_REGEX, type EnvironmentSpec, type SopsSettings } from './types.js';

/** The environments, each with its sops settings (its own merged over the top-level ones). */
export function environmentSpecs(
  raw: RawConfig,
  topLevel: SopsSettings,
  fail: Report,
): EnvironmentSpec[] {
  const names = new Set<string>();
  return (raw.environments ?? []).map((env, i) => {
    const name = typeof env === 'string' ? env : env.name;
    if (names.has(name)) fail(['environments', i], `duplicate environment "${name}"`);
    names.add(name);
    const own = typeof env === 'string' ? undefined : env.sops;
    const sops = own
      ? sopsSettings({ ...raw.sops, ...own }, ['environments', i, 'sops'], fail)
      : topLevel;
    return { name, sops };
  });
}

/** sops settings as the sops command line takes them; bad regexes and recipients reported. */
export function sopsSettings(
  raw: RawSops | undefined,
  path: (string | number)[],
  fail: Report,
): SopsSettings {
  const encryptedRegex = raw?.encryptedRegex ?? DEFAULT_ENCRYPTED_REGEX;
  const regexProblem = encryptedRegexProblem(encryptedRegex);
  if (regexProblem) fail([...path, 'encryptedRegex'], regexProblem);
  (raw?.age ?? []).forEach((r, i) => {
    if (!/^age1[0-9a-z]{20,}$/.test(r) && !r.startsWith('ssh-')) {
      fail([...path, 'age', i], 'is not an age recipient (age1...) or an ssh public key');
    }
  });
  const s = {
    age: raw?.age ?? [],
    pgp: raw?.pgp ?? [],
    kms: raw?.kms ?? [],
    gcpKms: raw?.gcpKms ?? [],
    azureKv: raw?.azureKv ?? [],
    hcVaultTransit: raw?.hcVaultTransit ?? [],
    encryptedRegex,
    ownEncryptedRegex: raw?.encryptedRegex !== undefined,
  };
  const hasRecipients = [s.age, s.pgp, s.kms, s.gcpKms, s.azureKv, s.hcVaultTransit].some(
    (l) => l.length > 0,
  );
  return { ...s, hasRecipients };
}

function encryptedRegexProblem(source: string): string | undefined {
  try {
    goRegExp(source);
  } catch {
    return 'is not a valid regular expression';
  }
  // sops uses Go's RE2: no lookaround, no backreferences.
  if (NOT_RE2.test(source))
    return 'uses lookaround or a backreference, which sops (Go RE2 syntax) does not support';
  return undefined;
}
