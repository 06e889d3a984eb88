import { readManifestsFromDisk } from '../apply/repo-state.js';
import type { Config, KeySource, KeySpec } from '../config/types.js';
import type { ManifestPrefetch } from '../core/manifest-prefetch.js';
import { isProblem } from '../model/manifest.js';
import { renderPath } from '../model/paths.js';
import { nextDue } from '../plan/plan.js';

export interface ListedKey {
  key: string;
  source: string;
  state: 'present' | 'missing' | 'needs input' | 'due' | 'unreadable';
  lastRotated: string | null;
  nextDue: string | null;
}

export interface ListedSecret {
  id: string;
  namespace: string;
  name: string;
  environment: string | null;
  path: string;
  keys: ListedKey[];
}

export interface ListedShared {
  name: string;
  environment: string | null;
  source: string;
  state: ListedKey['state'];
  lastRotated: string | null;
  nextDue: string | null;
  usedBy: { secret: string; key: string; path: string }[];
}

export interface ListResult {
  secrets: ListedSecret[];
  shared: ListedShared[];
}

export function describeSource(source: KeySource): string {
  switch (source.kind) {
    case 'random':
      return `generated: ${source.length} ${source.charset === 'custom' ? 'chosen' : source.charset} characters`;
    case 'bytes':
      return `generated: ${source.bytes} bytes, ${source.encoding}`;
    case 'uuid':
      return 'generated: uuid v4';
    case 'provided':
      return `provided: ${source.description}`;
    case 'shared':
      return `shared: ${source.from}`;
  }
}

/** Every secret and shared value with its state, from plaintext metadata only. */
export async function list(
  config: Config,
  root: string,
  now: Date,
  prefetch?: ManifestPrefetch,
): Promise<ListResult> {
  const existing = await readManifestsFromDisk(root, config, prefetch);
  const secrets: ListedSecret[] = [];
  const shared = new Map<string, ListedShared>();
  for (const secret of config.secrets) {
    for (const environment of secret.environments) {
      const path = renderPath(config.output, {
        namespace: secret.namespace,
        name: secret.name,
        environment,
      });
      const info = existing.get(path);
      const keys: ListedKey[] = secret.keys.map((key: KeySpec) => {
        const policy =
          key.source.kind === 'shared'
            ? config.shared.get(key.source.from)?.rotateEvery
            : key.rotateEvery;
        if (info && isProblem(info))
          return {
            key: key.name,
            source: describeSource(key.source),
            state: 'unreadable',
            lastRotated: null,
            nextDue: null,
          };
        const present = info?.dataKeys.includes(key.name) ?? false;
        const st = info?.state.keys[key.name];
        const due = present ? nextDue(policy, st?.rotated) : undefined;
        const state: ListedKey['state'] = !present
          ? key.source.kind === 'provided' ||
            (key.source.kind === 'shared' &&
              config.shared.get(key.source.from)?.source.kind === 'provided')
            ? 'needs input'
            : 'missing'
          : due && Date.parse(due) <= now.getTime()
            ? 'due'
            : 'present';
        return {
          key: key.name,
          source: describeSource(key.source),
          state,
          lastRotated: present ? (st?.rotated ?? null) : null,
          nextDue: due ?? null,
        };
      });
      const id = `${secret.namespace}/${secret.name}`;
      secrets.push({
        id,
        namespace: secret.namespace,
        name: secret.name,
        environment: environment ?? null,
        path,
        keys,
      });
      for (const [i, key] of secret.keys.entries()) {
        if (key.source.kind !== 'shared') continue;
        const spec = config.shared.get(key.source.from)!;
        const group = `${key.source.from}\0${environment ?? ''}`;
        const entry = shared.get(group) ?? {
          name: key.source.from,
          environment: environment ?? null,
          source: describeSource(spec.source),
          state: 'missing' as ListedKey['state'],
          lastRotated: null,
          nextDue: null,
          usedBy: [],
        };
        const listed = keys[i]!;
        entry.usedBy.push({ secret: id, key: key.name, path });
        if (listed.lastRotated && (!entry.lastRotated || listed.lastRotated > entry.lastRotated)) {
          entry.lastRotated = listed.lastRotated;
          entry.nextDue = listed.nextDue;
          entry.state = listed.state;
        } else if (!entry.lastRotated && listed.state === 'needs input')
          entry.state = 'needs input';
        shared.set(group, entry);
      }
    }
  }
  return { secrets, shared: [...shared.values()] };
}
