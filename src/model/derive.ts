import { createHash, generateKeyPairSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import sshpk from 'sshpk';
import type { Derivation, SshSource } from '../config/types-derived.js';
import { UsageError } from '../errors.js';
import { renderTemplate } from './template.js';

/**
 * Values computed from other values (issue 23), in memory: they reach sops through stdin like
 * every other value. The format work is done by maintained libraries: bcryptjs for the htpasswd
 * line, Node's crypto for key pairs and sshpk for the OpenSSH encodings.
 */

/** A digest of a derivation as configured (no value in it), for the state annotation. */
export function derivationFingerprint(derive: Derivation): string {
  return createHash('sha256').update(JSON.stringify(derive)).digest('hex').slice(0, 16);
}

/** The value of a derived key, given the values of the keys it is computed from. */
export function deriveValue(derive: Derivation, lookup: (key: string) => string): string {
  switch (derive.kind) {
    case 'htpasswd': {
      const password = lookup(derive.from);
      if (bcrypt.truncates(password))
        throw new UsageError(
          `the value of ${derive.from} is longer than 72 bytes, of which bcrypt (htpasswd) reads only the first 72 (the value is not shown)`,
          `give ${derive.from} a value of at most 72 bytes`,
        );
      return htpasswdLine(derive.user, password, derive.cost);
    }
    case 'ssh-public':
      return sshPublicKey(lookup(derive.from), derive.comment);
    case 'template':
      return renderTemplate(derive.parts, lookup);
    case 'dockerconfigjson':
      return dockerConfigJson(derive.registry, derive.user, lookup(derive.from));
  }
}

/**
 * `user:$2y$cost$...`, what Apache's `htpasswd -B` writes and ingress-nginx (and Traefik) accept.
 * bcryptjs draws the salt itself from the platform's CSPRNG (Web Crypto's getRandomValues, or
 * node:crypto's randomBytes), not from the injectable RandomSource. It writes `$2b$`; `$2y$` is
 * the same algorithm under the prefix Apache writes and older crypt() libraries know.
 */
export function htpasswdLine(user: string, password: string, cost: number): string {
  const hash = bcrypt.hashSync(password, cost).replace(/^\$2b\$/, '$2y$');
  return `${user}:${hash}`;
}

/** `{"auths":{"<registry>":{"username","password","auth":base64(user:token)}}}`. */
export function dockerConfigJson(registry: string, user: string, token: string): string {
  const auth = Buffer.from(`${user}:${token}`, 'utf8').toString('base64');
  return JSON.stringify({ auths: { [registry]: { username: user, password: token, auth } } });
}

/**
 * A new SSH private key in the OpenSSH format `ssh-keygen` writes (unencrypted: sops encrypts
 * it). The key pair comes from node:crypto's generateKeyPairSync, which draws from the system's
 * CSPRNG (not from the injectable RandomSource); sshpk converts its PKCS#8 form.
 */
export function generateSshKey(source: SshSource): string {
  const { privateKey } =
    source.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: source.bits })
      : generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = sshpk.parsePrivateKey(pem, 'pem');
  key.comment = source.comment;
  return key.toString('openssh');
}

/**
 * The `authorized_keys` line (`ssh-ed25519 AAAA... comment`) of an OpenSSH private key, with the
 * configured comment (sshpk would write "(unnamed)" for none; ssh-keygen writes nothing).
 */
export function sshPublicKey(privateKey: string, comment: string): string {
  const key = sshpk.parsePrivateKey(privateKey, 'openssh');
  const [type, data] = key.toPublic().toString('ssh').split(' ');
  return comment ? `${type} ${data} ${comment}` : `${type} ${data}`;
}
