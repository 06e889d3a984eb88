import type { SopsSettings } from '../config/types.js';
import { ExternalError } from '../errors.js';

/** Recipients to add and remove, as `kind:id` (age, pgp, kms, gcpKms, azureKv, hcVault). */
export interface RecipientChange {
  add: string[];
  remove: string[];
}

/** The sops flag of each recipient kind (`--age`, `--add-age`, `--rm-age`, ...). */
const FLAGS = {
  age: 'age',
  pgp: 'pgp',
  kms: 'kms',
  gcpKms: 'gcp-kms',
  azureKv: 'azure-kv',
  hcVaultTransit: 'hc-vault-transit',
} as const satisfies Record<RecipientKind, string>;
type RecipientKind = keyof Omit<
  SopsSettings,
  'encryptedRegex' | 'ownEncryptedRegex' | 'hasRecipients'
>;
/** Other spellings of a kind in recipient ids. */
const ALIASES: Record<string, RecipientKind> = {
  hcVault: 'hcVaultTransit',
  azureKeyVault: 'azureKv',
  gcp_kms: 'gcpKms',
};
/** The keys of a `.sops.yaml` creation rule, per kind. */
const RULE_KEYS: Record<RecipientKind, string> = {
  age: 'age',
  pgp: 'pgp',
  kms: 'kms',
  gcpKms: 'gcp_kms',
  azureKv: 'azure_keyvault',
  hcVaultTransit: 'hc_vault_transit_uri',
};
const KINDS = Object.keys(FLAGS) as RecipientKind[];

/** The argv of an encryption from stdin. */
export function encryptArgs(filename: string, settings: SopsSettings): string[] {
  const args = ['encrypt', ...stdinYaml(filename)];
  // Unset when the .sops.yaml rule's own selector applies: sops refuses two selectors.
  if (settings.encryptedRegex !== '') args.push('--encrypted-regex', settings.encryptedRegex);
  for (const kind of KINDS)
    if (settings[kind].length > 0) args.push(`--${FLAGS[kind]}`, settings[kind].join(','));
  return args;
}

/** `--add-age a,b --rm-kms c ...` for a change of recipients given as `kind:id`. */
export function rotateFlags(change: RecipientChange): string[] {
  const args: string[] = [];
  for (const [verb, list] of [
    ['add', change.add],
    ['rm', change.remove],
  ] as const) {
    const byKind = new Map<RecipientKind, string[]>();
    for (const id of list) {
      const colon = id.indexOf(':');
      const prefix = id.slice(0, colon);
      const kind = prefix in FLAGS ? (prefix as RecipientKind) : ALIASES[prefix];
      if (colon < 0 || !kind)
        throw new ExternalError(
          'sops',
          `unknown recipient kind in "${id}"`,
          'report this as a bug',
        );
      byKind.set(kind, [...(byKind.get(kind) ?? []), id.slice(colon + 1)]);
    }
    for (const kind of KINDS) {
      const ids = byKind.get(kind);
      if (ids) args.push(`--${verb}-${FLAGS[kind]}`, ids.join(','));
    }
  }
  return args;
}

/** A `.sops.yaml` creation rule naming the recipients of `settings`. */
export function creationRule(settings: SopsSettings): Record<string, string> {
  const rule: Record<string, string> = {};
  for (const kind of KINDS)
    if (settings[kind].length > 0) rule[RULE_KEYS[kind]] = settings[kind].join(',');
  return rule;
}

/** Flags for a YAML document on stdin that sops treats as if it were `filename`. */
export function stdinYaml(filename: string): string[] {
  return ['--filename-override', filename, '--input-type', 'yaml', '--output-type', 'yaml'];
}

/** sops's tree path syntax: `["data"]["KEY"]`. */
export function indexOf(path: string[]): string {
  return path.map((p) => `[${JSON.stringify(p)}]`).join('');
}
