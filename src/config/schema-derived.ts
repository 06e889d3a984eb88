import { z } from 'zod';

/**
 * Fields of a key whose value the tool derives from other keys of the same Secret (htpasswd,
 * template, dockerconfigjson) or generates as a pair (ssh: the private key here, the public key
 * under `publicKey`). Kept apart from schema.ts's random-value fields (issue 23).
 */

const SSH_TYPES = ['ed25519', 'rsa'] as const;
/** RSA sizes; below 2048 bits is refused (2048 only for old servers; 4096 is the default). */
const RSA_BITS = [2048, 3072, 4096] as const;
export const BCRYPT_COSTS = { min: 10, max: 14, default: 10 } as const;

const refName = z.string().min(1, { message: 'must name a key of this Secret' });

/** A user name that can stand before `:` (htpasswd's `user:hash`, a registry's `user:token`). */
const userName = z
  .string()
  .regex(/^[^:\s]+$/, { message: 'must be a user name without ":" or spaces' });

const htpasswd = z
  .strictObject({
    user: userName.describe('The user name of the htpasswd line.'),
    from: refName.describe('The key of this Secret holding the password.'),
    cost: z
      .int({ message: `must be a whole number from ${BCRYPT_COSTS.min} to ${BCRYPT_COSTS.max}` })
      .min(BCRYPT_COSTS.min, {
        message: `must be a whole number from ${BCRYPT_COSTS.min} to ${BCRYPT_COSTS.max}`,
      })
      .max(BCRYPT_COSTS.max, {
        message: `must be a whole number from ${BCRYPT_COSTS.min} to ${BCRYPT_COSTS.max}`,
      })
      .optional()
      .describe(
        `bcrypt cost (${BCRYPT_COSTS.min}..${BCRYPT_COSTS.max}, default ${BCRYPT_COSTS.default}).`,
      ),
  })
  .describe(
    'Derived: an htpasswd line `user:$2y$...` (bcrypt) of the password in key `from`, e.g. `{ user: admin, from: password }`.',
  );

const bitsMessage = `must be ${RSA_BITS.join(', ')} (RSA keys below 2048 bits are refused)`;

const ssh = z
  .strictObject({
    type: z
      .enum(SSH_TYPES, { message: `must be one of ${SSH_TYPES.join(', ')}` })
      .optional()
      .describe('ed25519 (default) or rsa.'),
    bits: z
      .literal(RSA_BITS, { message: bitsMessage })
      .optional()
      .describe('RSA only: the key size, 2048, 3072 or 4096 (default 4096).'),
    comment: z
      .string()
      .regex(/^[^\n\r]*$/, { message: 'must be one line' })
      .optional()
      .describe('The comment of the key, e.g. flux@cluster.'),
    publicKey: refName
      .optional()
      .describe('The key that holds the public key (authorized_keys format); default <key>.pub.'),
  })
  .describe(
    'Generated: an SSH private key (OpenSSH format) here, its public key under `publicKey`, e.g. `{ type: ed25519, publicKey: identity.pub }`.',
  );

const template = z
  .string()
  .describe(
    'Derived: text with `{{ KEY }}` or `{{ shared.NAME }}` references and filters urlencode, base64, json, e.g. "postgres://app:{{ DB_PASSWORD | urlencode }}@db:5432/app".',
  );

const dockerconfigjson = z
  .strictObject({
    registry: z
      .string()
      .min(1)
      .describe('The registry host, e.g. ghcr.io; for Docker Hub https://index.docker.io/v1/.'),
    user: userName.describe('The registry user name (no ":": auth is base64 of user:token).'),
    from: refName.describe('The key of this Secret holding the token or password.'),
  })
  .describe(
    'Derived: a `.dockerconfigjson` document for the registry, e.g. `{ registry: ghcr.io, user: bot, from: token }`.',
  );

export const derivedFields = {
  htpasswd: htpasswd.optional(),
  ssh: ssh.optional(),
  template: template.optional(),
  dockerconfigjson: dockerconfigjson.optional(),
};

export const DERIVED_FIELDS = Object.keys(derivedFields) as (keyof typeof derivedFields)[];
