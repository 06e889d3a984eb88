import type { TemplatePart } from '../model/template.js';

/** How a derived key's value is computed from other keys of the same Secret (its `inputs`). */
export type Derivation =
  | { kind: 'htpasswd'; user: string; from: string; cost: number }
  /** The `authorized_keys` line of the OpenSSH private key in `from`. */
  | { kind: 'ssh-public'; from: string; comment: string }
  | { kind: 'template'; parts: TemplatePart[] }
  | { kind: 'dockerconfigjson'; registry: string; user: string; from: string };

/** A key whose value follows other keys of its Secret: never generated or rotated alone. */
export interface DerivedSource {
  kind: 'derived';
  derive: Derivation;
  /** The keys of the same Secret it is computed from. */
  inputs: string[];
  /**
   * A digest of the derivation as configured (no value): recorded in the state annotation, so a
   * change of the template, user or cost is seen without decrypting.
   */
  fingerprint: string;
}

/** An SSH key pair: the private key is generated; its public key is a derived key. */
export interface SshSource {
  kind: 'ssh';
  type: 'ed25519' | 'rsa';
  bits: number;
  comment: string;
  /** The key that holds its public key (a derived key, `ssh-public`). */
  publicKey: string;
}
