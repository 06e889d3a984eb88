import type { SecretSpec } from '../config/types.js';
import { MANAGED_BY_LABEL, type ManifestMeta, STATE_ANNOTATION } from '../model/manifest.js';

/**
 * What `sync` sets in a manifest's plaintext metadata so that it says what the config declares:
 * the labels and annotations to set (added or changed), and the new type. `text` names each
 * difference for people: `label team added, type Opaque → kubernetes.io/basic-auth`.
 */
export interface MetadataDrift {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  type?: string;
  text: string;
}

/**
 * The config's labels, annotations and type against the manifest's (read without decrypting).
 * The tool's own label (`app.kubernetes.io/managed-by`) and state annotation are never drift.
 * A label or annotation only in the manifest is not drift either: it stays as it is (a person or
 * another tool may have added it; docs/config.md). Undefined when they agree.
 */
export function metadataDrift(
  secret: Pick<SecretSpec, 'type' | 'labels' | 'annotations'>,
  meta: ManifestMeta,
): MetadataDrift | undefined {
  const parts: string[] = [];
  const labels = entriesToSet('label', secret.labels, meta.labels, MANAGED_BY_LABEL, parts);
  const annotations = entriesToSet(
    'annotation',
    secret.annotations,
    meta.annotations,
    STATE_ANNOTATION,
    parts,
  );
  const type = secret.type !== meta.type ? secret.type : undefined;
  if (type !== undefined) parts.push(`type ${meta.type} → ${type}`);
  if (parts.length === 0) return undefined;
  return { labels, annotations, ...(type !== undefined ? { type } : {}), text: parts.join(', ') };
}

/** The entries of `wanted` that `actual` lacks or holds with another value. */
function entriesToSet(
  what: string,
  wanted: Record<string, string>,
  actual: Record<string, string>,
  own: string,
  parts: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) {
    if (k === own || actual[k] === v) continue;
    out[k] = v;
    parts.push(`${what} ${k} ${Object.hasOwn(actual, k) ? 'changed' : 'added'}`);
  }
  return out;
}
