import { isProblem, type ManifestInfo, type ManifestProblem } from '../model/manifest.js';
import { templateMatcher } from '../model/paths.js';
import { recipientChange, recipientsOfSettings } from '../model/recipients.js';
import { followInputs } from './derived.js';
import { type Instance, instancesOf } from './instances.js';
import { keyChanges } from './keys.js';
import { metadataDrift } from './metadata.js';
import { dueShared, findHolders, type PlanContext } from './shared.js';
import { compareText } from './text-order.js';
import { holdTyped } from './typed.js';
import type { FilePlan, Orphan, Plan, PlanInput } from './types.js';

export { selectionPaths } from './instances.js';
export { dueReason, nextDue } from './rotation.js';
export type * from './types.js';

/** Decides what to do. Pure: no I/O, no clock, no randomness. */
export function plan(input: PlanInput): Plan {
  const instances = instancesOf(input.config);
  const selection = input.job === 'rotate' ? input.rotate : undefined;
  const holders = findHolders(instances, input.existing);
  const ctx: PlanContext = {
    input,
    selection,
    holders,
    needs: new Map(),
    due: dueShared(input, holders, selection),
  };
  const files: FilePlan[] = [];
  const problems: ManifestProblem[] = [];
  for (const inst of instances) {
    const found = input.existing.get(inst.path);
    const problem = found && (isProblem(found) ? found : otherSecret(inst, found));
    if (problem) {
      problems.push(problem);
      continue;
    }
    const info = found as ManifestInfo | undefined;
    const held = info ?? { dataKeys: [], state: { keys: {} } };
    const changes = holdTyped(
      inst.secret,
      followInputs(inst.secret, keyChanges(ctx, inst, info), input.job, held),
      info !== undefined,
    );
    const drift =
      input.job === 'sync' && info?.metadata && metadataDrift(inst.secret, info.metadata);
    if (drift) changes.push({ key: '*', action: 'metadata', reason: drift.text });
    // The file's recipients against the config's, else against its `.sops.yaml` rule's.
    const wanted = recipientsOfSettings(inst.sops) ?? input.sopsRules?.(inst.path);
    files.push({
      path: inst.path,
      id: inst.id,
      secret: inst.secret,
      environment: inst.environment,
      sops: inst.sops,
      exists: info !== undefined,
      changes,
      reencrypt:
        input.job === 'sync' && info ? recipientChange(wanted, info.recipients) : undefined,
    });
  }
  const prune = input.prune ?? false;
  return {
    job: input.job,
    now: input.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    files,
    shared: [...ctx.needs.values()],
    orphans: orphansOf(input, files, prune),
    problems,
    prune,
  };
}

/**
 * Managed files the config no longer has a Secret for, and keys it no longer declares. Without
 * `prune` the removals stay out of the files' changes (they are only reported).
 */
function orphansOf(input: PlanInput, files: FilePlan[], prune: boolean): Orphan[] {
  const desired = new Set(instancesOf(input.config).map((i) => i.path));
  const matcher = templateMatcher(input.config.output);
  const orphans: Orphan[] = [];
  for (const [path, info] of input.existing) {
    if (desired.has(path) || isProblem(info) || !info.managed || !matcher.test(path)) continue;
    orphans.push({ path, keys: [], id: `${info.namespace}/${info.name}` });
  }
  for (const f of files) {
    const removed = f.changes.filter((c) => c.action === 'remove');
    if (removed.length > 0)
      orphans.push({ path: f.path, keys: removed.map((c) => c.key), id: f.id });
    if (!prune) f.changes = f.changes.filter((c) => c.action !== 'remove');
  }
  return orphans.sort((a, b) => compareText(a.path, b.path));
}

/** True when applying the plan would change no file. */
export function isEmptyPlan(p: Plan): boolean {
  return (
    p.files.every(
      (f) => f.reencrypt === undefined && f.changes.every((c) => c.action === 'needs-input'),
    ) && !(p.prune && p.orphans.some((o) => o.keys.length === 0))
  );
}

/**
 * A manifest at a Secret's path that holds another Secret (copied or renamed by hand): applying
 * it would create that other one, and the declared Secret would never exist.
 */
function otherSecret(inst: Instance, info: ManifestInfo): ManifestProblem | undefined {
  const { name, namespace } = inst.secret;
  if (info.name === name && (info.namespace === '' || info.namespace === namespace))
    return undefined;
  return {
    path: inst.path,
    problem: `holds the Secret ${info.namespace || '(no namespace)'}/${info.name}, not ${namespace}/${name} that the config puts here`,
    remedy: 'restore the file from git history, or delete it so that sync writes it again',
  };
}
