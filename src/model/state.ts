export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'gitops-secrets';
export const STATE_ANNOTATION = 'gitops-secrets.io/state';

/** What the tool records per key, in plaintext, so decisions need no private key. */
export interface KeyState {
  /** When the current value was first written (ISO-8601, UTC). */
  generated: string;
  /** When the current value was last written by a rotation or `set` (equals `generated` at first). */
  rotated: string;
  /** The shared value this key carries, if any. */
  shared?: string;
  /** The key is filled by a person. */
  provided?: boolean;
  /** This key holds the value before the last rotation of the named key. */
  previousOf?: string;
  /** A derived key (issue 23): the fingerprint of its definition when it was made. */
  derived?: string;
  /** An SSH key (issue 23): its type when it was made, `ed25519` or `rsa-<bits>`. */
  ssh?: string;
  /**
   * The current value was written by `rotate --force` (even if it was due by its policy); the
   * next write of the key that is not forced leaves it out. Absent in manifests of older runs.
   */
  forced?: true;
}

export interface ManifestState {
  version: 1;
  keys: Record<string, KeyState>;
}

export function emptyState(): ManifestState {
  return { version: 1, keys: {} };
}

/** Serializes the state annotation: one line, keys sorted, so diffs stay small. */
export function stateToString(state: ManifestState): string {
  const keys: Record<string, KeyState> = {};
  for (const name of Object.keys(state.keys).sort()) {
    const k = state.keys[name]!;
    keys[name] = Object.fromEntries(
      Object.entries(k).filter(([, v]) => v !== undefined),
    ) as unknown as KeyState;
  }
  return JSON.stringify({ version: 1, keys });
}

export function parseState(text: unknown): ManifestState | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const data = JSON.parse(text) as { version?: unknown; keys?: unknown };
    if (data.version !== 1 || !data.keys || typeof data.keys !== 'object') return undefined;
    const keys: Record<string, KeyState> = {};
    for (const [name, raw] of Object.entries(data.keys as Record<string, unknown>)) {
      const k = raw as Partial<KeyState>;
      if (typeof k.generated !== 'string' || typeof k.rotated !== 'string') return undefined;
      const { forced, ...rest } = k;
      keys[name] = (forced === true ? { ...rest, forced } : rest) as KeyState;
    }
    return { version: 1, keys };
  } catch {
    return undefined;
  }
}
