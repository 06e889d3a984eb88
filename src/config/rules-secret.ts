import { relativePathProblem, renderPath } from '../model/paths.js';
import type { FieldPath, Report } from './report.js';
import { resolveDerived } from './rules-derived.js';
import { secretKeys } from './rules-keys.js';
import type { SourceContext } from './rules-sources.js';
import { checkSecretType } from './rules-typed.js';
import type { RawConfig, RawSecret } from './schema.js';
import type { EnvironmentSpec, SecretSpec } from './types.js';

/** What each secret is checked against, beyond its own fields. */
export interface SecretContext extends SourceContext {
  raw: RawConfig;
  environments: EnvironmentSpec[];
  /** The output template; undefined when it is broken (reported once already). */
  output: string | undefined;
}

/**
 * The secrets, each checked: no duplicate, keys, environments, rollout paths, reserved labels
 * and annotations, an output path of its own inside the repository.
 */
export function secretSpecs(ctx: SecretContext): SecretSpec[] {
  const { fail } = ctx;
  const seenSecrets = new Map<string, number>();
  const seenPaths = new Map<string, string>();
  return ctx.raw.secrets.map((secret, kept) => {
    const i = ctx.hints?.secretIndex[kept] ?? kept;
    const path = ['secrets', i];
    const id = `${secret.namespace}/${secret.name}`;
    const first = seenSecrets.get(id);
    if (first !== undefined)
      fail([...path, 'name'], `duplicate secret ${id} (also secrets[${first}])`);
    else seenSecrets.set(id, i);

    const partial = ctx.hints?.partialSecrets.has(i) ?? false;
    const keys = resolveDerived(
      secretKeys(ctx.raw, secret, i, ctx),
      [...path, 'keys'],
      fail,
      partial,
      ctx.shared,
    );
    if (!partial) checkSecretType(secret.type, keys, path, fail, ctx.shared);
    const environments = secretEnvironments(secret, path, ctx.environments, fail);
    (secret.rollout ?? []).forEach((p, j) => {
      const problem = relativePathProblem(p);
      if (problem) fail([...path, 'rollout', j], problem);
    });
    checkReservedNames(secret, path, fail);
    if (ctx.output !== undefined) {
      const claim = { output: ctx.output, id, seenPaths };
      for (const env of environments) checkOutputPath(secret, env, claim, [...path, 'name'], fail);
    }
    return {
      name: secret.name,
      namespace: secret.namespace,
      type: secret.type ?? 'Opaque',
      restart: secret.restart,
      rollout: secret.rollout ?? [],
      labels: secret.labels ?? {},
      annotations: secret.annotations ?? {},
      environments,
      keys,
    };
  });
}

/** The environments a secret exists in: all of them unless it names some; `[undefined]` if none. */
function secretEnvironments(
  secret: RawSecret,
  path: FieldPath,
  declared: EnvironmentSpec[],
  fail: Report,
): (string | undefined)[] {
  if (declared.length === 0) {
    if (secret.environments)
      fail([...path, 'environments'], 'the config declares no top-level `environments`');
    return [undefined];
  }
  if (!secret.environments) return declared.map((e) => e.name);
  if (secret.environments.length === 0)
    fail([...path, 'environments'], 'must list at least one environment (or be left out: all)');
  const names = new Set(declared.map((e) => e.name));
  secret.environments.forEach((env, j) => {
    if (!names.has(env)) {
      fail(
        [...path, 'environments', j],
        `unknown environment "${env}"; declared: ${[...names].join(', ')}`,
      );
    }
  });
  return secret.environments;
}

/** The tool's own prefix (and its subdomains): the annotations and labels it writes itself. */
const RESERVED_PREFIX_RE = /^([^/]*\.)?gitops-secrets\.io\//i;

function checkReservedNames(secret: RawSecret, path: FieldPath, fail: Report): void {
  for (const field of ['labels', 'annotations'] as const) {
    const what = field === 'labels' ? 'label' : 'annotation';
    for (const name in secret[field])
      if (RESERVED_PREFIX_RE.test(name))
        fail(
          [...path, field, name],
          `${what} ${name} uses the prefix gitops-secrets.io/, which is reserved for what gitops-secrets writes itself (such as gitops-secrets.io/state); use a prefix of your own`,
          { key: true },
        );
  }
}

/** The file of a secret in one environment: inside the repository, and no other secret's. */
function checkOutputPath(
  secret: RawSecret,
  environment: string | undefined,
  claim: { output: string; id: string; seenPaths: Map<string, string> },
  path: FieldPath,
  fail: Report,
): void {
  const rendered = renderPath(claim.output, {
    namespace: secret.namespace,
    name: secret.name,
    environment,
  });
  const problem = relativePathProblem(rendered);
  if (problem) fail(path, `output path ${rendered} ${problem}`);
  const other = claim.seenPaths.get(rendered);
  if (other && other !== claim.id) fail(path, `output path ${rendered} is also used by ${other}`);
  claim.seenPaths.set(rendered, claim.id);
}
