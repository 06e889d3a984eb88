import type { SopsSettings } from '../config/types.js';
import { ExternalError } from '../errors.js';
import { RECIPIENT_KINDS } from '../model/recipients.js';

/** Recipients to add and remove, as ids `kind:value` (src/model/recipients.ts). */
export interface RecipientChange {
  add: string[];
  remove: string[];
}

/** The sops flag of each kind of key (`--age`, `--add-age`, `--rm-age`, ...). */
const FLAGS: Record<(typeof RECIPIENT_KINDS)[number]['settings'], string> = {
  age: 'age',
  pgp: 'pgp',
  kms: 'kms',
  gcpKms: 'gcp-kms',
  azureKv: 'azure-kv',
  hcVaultTransit: 'hc-vault-transit',
};

/** The argv of an encryption from stdin. */
export function encryptArgs(filename: string, settings: SopsSettings): string[] {
  const args = ['encrypt', ...stdinYaml(filename)];
  // Unset when the .sops.yaml rule's own selector applies: sops refuses two selectors.
  if (settings.encryptedRegex !== '') args.push('--encrypted-regex', settings.encryptedRegex);
  for (const { settings: field } of RECIPIENT_KINDS)
    if (settings[field].length > 0) args.push(`--${FLAGS[field]}`, settings[field].join(','));
  return args;
}

/** `--add-age a,b --rm-kms c ...` for a change of recipients given as `kind:id`. */
export function rotateFlags(change: RecipientChange): string[] {
  const args: string[] = [];
  for (const [verb, list] of [
    ['add', change.add],
    ['rm', change.remove],
  ] as const) {
    for (const kind of RECIPIENT_KINDS) {
      const ids = list.filter((id) => id.startsWith(`${kind.kind}:`));
      if (ids.length > 0)
        args.push(
          `--${verb}-${FLAGS[kind.settings]}`,
          ids.map((id) => id.slice(kind.kind.length + 1)).join(','),
        );
    }
    const unknown = list.find((id) => !RECIPIENT_KINDS.some((k) => id.startsWith(`${k.kind}:`)));
    if (unknown !== undefined)
      throw new ExternalError(
        'sops',
        `unknown recipient kind in "${unknown}"`,
        'report this as a bug',
      );
  }
  return args;
}

/** A `.sops.yaml` creation rule naming the recipients of `settings`. */
export function creationRule(settings: SopsSettings): Record<string, string> {
  const rule: Record<string, string> = {};
  for (const kind of RECIPIENT_KINDS) {
    const values = settings[kind.settings];
    if (values.length > 0) rule[kind.rule] = values.join(',');
  }
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
