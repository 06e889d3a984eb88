import { parseDocument } from 'yaml';
import { isCiphertext } from './ciphertext-guard.js';
import { layoutOf } from './manifest-layout.js';
import { recipientsOfBlock } from './recipients.js';
import {
  emptyState,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  type ManifestState,
  parseState,
  STATE_ANNOTATION,
} from './state.js';

export { type PlainSecret, renderPlainSecret } from './manifest-render.js';
export * from './state.js';

/** A manifest as read from the repo without decrypting anything. */
export interface ManifestInfo {
  path: string;
  name: string;
  namespace: string;
  /** Keys under `data:` (names are plaintext; values are sops ciphertext). */
  dataKeys: string[];
  state: ManifestState;
  /** Recipients recorded in the file's `sops` section, e.g. `age:age1...` (model/recipients.ts). */
  recipients: string[];
  managed: boolean;
  /**
   * What a whole new encryption must leave as it is (model/manifest-layout.ts): apply encrypts
   * an existing file again whole only when the result has the same layout. Undefined: unknown,
   * the file is changed key by key.
   */
  layout?: string;
  /** The plaintext metadata the config declares too (plan/metadata.ts compares them). */
  metadata?: ManifestMeta;
}

/** A manifest's `type`, labels and annotations, but the tool's own label and state annotation. */
export interface ManifestMeta {
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Why a file at a managed path cannot be used as it is. */
export interface ManifestProblem {
  path: string;
  problem: string;
  remedy: string;
}

export function isProblem(m: ManifestInfo | ManifestProblem): m is ManifestProblem {
  return 'problem' in m;
}

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const NOT_YAML = 'is not valid YAML';

/** The document as plain data, or the problem that stops it being read. */
function readYaml(path: string, text: string): { data: unknown } | ManifestProblem {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0)
    return {
      path,
      problem: NOT_YAML,
      remedy: 'restore it from git history, or delete it and run sync',
    };
  try {
    return { data: doc.toJS({ maxAliasCount: 50 }) };
  } catch {
    return { path, problem: NOT_YAML, remedy: 'restore it from git history' };
  }
}

/**
 * Reads the plaintext parts of an encrypted manifest: key names, the state annotation and the
 * recipients. Never decrypts. Returns a problem for anything the tool must not touch.
 */
export function readManifest(path: string, text: string): ManifestInfo | ManifestProblem {
  const read = readYaml(path, text);
  return 'data' in read ? manifestOf(path, read.data) : read;
}

/** The same, of a manifest already parsed (the document the ciphertext guard read). */
export function manifestOf(path: string, data: unknown): ManifestInfo | ManifestProblem {
  if (!isMapping(data))
    return {
      path,
      problem: 'is not a Kubernetes manifest',
      remedy: 'move it out of the output path',
    };
  if (data.kind !== 'Secret' || data.apiVersion !== 'v1') {
    return {
      path,
      problem: `is a ${String(data.kind ?? 'document')}, not a v1 Secret`,
      remedy: 'move it away from the output path of the config, or change `output`',
    };
  }
  const sops = data.sops;
  if (!isMapping(sops) || typeof sops.mac !== 'string') {
    return {
      path,
      problem: 'is not encrypted with sops (no sops section)',
      remedy: 'encrypt it with `sops encrypt -i`, or delete it so that sync regenerates it',
    };
  }
  const meta = (data.metadata ?? {}) as Mapping;
  const annotations = (meta.annotations ?? {}) as Mapping;
  const labels = (meta.labels ?? {}) as Mapping;
  const rawState = annotations[STATE_ANNOTATION];
  const state = parseState(rawState);
  if (rawState !== undefined && !state) {
    return {
      path,
      problem: `has an unreadable ${STATE_ANNOTATION} annotation`,
      remedy: 'restore the annotation from git history (it is covered by the sops MAC)',
    };
  }
  const dataKeys: string[] = [];
  if (isMapping(data.data)) {
    for (const [k, v] of Object.entries(data.data)) {
      if (!isCiphertext(v)) {
        return {
          path,
          problem: `has a plaintext value under data.${k}`,
          remedy: 'remove the plaintext value from the file and from git history, then run sync',
        };
      }
      dataKeys.push(k);
    }
  }
  // A copy that shares no string with the text: V8 keeps a whole text alive through any substring
  // of it (a recipient, a long key name), and `check` keeps 10,000 of these (22 MB less).
  return structuredClone({
    path,
    name: String(meta.name ?? ''),
    namespace: String(meta.namespace ?? ''),
    dataKeys,
    state: state ?? emptyState(),
    recipients: recipientsOfBlock(sops),
    managed: labels[MANAGED_BY_LABEL] === MANAGED_BY || state !== undefined,
    layout: layoutOf(data),
    metadata: {
      type: data.type === undefined ? 'Opaque' : String(data.type),
      labels: strings(labels, MANAGED_BY_LABEL),
      annotations: strings(annotations, STATE_ANNOTATION),
    },
  });
}

/** A mapping's entries as strings, but the tool's own `skip` (kept by itself elsewhere). */
function strings(m: unknown, skip: string): Record<string, string> {
  if (!isMapping(m)) return {};
  return Object.fromEntries(
    Object.entries(m)
      .filter(([k]) => k !== skip)
      .map(([k, v]) => [k, String(v)]),
  );
}
