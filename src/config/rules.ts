import { goRegExp } from '../model/encryption-selectors.js';
import { relativePathProblem, renderPath, templateProblems } from '../model/paths.js';
import { ALPHABETS } from './charsets.js';
import { checkEncryptedRegexes } from './encrypted-regex.js';
import type { Report } from './parse.js';
import type { SalvageHints } from './salvage.js';
import type { RawConfig, RawKey, RawShared, RawSops } from './schema.js';
import {
  type Config,
  DEFAULT_ENCRYPTED_REGEX,
  DEFAULT_OUTPUT,
  type EnvironmentSpec,
  type KeySource,
  type KeySpec,
  type OwnSource,
  type Rotation,
  type SecretSpec,
  type SharedSpec,
  type SopsSettings,
} from './types.js';
import { KEY_NAME_RE, SOURCE_FIELDS } from './vocabulary.js';

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

export function parseRotation(text: string | undefined): Rotation | undefined {
  if (text === undefined) return undefined;
  const unit = text.slice(-1) as keyof typeof UNIT_MS;
  return { text, ms: Number(text.slice(0, -1)) * UNIT_MS[unit] };
}

/** The checks a schema cannot express. Reports every problem; returns the config if none. */
export function checkRules(
  raw: RawConfig,
  file: string,
  report: Report,
  hints?: SalvageHints,
): Config | undefined {
  let ok = true;
  const fail: Report = (path, message, options) => {
    ok = false;
    report(path, message, options);
  };

  const defaults = {
    length: raw.defaults?.length ?? 32,
    charset: raw.defaults?.charset ?? 'alphanumeric',
  };
  const sops = sopsSettings(raw.sops, ['sops'], fail);

  const environments: EnvironmentSpec[] = [];
  const envNames = new Set<string>();
  (raw.environments ?? []).forEach((env, i) => {
    const name = typeof env === 'string' ? env : env.name;
    if (envNames.has(name)) fail(['environments', i], `duplicate environment "${name}"`);
    envNames.add(name);
    const own = typeof env === 'string' ? undefined : env.sops;
    environments.push({
      name,
      sops: own ? sopsSettings({ ...raw.sops, ...own }, ['environments', i, 'sops'], fail) : sops,
    });
  });

  const output = raw.output ?? DEFAULT_OUTPUT;
  const outputProblems = templateProblems(output, environments.length > 0);
  for (const problem of outputProblems) fail(['output'], problem);

  const shared = new Map<string, SharedSpec>();
  for (const [name, entry] of Object.entries(raw.shared ?? {})) {
    const path = ['shared', name];
    if (!KEY_NAME_RE.test(name)) {
      fail(path, 'shared value names may use letters, digits, "-", "_" and "."', { key: true });
    }
    const source = ownSource(entry, path, defaults, fail);
    if (source)
      shared.set(name, {
        name,
        source,
        rotateEvery: parseRotation(entry.rotateEvery),
        keepPrevious: entry.keepPrevious ?? false,
        description: entry.description,
      });
  }

  const usedShared = new Set<string>();
  const secrets: SecretSpec[] = [];
  const seenSecrets = new Map<string, number>();
  const seenPaths = new Map<string, string>();
  raw.secrets.forEach((secret, kept) => {
    const i = hints?.secretIndex[kept] ?? kept;
    const path = ['secrets', i];
    const id = `${secret.namespace}/${secret.name}`;
    const first = seenSecrets.get(id);
    if (first !== undefined)
      fail([...path, 'name'], `duplicate secret ${id} (also secrets[${first}])`);
    else seenSecrets.set(id, i);

    const keys: KeySpec[] = [];
    // The keys are read with for-in (own properties of a plain object): no array per entry.
    let declared = false;
    for (const name in secret.keys) {
      declared = true;
      const keyPath = ['secrets', i, 'keys', name];
      const key = secret.keys[name] ?? {};
      // keepPrevious on the shared entry a key takes its value from applies to that key too.
      const sharedKeeps =
        key.from !== undefined &&
        raw.shared !== undefined &&
        Object.hasOwn(raw.shared, key.from) &&
        raw.shared[key.from]?.keepPrevious === true;
      const nameProblem = keyNameProblem(name, key.keepPrevious === true || sharedKeeps);
      if (nameProblem) fail(keyPath, nameProblem, { key: true });
      if ((key.keepPrevious || sharedKeeps) && Object.hasOwn(secret.keys, `${name}_PREVIOUS`)) {
        fail(
          keyPath,
          `keepPrevious${sharedKeeps ? ` (of shared.${key.from})` : ''} needs the name ${name}_PREVIOUS, which is declared as a key too`,
          {
            key: true,
          },
        );
      }
      const source = keySource(
        key,
        keyPath,
        defaults,
        shared,
        raw.shared !== undefined,
        fail,
        hints,
      );
      if (source?.kind === 'shared') usedShared.add(source.from);
      if (source)
        keys.push({
          name,
          source,
          rotateEvery: parseRotation(key.rotateEvery),
          keepPrevious: key.keepPrevious ?? false,
          description: key.description,
        });
    }
    if (!declared && !hints?.partialSecrets.has(i))
      fail([...path, 'keys'], 'must declare at least one key');

    let secretEnvs: (string | undefined)[] = [undefined];
    if (environments.length > 0) {
      secretEnvs = environments.map((e) => e.name);
      if (secret.environments) {
        if (secret.environments.length === 0)
          fail(
            [...path, 'environments'],
            'must list at least one environment (or be left out: all)',
          );
        secret.environments.forEach((env, j) => {
          if (!envNames.has(env)) {
            fail(
              [...path, 'environments', j],
              `unknown environment "${env}"; declared: ${[...envNames].join(', ')}`,
            );
          }
        });
        secretEnvs = secret.environments;
      }
    } else if (secret.environments) {
      fail([...path, 'environments'], 'the config declares no top-level `environments`');
    }

    (secret.rollout ?? []).forEach((p, j) => {
      const problem = relativePathProblem(p);
      if (problem) fail([...path, 'rollout', j], problem);
    });
    for (const field of ['labels', 'annotations'] as const)
      for (const name in secret[field])
        if (RESERVED_PREFIX_RE.test(name))
          fail([...path, field, name], reservedMessage(field, name), { key: true });

    // A broken template was reported once above; its rendered paths would only repeat that.
    for (const env of outputProblems.length > 0 ? [] : secretEnvs) {
      const rendered = renderPath(output, {
        namespace: secret.namespace,
        name: secret.name,
        environment: env,
      });
      const problem = relativePathProblem(rendered);
      if (problem) fail([...path, 'name'], `output path ${rendered} ${problem}`);
      const other = seenPaths.get(rendered);
      if (other && other !== id)
        fail([...path, 'name'], `output path ${rendered} is also used by ${other}`);
      seenPaths.set(rendered, id);
    }

    secrets.push({
      name: secret.name,
      namespace: secret.namespace,
      type: secret.type ?? 'Opaque',
      restart: secret.restart,
      rollout: secret.rollout ?? [],
      labels: secret.labels ?? {},
      annotations: secret.annotations ?? {},
      environments: secretEnvs,
      keys,
    });
  });

  checkEncryptedRegexes(raw, environments, secrets, shared, fail);

  if (!ok) return undefined;
  return {
    file,
    output,
    sops,
    environments,
    pullRequest: {
      labels: raw.pullRequest?.labels ?? [],
      reviewers: raw.pullRequest?.reviewers ?? [],
      teamReviewers: raw.pullRequest?.teamReviewers ?? [],
    },
    shared,
    secrets,
  };
}

