import { templateProblems } from '../model/paths.js';
import { checkEncryptedRegexes } from './encrypted-regex.js';
import type { Report } from './report.js';
import { sharedSpecs } from './rules-keys.js';
import { defaultRulesBroken } from './rules-password.js';
import { secretSpecs } from './rules-secret.js';
import { environmentSpecs, sopsSettings } from './rules-sops.js';
import type { KeyDefaults } from './rules-sources.js';
import type { SalvageHints } from './salvage.js';
import type { RawConfig } from './schema.js';
import { type Config, DEFAULT_OUTPUT } from './types.js';

/**
 * The checks a schema cannot express: references, duplicates, one source per key, paths,
 * regexes, recipients. Reports every problem; returns the config when there is none. `hints`
 * come with a config that only partly passed the schema (salvage.ts).
 */
export function checkRules(
  raw: RawConfig,
  file: string,
  report: Report,
  hints?: SalvageHints,
): Config | undefined {
  let ok = true;
  const fail: Report = (path, message, options) => {
    ok = false;
    report(path, message, options);
  };

  const sops = sopsSettings(raw.sops, ['sops'], fail);
  const environments = environmentSpecs(raw, sops, fail);
  const output = raw.output ?? DEFAULT_OUTPUT;
  const outputProblems = templateProblems(output, environments.length > 0);
  for (const problem of outputProblems) fail(['output'], problem);

  const defaults: KeyDefaults = {
    length: raw.defaults?.length ?? 32,
    charset: raw.defaults?.charset ?? 'alphanumeric',
    rules: raw.defaults?.rules,
  };
  defaults.rulesBroken = defaultRulesBroken(defaults, fail);
  const shared = sharedSpecs(raw, defaults, fail);
  const secrets = secretSpecs({
    raw,
    environments,
    // A broken template was reported once above; its rendered paths would only repeat that.
    output: outputProblems.length > 0 ? undefined : output,
    defaults,
    shared,
    hasSharedSection: raw.shared !== undefined,
    fail,
    hints,
  });
  checkEncryptedRegexes(raw, environments, secrets, shared, fail);

  if (!ok) return undefined;
  return {
    file,
    output,
    ...(raw.kustomize ? { kustomize: raw.kustomize } : {}),
    sops,
    environments,
    pullRequest: {
      labels: raw.pullRequest?.labels ?? [],
      reviewers: raw.pullRequest?.reviewers ?? [],
      teamReviewers: raw.pullRequest?.teamReviewers ?? [],
    },
    shared,
    secrets,
  };
}
