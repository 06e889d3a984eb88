import type { Config, SecretSpec, SopsSettings } from '../config/types.js';
import { renderPath } from '../model/paths.js';
import type { RotateSelection } from './types.js';

/** One Secret in one environment: where its file is, and what encrypts it. */
export interface Instance {
  secret: SecretSpec;
  environment: string | undefined;
  path: string;
  id: string;
  sops: SopsSettings;
}

// Derived once per config, not once per plan: `check` makes two plans of every secret (the
// sync's and the rotation's). A Config is never changed after it is loaded.
const instanceCache = new WeakMap<Config, Instance[]>();
const consumerCache = new WeakMap<Config, Map<string, Instance[]>>();
const declaredCache = new WeakMap<SecretSpec, Set<string>>();

/** Every Secret of the config in every environment, in config order. */
export function instancesOf(config: Config): Instance[] {
  let list = instanceCache.get(config);
  if (!list) {
    list = config.secrets.flatMap((secret) =>
      secret.environments.map((environment) => ({
        secret,
        environment,
        path: renderPath(config.output, {
          namespace: secret.namespace,
          name: secret.name,
          environment,
        }),
        id: `${secret.namespace}/${secret.name}${environment ? `@${environment}` : ''}`,
        sops: config.environments.find((e) => e.name === environment)?.sops ?? config.sops,
      })),
    );
    instanceCache.set(config, list);
  }
  return list;
}

/** The instances that carry each shared value, by its name. */
export function consumersOf(config: Config): Map<string, Instance[]> {
  let map = consumerCache.get(config);
  if (!map) {
    map = new Map();
    for (const inst of instancesOf(config)) {
      const names = new Set<string>();
      for (const k of inst.secret.keys) if (k.source.kind === 'shared') names.add(k.source.from);
      for (const name of names) {
        const list = map.get(name);
        if (list) list.push(inst);
        else map.set(name, [inst]);
      }
    }
    consumerCache.set(config, map);
  }
  return map;
}

/** The data keys a secret declares, `_PREVIOUS` companions included. */
export function declaredKeys(config: Config, secret: SecretSpec): Set<string> {
  let set = declaredCache.get(secret);
  if (!set) {
    set = new Set(
      secret.keys.flatMap((k) =>
        k.keepPrevious ||
        (k.source.kind === 'shared' && config.shared.get(k.source.from)?.keepPrevious)
          ? [k.name, `${k.name}_PREVIOUS`]
          : [k.name],
      ),
    );
    declaredCache.set(secret, set);
  }
  return set;
}

/** A shared value per environment: `name` or `name@environment`. */
export function groupOf(name: string, environment: string | undefined): string {
  return environment ? `${name}@${environment}` : name;
}

export function isSelected(
  selection: RotateSelection | undefined,
  secret: SecretSpec,
  key: string | undefined,
): boolean {
  if (!selection) return true;
  if (
    selection.secrets.length > 0 &&
    !selection.secrets.includes(`${secret.namespace}/${secret.name}`)
  )
    return false;
  if (selection.key !== undefined && key !== undefined && selection.key !== key) return false;
  return true;
}

/**
 * The manifests a `rotate --secret ...` can touch: those of the selected secrets, and of every
 * secret that shares a value with one of them (a shared value rotates in all its consumers).
 * Undefined when nothing is selected: a scheduled rotation looks at every manifest. Reading only
 * these keeps a rotation of 100 secrets in a repo of 10,000 from parsing the other 9,900.
 */
export function selectionPaths(
  config: Config,
  selection: RotateSelection | undefined,
): Set<string> | undefined {
  if (!selection || selection.secrets.length === 0) return undefined;
  const selected = config.secrets.filter((s) => isSelected(selection, s, undefined));
  const sharedNames = new Set(
    selected.flatMap((s) =>
      s.keys.flatMap((k) => (k.source.kind === 'shared' ? [k.source.from] : [])),
    ),
  );
  const touches = (secret: Config['secrets'][number]) =>
    selected.includes(secret) ||
    secret.keys.some((k) => k.source.kind === 'shared' && sharedNames.has(k.source.from));
  return new Set(
    instancesOf(config)
      .filter((i) => touches(i.secret))
      .map((i) => i.path),
  );
}