/** The tool's own prefix (and its subdomains): the annotations and labels it writes itself. */
const RESERVED_PREFIX_RE = /^([^/]*\.)?gitops-secrets\.io\//i;

function reservedMessage(field: 'labels' | 'annotations', name: string): string {
  const what = field === 'labels' ? 'label' : 'annotation';
  return `${what} ${name} uses the prefix gitops-secrets.io/, which is reserved for what gitops-secrets writes itself (such as gitops-secrets.io/state); use a prefix of your own`;
}

/**
 * Why Kubernetes would refuse `name` as a key of a Secret's data (apimachinery's
 * IsConfigMapKey), or undefined when it is fine.
 */
function keyNameProblem(name: string, keepPrevious: boolean): string | undefined {
  if (!KEY_NAME_RE.test(name)) return 'key names may use letters, digits, "-", "_" and "."';
  if (name === '.' || name === '..' || name.startsWith('..'))
    return 'key names must not be "." or start with ".." (Kubernetes refuses them)';
  const max = keepPrevious ? 253 - '_PREVIOUS'.length : 253;
  if (name.length > max)
    return `key names may be at most ${max} characters${keepPrevious ? ' (253 with _PREVIOUS)' : ''}`;
  return undefined;
}

function keySource(
  key: RawKey,
  path: (string | number)[],
  defaults: { length: number; charset: keyof typeof ALPHABETS },
  shared: Map<string, SharedSpec>,
  hasSharedSection: boolean,
  fail: Report,
  hints: SalvageHints | undefined,
): KeySource | undefined {
  if (key.from === undefined) return ownSource(key, path, defaults, fail);
  // Every source field but the ones a `from` key may carry (description) or must not (rotation).
  const others: string[] = [];
  for (const f of SOURCE_FIELDS)
    if (f !== 'description' && f !== 'rotateEvery' && f !== 'keepPrevious' && key[f] !== undefined)
      others.push(f);
  if (others.length > 0) {
    fail(
      [...path, others[0]!],
      `a key with \`from\` takes its value from shared.${key.from}; remove ${others.join(', ')}`,
    );
    return undefined;
  }
  for (const field of ['rotateEvery', 'keepPrevious'] as const) {
    if (key[field] !== undefined) {
      fail([...path, field], `set ${field} on shared.${key.from}, which owns the value`);
      return undefined;
    }
  }
  if (hints?.brokenShared.has(key.from)) return undefined;
  if (!shared.has(key.from)) {
    const known = [...shared.keys(), ...(hints?.brokenShared ?? [])];
    fail(
      [...path, 'from'],
      `no shared value "${key.from}"${hasSharedSection ? `; declared under shared: ${known.join(', ') || '(none)'}` : '; declare it under `shared:`'}`,
    );
    return undefined;
  }
  return { kind: 'shared', from: key.from };
}

