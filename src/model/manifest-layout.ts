import { STATE_ANNOTATION } from './state.js';

/** Fields of a `sops` block that change on every encryption. */
const VOLATILE_SOPS = new Set(['lastmodified', 'mac', 'version', 'enc', 'created_at']);

type Mapping = Record<string, unknown>;

/**
 * What a whole new encryption of a Secret must leave as it is, as JSON: everything but the values
 * under `data`, the state annotation and the sops fields that change on every encryption. So:
 * metadata (hand-added labels and annotations too), type, any other field, and the sops block's
 * recipients, key groups and encryption settings. Taken from a document already parsed (the
 * manifest as read, the ciphertext as guarded), never from text. Key order counts: two layouts
 * that differ in order only are different, and the file is changed key by key (never wrong,
 * only slower; sops keeps the order of what it is given).
 */
export function layoutOf(doc: Mapping): string {
  const { data: _data, sops, metadata, ...rest } = doc;
  const meta = { ...(metadata as Mapping | undefined) };
  const annotations = { ...(meta.annotations as Mapping | undefined) };
  delete annotations[STATE_ANNOTATION];
  meta.annotations = annotations;
  return JSON.stringify({ ...rest, metadata: meta, sops: withoutVolatile(sops) });
}

function withoutVolatile(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutVolatile);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => !VOLATILE_SOPS.has(k))
      .map(([k, v]) => [k, withoutVolatile(v)]),
  );
}
