import type { Node } from 'yaml';
import type { Config, SopsSettings } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';
import { encryptionProblem, secretDataKeys } from './encryption-selectors.js';
import { renderPath } from './paths.js';
import { type CreationRule, ruleFor, type SelectorField, type SopsYaml } from './sops-yaml.js';

export const SOPS_YAML = '.sops.yaml';

/** What the `.sops.yaml` creation rules mean for the config's output files. */
export interface SopsYamlCheck {
  problems: ConfigProblem[];
  /** Output paths whose rule sets a (safe) selector of its own: no --encrypted-regex for them. */
  ruleSelects: Set<string>;
}

/**
 * Checks, for every output file of the config, the selector of the `.sops.yaml` creation rule
 * sops picks for it (the first whose path_regex matches the repo-relative path): more than one
 * selector, a selector that would leave values unencrypted (src/model/encryption-selectors.ts),
 * or one next to the config's own `encryptedRegex` that sops would refuse (sops takes the
 * flag over the rule's `encrypted_regex` only) are config errors at `.sops.yaml:line:column`.
 */
export function checkSopsYaml(config: Config, sopsYaml: SopsYaml | undefined): SopsYamlCheck {
  const result: SopsYamlCheck = { problems: [], ruleSelects: new Set() };
  if (!sopsYaml) return result; // none, or one sops reports itself
  const { lines } = sopsYaml;
  const reported = new Set<Node>();
  const report = (rule: CreationRule, field: SelectorField, message: string) => {
    if (reported.has(field.node)) return;
    reported.add(field.node);
    const { line, col } = lines.linePos(field.node.range?.[0] ?? 0);
    result.problems.push({
      file: SOPS_YAML,
      line,
      column: col,
      path: `creation_rules[${rule.index}].${field.name}`,
      message,
    });
  };
  for (const secret of config.secrets) {
    let keys: string[] | undefined;
    for (const env of secret.environments) {
      const path = renderPath(config.output, {
        namespace: secret.namespace,
        name: secret.name,
        environment: env,
      });
      const rule = ruleFor(sopsYaml, path);
      if (!rule || rule.broken) continue;
      const [first, second] = rule.selectors;
      if (!first) continue;
      if (second) {
        report(rule, second, `sops allows one selector per rule; this one also sets ${first.name}`);
        continue;
      }
      const settings = settingsOf(config, env);
      if (settings.ownEncryptedRegex) {
        if (first.name !== 'encrypted_regex')
          report(
            rule,
            first,
            `sops cannot combine it with sops.encryptedRegex of ${config.file} (for ${path}); remove one of the two`,
          );
        continue; // the config's regex is passed and taken over the rule's (checked with the config)
      }
      keys ??= secretDataKeys(secret, config.shared);
      const problem = encryptionProblem({ [first.name]: first.value }, keys);
      if (problem) report(rule, first, `${problem} (for ${path})`);
      else result.ruleSelects.add(path);
    }
  }
  return result;
}

function settingsOf(config: Config, env: string | undefined): SopsSettings {
  return (env && config.environments.find((e) => e.name === env)?.sops) || config.sops;
}

/** The settings of a file whose `.sops.yaml` rule selects: no --encrypted-regex. */
export function ruleSelected(settings: SopsSettings): SopsSettings {
  return { ...settings, encryptedRegex: '' };
}
