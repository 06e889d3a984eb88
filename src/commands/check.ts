import { readManifestsFromDisk } from '../apply/repo-state.js';
import { readRepoText } from '../config/repo-file.js';
import type { Config } from '../config/types.js';
import type { ManifestPrefetch } from '../core/manifest-prefetch.js';
import { ConfigError } from '../errors.js';
import { isProblem } from '../model/manifest.js';
import { readSopsRules } from '../model/recipients.js';
import { checkSopsYaml } from '../model/sops-yaml-check.js';
import { plan as makePlan, type Plan } from '../plan/plan.js';
import { type ChangeRow, changeRows } from '../plan/summary.js';

export interface CheckResult {
  pending: boolean;
  /** Keys to generate, slots to fill, keys to remove, re-encryptions. */
  sync: ChangeRow[];
  /** Keys due for rotation (and provided slots due for a new value). */
  due: ChangeRow[];
  orphans: Plan['orphans'];
  problems: Plan['problems'];
  /** Consumers of one shared value whose recorded rotation dates differ. */
  sharedDrift: { shared: string; paths: string[] }[];
  secrets: number;
}

/** Reports pending work from plaintext metadata alone: no private key, no sops process. */
export async function check(
  config: Config,
  root: string,
  now: Date,
  prefetch?: ManifestPrefetch,
): Promise<CheckResult> {
  const existing = await readManifestsFromDisk(root, config, prefetch);
  const sopsYaml = config.sops.hasRecipients
    ? undefined
    : await readRepoText(root, '.sops.yaml', 'sops config');
  // The same refusal as sync: a .sops.yaml rule that would leave values unencrypted.
  const selectors = checkSopsYaml(config, sopsYaml);
  if (selectors.problems.length > 0) throw new ConfigError(selectors.problems);
  const syncPlan = makePlan({
    config,
    job: 'sync',
    existing,
    now,
    sopsRules: readSopsRules(sopsYaml),
  });
  const rotatePlan = makePlan({ config, job: 'rotate', existing, now });
  const empty = new Map();
  const sync = changeRows(syncPlan, empty, empty).filter((r) => r.action !== 'removed');
  const due = changeRows(rotatePlan, empty, empty).filter(
    (r) => !r.key.endsWith('_PREVIOUS') || r.action === 'needs input',
  );

  // Consumers of one shared value must record the same rotation; a key added by hand records
  // none. Either means the values may differ (checked without decrypting).
  const byShared = new Map<string, Map<string, string>>();
  for (const file of syncPlan.files) {
    const info = existing.get(file.path);
    if (!info || isProblem(info)) continue;
    for (const key of file.secret.keys) {
      if (key.source.kind !== 'shared' || !info.dataKeys.includes(key.name)) continue;
      const st = info.state.keys[key.name];
      const group = file.environment ? `${key.source.from}@${file.environment}` : key.source.from;
      const m = byShared.get(group) ?? new Map<string, string>();
      m.set(`${file.path}#${key.name}`, st?.shared === key.source.from ? st.rotated : 'unrecorded');
      byShared.set(group, m);
    }
  }
  const sharedDrift = [...byShared]
    .filter(([, m]) => new Set(m.values()).size > 1 || [...m.values()].includes('unrecorded'))
    .map(([shared, m]) => ({ shared, paths: [...m.keys()].sort() }));

  const pending =
    sync.length > 0 ||
    due.length > 0 ||
    syncPlan.orphans.length > 0 ||
    syncPlan.problems.length > 0 ||
    sharedDrift.length > 0;
  return {
    pending,
    sync,
    due,
    orphans: syncPlan.orphans,
    problems: syncPlan.problems,
    sharedDrift,
    secrets: syncPlan.files.length,
  };
}
