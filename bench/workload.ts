/**
 * The benchmark's GitOps repo contents: a config with N secrets of mixed sources, the plaintext
 * manifests sops gets for them (for the sops floor), and a 10×N copy for `check`.
 *
 * The config is written in flow style, one line per secret, with short key names: the tool
 * refuses configs over 1 MiB (MAX_CONFIG_BYTES below), and 10,000 secrets in block style with
 * longer key names do not fit in that.
 *
 * Nothing here imports the tool's source: the benchmark measures the built CLI from outside, and
 * the floor's manifests are written here in the tool's format (same keys, value lengths, labels
 * and state annotation), so that sops has the same work in both.
 */
import { randomBytes } from 'node:crypto';

/** The largest config the tool reads (docs/config.md); 10×N copies that do not fit are skipped. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** What the bench config leaves to the default (docs/config.md). */
export const ENCRYPTED_REGEX = '^(data|stringData)$';

/** A key's spec in flow-style YAML and the length of the value the tool generates for it. */
type Spec = [yaml: string, valueLength: number];

/** Random strings of several charsets and lengths (`~`: the defaults, 32 alphanumeric). */
const PASSWORD: Spec[] = [
  ['~', 32],
  ['{length: 45}', 45],
  ['{length: 24, charset: printable}', 24],
  ['{length: 64, charset: hex}', 64],
  ['{length: 20, chars: abcdef123456}', 20],
];
const TOKEN: Spec[] = [
  ['{length: 43, charset: base64url}', 43],
  ['{length: 8, charset: numeric}', 8],
  ['{charset: lower}', 32],
];
/** Random bytes in each encoding. */
const BYTES: Spec[] = [
  ['{bytes: 32}', 44],
  ['{bytes: 16, encoding: hex}', 32],
  ['{bytes: 24, encoding: base64url}', 32],
];
const UUID: Spec = ['{uuid: true}', 36];
const SHARED_LENGTH = 40;
/** A slot a person fills: the tool writes no value for it. */
const PROVIDED: Spec = ['{provided: true, description: API token}', 0];
export const SHARED_GROUPS = 10;

export interface BenchSecret {
  index: number;
  name: string;
  namespace: string;
  /** Key name → spec. */
  keys: [string, Spec][];
}

/** Secret i: 3 to 6 keys: random strings, bytes, a uuid on every 2nd, a shared value on every
 * 4th, a provided slot on every 20th. */
export function benchSecret(i: number, copy = 0): BenchSecret {
  const keys: [string, Spec][] = [
    ['pass', PASSWORD[i % PASSWORD.length]!],
    ['tok', TOKEN[i % TOKEN.length]!],
    ['key', BYTES[(i + 1) % BYTES.length]!],
  ];
  if (i % 2 === 0) keys.push(['id', UUID]);
  if (i % 4 === 1) keys.push(['db', [`{from: db${i % SHARED_GROUPS}}`, SHARED_LENGTH]]);
  if (i % 20 === 5) keys.push(['api', PROVIDED]);
  const ns = `ns${String(i % 50).padStart(2, '0')}`;
  return {
    index: i,
    name: `s${String(i).padStart(5, '0')}`,
    namespace: copy === 0 ? ns : `${ns}-c${copy}`,
    keys,
  };
}

/**
 * One secret per line. `compact` keeps each key's name and kind of source but drops lengths,
 * charsets and encodings (which `check` never looks at), so that 10,000 secrets fit in 1 MiB.
 */
export function secretLine(s: BenchSecret, compact = false): string {
  const keys = s.keys.map(([k, [v]]) => `${k}: ${compact ? compactSpec(v) : v}`).join(', ');
  return `- {name: ${s.name}, namespace: ${s.namespace}, keys: {${keys}}}`;
}

function compactSpec(spec: string): string {
  if (spec.startsWith('{bytes:')) return '{bytes: 32}';
  if (spec.startsWith('{uuid:') || spec.startsWith('{from:')) return spec;
  if (spec.startsWith('{provided:')) return '{provided: true, description: x}';
  return '~';
}

/** The config text for these secrets (recipients come from .sops.yaml creation rules). */
export function configText(secrets: BenchSecret[], compact = false): string {
  const shared = Array.from(
    { length: SHARED_GROUPS },
    (_, g) => `  db${g}: {length: ${SHARED_LENGTH}, rotateEvery: 30d}`,
  );
  return [
    'version: 1',
    'output: secrets/{namespace}/{name}.yaml',
    'pullRequest: { labels: [secrets], reviewers: [alice], teamReviewers: [platform] }',
    'shared:',
    ...shared,
    'secrets:',
    ...secrets.map((x) => secretLine(x, compact)),
    '',
  ].join('\n');
}

export function secretId(s: BenchSecret): string {
  return `${s.namespace}/${s.name}`;
}

export interface Plaintext {
  path: string;
  text: string;
}

/**
 * The plaintext manifests the tool gives sops for a first sync of these secrets, as the tool
 * writes them (every scalar a JSON string, values base64 under `data`, the managed-by label and
 * the state annotation), with random values of the lengths the tool generates.
 */
export function plaintextManifests(secrets: BenchSecret[], now: Date): Plaintext[] {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const q = (x: string) => JSON.stringify(x);
  return secrets.map((s) => {
    const keys = s.keys.filter(([, [, length]]) => length > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    const state = {
      version: 1,
      keys: Object.fromEntries(
        keys.map(([k, [spec]]) => {
          const shared = /^\{from: (\w+)\}$/.exec(spec)?.[1];
          return [k, { generated: stamp, rotated: stamp, ...(shared ? { shared } : {}) }];
        }),
      ),
    };
    const value = (length: number) =>
      Buffer.from(randomBytes(length).toString('base64url').slice(0, length)).toString('base64');
    const text = [
      'apiVersion: v1\nkind: Secret\nmetadata:\n',
      `  name: ${q(s.name)}\n  namespace: ${q(s.namespace)}\n`,
      `  labels:\n    ${q('app.kubernetes.io/managed-by')}: ${q('gitops-secrets')}\n`,
      `  annotations:\n    ${q('gitops-secrets.io/state')}: ${q(JSON.stringify(state))}\n`,
      `type: ${q('Opaque')}\ndata:\n`,
      ...keys.map(([k, [, length]]) => `  ${q(k)}: ${q(value(length))}\n`),
    ].join('');
    return { path: `secrets/${s.namespace}/${s.name}.yaml`, text };
  });
}
