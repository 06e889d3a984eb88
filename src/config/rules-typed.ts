import type { FieldPath, Report } from './report.js';
import type { KeySpec, SharedSpec } from './types.js';

/**
 * The keys Kubernetes requires of its typed Secrets (issue 23). `basic-auth` takes both
 * `username` and `password` here (Kubernetes takes either), so the login is whole.
 */
export const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/basic-auth': ['username', 'password'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
};

/** A typed Secret declares the keys its type requires (the derived ones included). */
export function checkSecretType(
  type: string | undefined,
  keys: KeySpec[],
  path: FieldPath,
  fail: Report,
  shared: Map<string, SharedSpec> = new Map(),
): void {
  const required = type === undefined ? undefined : REQUIRED_KEYS[type];
  if (!required) return;
  const names = new Set(keys.map((k) => k.name));
  const missing = required.filter((k) => !names.has(k));
  if (missing.length > 0)
    fail(
      [...path, 'type'],
      `a ${type} Secret needs the key${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}; declared: ${[...names].join(', ')}`,
    );
  if (type === 'kubernetes.io/dockerconfigjson') {
    const own = keys.find((k) => k.name === '.dockerconfigjson')?.source;
    // A shared value counts by its own source (a provided document shared by several Secrets).
    const src = own?.kind === 'shared' ? shared.get(own.from)?.source : own;
    const json =
      src === undefined || // not declared, or a broken `from` (both reported elsewhere)
      src.kind === 'provided' ||
      (src.kind === 'derived' &&
        (src.derive.kind === 'dockerconfigjson' || src.derive.kind === 'template'));
    if (!json)
      fail(
        [...path, 'keys', '.dockerconfigjson'],
        'Kubernetes reads .dockerconfigjson as a JSON document: make it with `dockerconfigjson: { registry, user, from }`, a `template`, or a provided slot (or `from:` a shared provided value)',
      );
  }
  if (type === 'kubernetes.io/ssh-auth') {
    const key = keys.find((k) => k.name === 'ssh-privatekey');
    if (key && key.source.kind !== 'ssh' && key.source.kind !== 'provided')
      fail(
        [...path, 'keys', 'ssh-privatekey'],
        'ssh-privatekey must be an SSH key (`ssh: {...}`) or a provided slot',
      );
  }
}