function ownSource(
  key: RawShared,
  path: (string | number)[],
  defaults: { length: number; charset: keyof typeof ALPHABETS },
  fail: Report,
): OwnSource | undefined {
  const kinds: string[] = [];
  if (key.length !== undefined || key.charset !== undefined || key.chars !== undefined)
    kinds.push('length/charset/chars');
  if (key.bytes !== undefined) kinds.push('bytes');
  if (key.uuid) kinds.push('uuid');
  if (key.provided) kinds.push('provided');
  if (kinds.length > 1) {
    fail(path, `has more than one source (${kinds.join(' and ')}); a key takes exactly one`);
    return undefined;
  }
  if (key.encoding !== undefined && key.bytes === undefined) {
    fail([...path, 'encoding'], '`encoding` goes with `bytes: N`');
    return undefined;
  }
  if ((key.pattern !== undefined || key.minLength !== undefined) && !key.provided) {
    fail(
      [...path, key.pattern !== undefined ? 'pattern' : 'minLength'],
      'pattern and minLength go with `provided: true`',
    );
    return undefined;
  }
  if (key.provided) {
    if (!key.description) {
      fail(path, 'a provided slot needs a `description` that tells a person what value to give');
      return undefined;
    }
    if (key.pattern !== undefined) {
      try {
        new RegExp(key.pattern, 'u');
      } catch {
        fail([...path, 'pattern'], 'is not a valid regular expression');
        return undefined;
      }
    }
    return {
      kind: 'provided',
      description: key.description,
      ...(key.pattern !== undefined ? { pattern: key.pattern } : {}),
      ...(key.minLength !== undefined ? { minLength: key.minLength } : {}),
    };
  }
  if (key.uuid) return { kind: 'uuid' };
  if (key.bytes !== undefined)
    return { kind: 'bytes', bytes: key.bytes, encoding: key.encoding ?? 'base64' };
  if (key.charset !== undefined && key.chars !== undefined) {
    fail([...path, 'chars'], 'use either `charset` or `chars`, not both');
    return undefined;
  }
  const length = key.length ?? defaults.length;
  if (key.chars !== undefined) {
    const chars = Array.from(key.chars);
    if (new Set(chars).size !== chars.length) {
      fail(
        [...path, 'chars'],
        'must not repeat a character (a repeat makes it likelier, lowering entropy)',
      );
      return undefined;
    }
    if (chars.length > 256) {
      fail([...path, 'chars'], 'may list at most 256 characters');
      return undefined;
    }
    return { kind: 'random', length, alphabet: key.chars, charset: 'custom' };
  }
  const charset = key.charset ?? defaults.charset;
  return { kind: 'random', length, alphabet: ALPHABETS[charset], charset };
}

function sopsSettings(
  raw: RawSops | undefined,
  path: (string | number)[],
  fail: Report,
): SopsSettings {
  const encryptedRegex = raw?.encryptedRegex ?? DEFAULT_ENCRYPTED_REGEX;
  try {
    goRegExp(encryptedRegex);
    // sops uses Go's RE2: no lookaround, no backreferences.
    if (/\(\?<?[=!]|\\[1-9]/.test(encryptedRegex)) {
      fail(
        [...path, 'encryptedRegex'],
        'uses lookaround or a backreference, which sops (Go RE2 syntax) does not support',
      );
    }
  } catch {
    fail([...path, 'encryptedRegex'], 'is not a valid regular expression');
  }
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
