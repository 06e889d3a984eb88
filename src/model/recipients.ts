import type { SopsSettings } from '../config/types.js';
import { ruleFor, type SopsYaml } from './sops-yaml.js';

/**
 * Recipients: who can open a file. One id per master key, `kind:value`, with the value as the
 * sops command line takes it (`--age`, `--add-azure-kv`, ...):
 *
 *   age:age1…    pgp:FINGERPRINT    kms:ARN (or ARN+ROLE)    gcpKms:RESOURCE_ID
 *   azureKv:https://VAULT.vault.azure.net/keys/NAME/VERSION
 *   hcVault:https://ADDR:8200/v1/ENGINE/keys/NAME
 *
 * Read from three places: a manifest's `sops` block, the `.sops.yaml` creation rules, and the
 * config's `sops:` settings; `recipientChange` compares what a file has with what it should have.
 */
export type RecipientKind = 'age' | 'pgp' | 'kms' | 'gcpKms' | 'azureKv' | 'hcVault';

type Entry = Record<string, unknown>;

interface KindInfo {
  kind: RecipientKind;
  /** The field of the config's sops settings. */
  settings: 'age' | 'pgp' | 'kms' | 'gcpKms' | 'azureKv' | 'hcVaultTransit';
  /** The key of a `.sops.yaml` creation rule. */
  rule: string;
  /** The field of a manifest's `sops` block (and of each of its `key_groups`). */
  block: string;
  /** The value of one entry of the block, undefined when it lacks a field. */
  fromBlock(e: Entry): string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export const RECIPIENT_KINDS: readonly KindInfo[] = [
  {
    kind: 'age',
    settings: 'age',
    rule: 'age',
    block: 'age',
    fromBlock: (e) => str(e.recipient),
  },
  {
    kind: 'pgp',
    settings: 'pgp',
    rule: 'pgp',
    block: 'pgp',
    fromBlock: (e) => str(e.fp),
  },
  {
    kind: 'kms',
    settings: 'kms',
    rule: 'kms',
    block: 'kms',
    fromBlock: (e) => {
      const arn = str(e.arn);
      const role = str(e.role);
      return arn && role ? `${arn}+${role}` : arn;
    },
  },
  {
    kind: 'gcpKms',
    settings: 'gcpKms',
    rule: 'gcp_kms',
    block: 'gcp_kms',
    fromBlock: (e) => str(e.resource_id),
  },
  {
    kind: 'azureKv',
    settings: 'azureKv',
    rule: 'azure_keyvault',
    block: 'azure_kv',
    fromBlock: (e) => {
      const [url, name, version] = [str(e.vault_url), str(e.name), str(e.version)];
      return url && name && version
        ? `${url.replace(/\/+$/, '')}/keys/${name}/${version}`
        : undefined;
    },
  },
  {
    kind: 'hcVault',
    settings: 'hcVaultTransit',
    rule: 'hc_vault_transit_uri',
    block: 'hc_vault',
    fromBlock: (e) => {
      const [address, engine, key] = [str(e.vault_address), str(e.engine_path), str(e.key_name)];
      return address && engine && key
        ? `${address.replace(/\/+$/, '')}/v1/${engine}/keys/${key}`
        : undefined;
    },
  },
];

/** A recipient as sops reads it from a list: trimmed; a PGP fingerprint without its spaces. */
function normal(kind: RecipientKind, value: string): string {
  const v = value.trim();
  return kind === 'pgp' ? v.replace(/\s+/g, '') : v;
}

/** A comma-separated string or a list of strings, as a `.sops.yaml` rule writes them. */
function list(value: unknown): string[] {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  return items.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
}

function ids(kind: KindInfo, values: string[]): string[] {
  return values.map((v) => `${kind.kind}:${normal(kind.kind, v)}`);
}

/** The recipients recorded in a manifest's `sops` block (key groups included), sorted. */
export function recipientsOfBlock(sops: Entry): string[] {
  const groups = Array.isArray(sops.key_groups) ? (sops.key_groups as unknown[]) : [];
  const out = new Set<string>();
  for (const group of [sops, ...groups]) {
    if (!group || typeof group !== 'object') continue;
    for (const kind of RECIPIENT_KINDS) {
      const entries = (group as Entry)[kind.block];
      if (!Array.isArray(entries)) continue;
      for (const e of entries) {
        const value = e && typeof e === 'object' ? kind.fromBlock(e as Entry) : undefined;
        if (value !== undefined) out.add(`${kind.kind}:${normal(kind.kind, value)}`);
      }
    }
  }
  return [...out].sort();
}

/** The recipients the config names, sorted; undefined when it names none (`.sops.yaml` decides). */
export function recipientsOfSettings(sops: SopsSettings): string[] | undefined {
  if (!sops.hasRecipients) return undefined;
  return RECIPIENT_KINDS.flatMap((k) => ids(k, sops[k.settings])).sort();
}

/** The recipients a `.sops.yaml` creation rule gives a path; undefined when none is known. */
export type SopsRules = (path: string) => string[] | undefined;

/**
 * The recipients of the `.sops.yaml` creation rule sops picks for a path (model/sops-yaml.ts).
 * Rules with `key_groups` are not compared (the answer is undefined: no drift is reported for
 * them), nor are unreadable files or a rule whose path_regex does not compile.
 */
export function readSopsRules(sopsYaml: SopsYaml | undefined): SopsRules {
  if (!sopsYaml) return () => undefined;
  return (path) => {
    const rule = ruleFor(sopsYaml, path);
    if (!rule || rule.broken || rule.entry.key_groups !== undefined) return undefined;
    return RECIPIENT_KINDS.flatMap((k) => ids(k, list(rule.entry[k.rule]))).sort();
  };
}

/** Recipients to add and remove, as ids (`age:age1...`, `azureKv:https://…`). */
export interface Reencrypt {
  reason: string;
  add: string[];
  remove: string[];
}

/**
 * Whether `wanted` names the recipient `have`: the same id, or an Azure Key Vault key given
 * without a version (sops then uses the latest and records it in the file).
 */
function names(wanted: string, have: string): boolean {
  if (wanted === have) return true;
  return (
    wanted.startsWith('azureKv:') &&
    /\/keys\/[^/]+$/.test(wanted) &&
    have.startsWith(`${wanted}/`) &&
    !have.slice(wanted.length + 1).includes('/')
  );
}

/**
 * What re-encryption (`sops updatekeys`, or `rotate` with a new data key) a file needs: the
 * recipients it should have (`wanted`: the config's, else its `.sops.yaml` rule's) against those
 * it has. Undefined when they agree, or when nothing says what it should have.
 */
export function recipientChange(
  wanted: string[] | undefined,
  have: string[],
): Reencrypt | undefined {
  if (!wanted || wanted.length === 0) return undefined;
  const add = wanted.filter((w) => !have.some((h) => names(w, h)));
  const remove = have.filter((h) => !wanted.some((w) => names(w, h)));
  if (add.length === 0 && remove.length === 0) return undefined;
  return {
    reason: `recipients changed (${add.length} added, ${remove.length} removed)`,
    add,
    remove,
  };
}
