import {
  configSchema,
  keySchema,
  type RawConfig,
  secretSchema,
  sharedSchema,
  sopsSchema,
} from './schema.js';

/** What the rule checks must know about a config that only partly parsed. */
export interface SalvageHints {
  /** Original index of each secret kept. */
  secretIndex: number[];
  /** Shared entries that exist but did not parse (a `from` naming them is not dangling). */
  brokenShared: Set<string>;
  /** Secrets (original index) that lost keys that did not parse. */
  partialSecrets: Set<number>;
}

/**
 * Keeps the parts of a config that parse on their own, so that rule checks (duplicates,
 * dangling `from`, output paths) still run when the schema found problems elsewhere.
 */
export function salvage(data: Record<string, unknown>): { raw: RawConfig; hints: SalvageHints } {
  const hints: SalvageHints = {
    secretIndex: [],
    brokenShared: new Set(),
    partialSecrets: new Set(),
  };
  const shape = configSchema.shape;
  const pick = <K extends keyof RawConfig>(k: K): RawConfig[K] | undefined => {
    const r = shape[k].safeParse(data[k]);
    return r.success ? (r.data as RawConfig[K]) : undefined;
  };
  const shared: Record<string, NonNullable<RawConfig['shared']>[string]> = {};
  if (data.shared && typeof data.shared === 'object' && !Array.isArray(data.shared)) {
    for (const [name, entry] of Object.entries(data.shared)) {
      const r = sharedSchema.safeParse(entry);
      if (r.success) shared[name] = r.data;
      else hints.brokenShared.add(name);
    }
  }
  const secrets: RawConfig['secrets'] = [];
  if (Array.isArray(data.secrets)) {
    data.secrets.forEach((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) return;
      const rawKeys = (item as { keys?: unknown }).keys;
      const keys: Record<string, unknown> = {};
      if (rawKeys && typeof rawKeys === 'object' && !Array.isArray(rawKeys)) {
        for (const [name, key] of Object.entries(rawKeys)) {
          if (keySchema.nullable().safeParse(key).success) keys[name] = key;
          else hints.partialSecrets.add(i);
        }
      } else {
        // `keys` is missing or not a mapping: the schema reported that already.
        hints.partialSecrets.add(i);
      }
      // Unknown fields were reported already; they must not hide a duplicate or a dangling `from`.
      const r = secretSchema.strip().safeParse({ ...item, keys });
      if (r.success) {
        secrets.push(r.data);
        hints.secretIndex.push(i);
      }
    });
  }
  const raw: RawConfig = {
    version: 1,
    output: pick('output'),
    sops: pick('sops'),
    pullRequest: pick('pullRequest'),
    defaults: pick('defaults'),
    environments: pick('environments') ?? environmentNames(data.environments),
    shared,
    secrets,
  };
  return { raw, hints };
}

/**
 * The environments of a list that did not parse, each kept by its name even when the name is
 * invalid (the schema reported that), so that rules about which environments exist (the
 * `{environment}` placeholder, a secret's `environments`) report nothing spurious.
 */
function environmentNames(value: unknown): RawConfig['environments'] {
  if (!Array.isArray(value)) return undefined;
  return value.flatMap((env): NonNullable<RawConfig['environments']> => {
    if (typeof env === 'string') return [env];
    if (!env || typeof env !== 'object' || typeof (env as { name?: unknown }).name !== 'string')
      return [];
    const sops = sopsSchema.safeParse((env as { sops?: unknown }).sops);
    return [{ name: (env as { name: string }).name, sops: sops.success ? sops.data : undefined }];
  });
}
