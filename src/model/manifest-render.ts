import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  type ManifestState,
  STATE_ANNOTATION,
  stateToString,
} from './state.js';

export interface PlainSecret {
  name: string;
  namespace: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: ManifestState;
  /** Plaintext values; they only ever go to sops's stdin. */
  data: Map<string, string>;
}

/**
 * Characters JSON leaves as they are that go-yaml (sops) reads differently inside a double-quoted
 * scalar: U+0085, U+2028 and U+2029 are line breaks to it (folded into spaces), and DEL, the C1
 * controls, U+FEFF, U+FFFE and U+FFFF are refused. Written as \u escapes, they read back as
 * themselves.
 */
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** A string as a YAML double-quoted scalar that go-yaml reads back exactly. */
export function yamlString(value: string): string {
  return JSON.stringify(value).replace(
    YAML_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The plaintext Kubernetes Secret that sops encrypts from stdin. Values are base64 under `data`.
 * Every scalar is written as a JSON string (`yamlString`), which YAML reads as a double-quoted
 * scalar, so no name, label or value can be taken for a number, a boolean or YAML syntax, and
 * the characters go-yaml reads differently are escaped. sops re-emits the document in its own
 * style, so the quoting never shows.
 */
export function renderPlainSecret(secret: PlainSecret): string {
  const q = yamlString;
  const map = (indent: string, entries: [string, string][]) =>
    entries.map(([k, v]) => `${indent}${q(k)}: ${q(v)}\n`).join('');
  const labels = Object.entries({ ...secret.labels, [MANAGED_BY_LABEL]: MANAGED_BY });
  const annotations = Object.entries({
    ...secret.annotations,
    [STATE_ANNOTATION]: stateToString(secret.state),
  });
  const data = [...secret.data.keys()]
    .sort()
    .map((k): [string, string] => [k, Buffer.from(secret.data.get(k)!, 'utf8').toString('base64')]);
  return [
    'apiVersion: v1\n',
    'kind: Secret\n',
    'metadata:\n',
    `  name: ${q(secret.name)}\n`,
    `  namespace: ${q(secret.namespace)}\n`,
    '  labels:\n',
    map('    ', labels),
    '  annotations:\n',
    map('    ', annotations),
    `type: ${q(secret.type)}\n`,
    data.length > 0 ? `data:\n${map('  ', data)}` : 'data: {}\n',
  ].join('');
}
