/**
 * The benchmark's GitOps repo contents: a config with N secrets of mixed sources, the plaintext
 * manifests sops gets for them (for the sops floor), and a 10×N copy for `check`.
 *
 * The config is written in flow style, one line per secret, with short key names: the tool
 * refuses configs over 1 MiB (MAX_CONFIG_BYTES in src/config/load.ts), and 10,000 secrets in
 * block style with longer key names do not fit in that.
 */

import type { Config } from '../src/config/types.js';
import { type ManifestState, renderPlainSecret } from '../src/model/manifest.js';
import { renderPath } from '../src/model/paths.js';
import { cryptoRandom, generateValue } from '../src/model/random.js';

/** Random strings of several charsets and lengths (`~`: the defaults, 32 alphanumeric). */
const PASSWORD = [
  '~',
  '{length: 45}',
  '{length: 24, charset: printable}',
  '{length: 64, charset: hex}',
  '{length: 20, chars: abcdef123456}',
];
const TOKEN = [
  '{length: 43, charset: base64url}',
  '{length: 8, charset: numeric}',
  '{charset: lower}',
];
/** Random bytes in each encoding. */
const BYTES = ['{bytes: 32}', '{bytes: 16, encoding: hex}', '{bytes: 24, encoding: base64url}'];
export const SHARED_GROUPS = 10;

export interface BenchSecret {
  index: number;
  name: string;
  namespace: string;
  /** Key name → flow-style YAML spec. */
  keys: [string, string][];
}

/** Secret i: 3 to 6 keys: random strings, bytes, a uuid on every 2nd, a shared value on every
 * 4th, a provided slot on every 20th. */
export function benchSecret(i: number, copy = 0): BenchSecret {
  const keys: [string, string][] = [
    ['pass', PASSWORD[i % PASSWORD.length]!],
    ['tok', TOKEN[i % TOKEN.length]!],
    ['key', BYTES[(i + 1) % BYTES.length]!],
  ];
  if (i % 2 === 0) keys.push(['id', '{uuid: true}']);
  if (i % 4 === 1) keys.push(['db', `{from: db${i % SHARED_GROUPS}}`]);
  if (i % 20 === 5) keys.push(['api', '{provided: true, description: API token}']);
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
  const keys = s.keys.map(([k, v]) => `${k}: ${compact ? compactSpec(v) : v}`).join(', ');
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
    (_, g) => `  db${g}: {length: 40, rotateEvery: 30d}`,
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
 * The plaintext manifests the tool gives sops for a first sync of this config: the same
 * renderer, value generators and state annotation, so the floor encrypts the same bytes.
 */
export function plaintextManifests(config: Config, now: Date): Plaintext[] {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const shared = new Map<string, string>();
  for (const [name, spec] of config.shared) {
    if (spec.source.kind !== 'provided') shared.set(name, generateValue(spec.source, cryptoRandom));
  }
  return config.secrets.map((secret) => {
    const data = new Map<string, string>();
    const state: ManifestState = { version: 1, keys: {} };
    for (const key of secret.keys) {
      const src = key.source;
      if (src.kind === 'provided') continue;
      const value = src.kind === 'shared' ? shared.get(src.from) : generateValue(src, cryptoRandom);
      if (value === undefined) continue;
      data.set(key.name, value);
      state.keys[key.name] = {
        generated: stamp,
        rotated: stamp,
        ...(src.kind === 'shared' ? { shared: src.from } : {}),
      };
    }
    return {
      path: renderPath(config.output, {
        namespace: secret.namespace,
        name: secret.name,
        environment: undefined,
      }),
      text: renderPlainSecret({
        name: secret.name,
        namespace: secret.namespace,
        type: secret.type,
        labels: secret.labels,
        annotations: secret.annotations,
        state,
        data,
      }),
    };
  });
}
