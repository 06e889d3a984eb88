import { z } from 'zod';
import { derivedFields } from './schema-derived.js';
import { passwordRulesSchema } from './schema-rules.js';

/** The charsets a random string can be drawn from. */
export const CHARSETS = [
  'alphanumeric',
  'alpha',
  'lower',
  'upper',
  'numeric',
  'hex',
  'base64url',
  'printable',
] as const;
export type Charset = (typeof CHARSETS)[number];

export const ENCODINGS = ['base64', 'base64url', 'hex'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const DURATION_RE = /^[1-9][0-9]{0,5}[hdw]$/;
export const KEY_NAME_RE = /^[-._a-zA-Z0-9]+$/;
export const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN_RE =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const duration = z
  .string()
  .regex(DURATION_RE, { message: 'must be a duration like 12h, 90d or 2w (units h, d, w)' })
  .describe('Rotate this value when it is older than this: a number and a unit, h, d or w.');

const length = z
  .int({ message: 'must be a whole number from 1 to 4096' })
  .min(1, { message: 'must be a whole number from 1 to 4096' })
  .max(4096, { message: 'must be a whole number from 1 to 4096' });

const charset = z.enum(CHARSETS, {
  message: `must be one of ${CHARSETS.join(', ')}`,
});

/** Fields a key (or a shared value) can carry; which ones combine is checked by rules. */
const sourceFields = {
  length: length.optional().describe('Random string: its length in characters (1..4096).'),
  charset: charset.optional().describe('Random string: the alphabet (default alphanumeric).'),
  chars: z
    .string()
    .min(2, { message: 'must list at least 2 distinct characters' })
    .optional()
    .describe('Random string: draw from exactly these characters.'),
  rules: passwordRulesSchema.optional(),
  bytes: length.optional().describe('Random bytes: how many (1..4096), written with `encoding`.'),
  encoding: z
    .enum(ENCODINGS, { message: `must be one of ${ENCODINGS.join(', ')}` })
    .optional()
    .describe('Random bytes: base64 (default), base64url or hex.'),
  uuid: z.literal(true, { message: 'must be true' }).optional().describe('A random UUID v4.'),
  provided: z
    .literal(true, { message: 'must be true' })
    .optional()
    .describe('A slot a person fills with `gitops-secrets set`; never generated.'),
  description: z.string().min(1).optional().describe('What the value is, for people.'),
  pattern: z
    .string()
    .min(1)
    .optional()
    .describe('Provided slot: a regular expression the value must match.'),
  minLength: length.optional().describe('Provided slot: the shortest value accepted.'),
  rotateEvery: duration.optional(),
  keepPrevious: z
    .boolean({ message: 'must be true or false' })
    .optional()
    .describe('Keep the value before the last rotation as <KEY>_PREVIOUS.'),
};

/** The fields a key (or a shared value) can carry, in order. */
export const SOURCE_FIELDS = Object.keys(sourceFields) as (keyof typeof sourceFields)[];

export const keySchema = z
  .strictObject({
    ...sourceFields,
    from: z.string().min(1).optional().describe('Use the value of this entry under `shared:`.'),
    // Issue 23: htpasswd, ssh, template, dockerconfigjson (schema-derived.ts).
    ...derivedFields,
  })
  .describe('One key of the Secret: exactly one source.');

export const sharedSchema = z
  .strictObject(sourceFields)
  .describe('A value used by several secrets.');

const recipients = z.array(z.string().min(1)).optional();

export const sopsSchema = z
  .strictObject({
    age: recipients.describe('age recipients (age1...).'),
    pgp: recipients.describe('PGP fingerprints.'),
    kms: recipients.describe('AWS KMS ARNs.'),
    gcpKms: recipients.describe('GCP KMS resource IDs.'),
    azureKv: recipients.describe('Azure Key Vault key URLs.'),
    hcVaultTransit: recipients.describe('HashiCorp Vault transit key URIs.'),
    encryptedRegex: z
      .string()
      .min(1)
      .optional()
      .describe('Keys whose values sops encrypts (default ^(data|stringData)$).'),
  })
  .describe('sops recipients; without them, the creation_rules of .sops.yaml apply.');

const environmentSchema = z.union([
  z.string().regex(DNS1123_LABEL_RE, { message: 'must be a lowercase name like dev or prod' }),
  z.strictObject({
    name: z
      .string()
      .regex(DNS1123_LABEL_RE, { message: 'must be a lowercase name like dev or prod' }),
    sops: sopsSchema.optional(),
  }),
]);

export const secretSchema = z.strictObject({
  name: z
    .string()
    .max(253, { message: 'must be at most 253 characters' })
    .regex(DNS1123_SUBDOMAIN_RE, {
      message: 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and "."',
    })
    .describe('metadata.name of the Secret.'),
  namespace: z
    .string()
    .max(63, { message: 'must be at most 63 characters' })
    .regex(DNS1123_LABEL_RE, {
      message: 'must be a DNS-1123 label: lowercase letters, digits and "-"',
    })
    .describe('metadata.namespace of the Secret.'),
  type: z.string().min(1).optional().describe('Secret type (default Opaque).'),
  restart: z
    .string()
    .min(1)
    .optional()
    .describe('Command that restarts the consumers, shown in PRs.'),
  rollout: z
    .array(z.string().min(1))
    .optional()
    .describe('Workload manifests whose pod template is bumped on rotation.'),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  environments: z
    .array(z.string())
    .optional()
    .describe('Only these of the top-level environments (default: all).'),
  keys: z.record(z.string(), keySchema.nullable()).describe('The keys of the Secret.'),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1, { message: 'must be 1' }),
    output: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Path template relative to the repo root (default secrets/{namespace}/{name}.yaml).',
      ),
    kustomize: z
      .enum(['resources', 'ksops', 'off'])
      .optional()
      .describe(
        'How sync keeps the nearest kustomization.yaml listing the manifests: resources (the `resources:` list, for Flux), ksops (the `files:` of its ksops generator, for Argo CD + ksops) or off. Default: ksops when that kustomization lists a ksops generator, else resources.',
      ),
    sops: sopsSchema.optional(),
    pullRequest: z
      .strictObject({
        labels: z.array(z.string().min(1)).optional(),
        reviewers: z.array(z.string().min(1)).optional(),
        teamReviewers: z.array(z.string().min(1)).optional(),
      })
      .optional(),
    defaults: z
      .strictObject({
        length: length.optional(),
        charset: charset.optional(),
        rules: passwordRulesSchema.optional(),
      })
      .optional(),
    environments: z.array(environmentSchema).optional(),
    shared: z.record(z.string(), sharedSchema).optional(),
    secrets: z.array(secretSchema).describe('The Kubernetes Secrets this repo declares.'),
  })
  .describe('gitops-secrets config (config/secrets.yaml).');

export type RawConfig = z.infer<typeof configSchema>;
export type RawKey = z.infer<typeof keySchema>;
export type RawShared = z.infer<typeof sharedSchema>;
export type RawSops = z.infer<typeof sopsSchema>;
export type RawSecret = z.infer<typeof secretSchema>;

/** The JSON Schema shipped as config/schema.json. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: 'https://github.com/gitops-secrets/gitops-secrets/config/schema.json',
    title: 'gitops-secrets config',
  };
}
