import { parse } from 'yaml';
import { ExternalError } from '../errors.js';
import { type KeyState, STATE_ANNOTATION } from '../model/manifest.js';
import type { FilePlan, KeyChange } from '../plan/plan.js';

/** The state annotation's entry for a key a change writes. */
export function keyState(
  file: FilePlan,
  change: KeyChange,
  now: string,
  before: KeyState | undefined,
): KeyState {
  if (change.value?.kind === 'carried') return change.value.state;
  const spec = file.secret.keys.find((k) => k.name === change.key);
  const shared = spec?.source.kind === 'shared' ? spec.source.from : undefined;
  const previousOf = change.value?.kind === 'previous' ? change.value.of : undefined;
  return {
    generated:
      (change.action === 'rotate' || change.action === 'set') && before ? before.generated : now,
    rotated: now,
    ...(shared ? { shared } : {}),
    ...(spec?.source.kind === 'provided' ? { provided: true } : {}),
    ...(previousOf ? { previousOf } : {}),
  };
}

/** Plaintext values of a decrypted manifest, decoded from base64; kept in memory only. */
export function decodeData(text: string, path: string): Record<string, string> {
  const doc = parse(text) as { data?: Record<string, unknown> } | null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc?.data ?? {})) {
    if (typeof v !== 'string')
      throw new ExternalError('sops', `${path}: data.${k} is not a string after decrypting`);
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return out;
}

/** Fields of the `sops` section that change on every encryption. */
const VOLATILE_SOPS = new Set(['lastmodified', 'mac', 'version', 'enc', 'created_at']);

/**
 * True when two encrypted Secrets differ only in their values, their state annotation and the
 * sops fields that change on every encryption: same metadata, type, recipients, key groups and
 * encryption settings.
 */
export function sameButValues(before: string, after: string): boolean {
  const a = shape(before);
  return a !== undefined && a === shape(after);
}

function shape(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const { data: _data, sops, metadata, ...rest } = doc as Record<string, unknown>;
  const meta = { ...(metadata as Record<string, unknown> | undefined) };
  const annotations = { ...(meta.annotations as Record<string, unknown> | undefined) };
  delete annotations[STATE_ANNOTATION];
  meta.annotations = annotations;
  return canonical({ ...rest, metadata: meta, sops: stripVolatile(sops) });
}

function stripVolatile(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripVolatile);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => !VOLATILE_SOPS.has(k))
      .map(([k, v]) => [k, stripVolatile(v)]),
  );
}

/** JSON with object keys sorted, so that key order does not matter. */
function canonical(node: unknown): string {
  if (Array.isArray(node)) return `[${node.map(canonical).join(',')}]`;
  if (node && typeof node === 'object') {
    const entries = Object.entries(node).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(node) ?? 'undefined';
}
