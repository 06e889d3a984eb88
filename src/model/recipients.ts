import { parse } from 'yaml';
import { readYamlSubset } from './manifest.js';

/** The recipients a `.sops.yaml` creation rule gives a path, as `age:…`, `pgp:…`, `kms:…`, `gcpKms:…`. */
export type SopsRules = (path: string) => string[] | undefined;

interface Rule {
  path_regex?: unknown;
  age?: unknown;
  pgp?: unknown;
  kms?: unknown;
  gcp_kms?: unknown;
  key_groups?: unknown;
}

function list(value: unknown): string[] {
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(value))
    return value.filter((v): v is string => typeof v === 'string').map((s) => s.trim());
  return [];
}

/**
 * Reads the creation rules of a `.sops.yaml`, as sops picks them: the first rule whose
 * `path_regex` matches the repo-relative path. Rules with `key_groups` are not compared (the
 * answer is undefined: no drift is reported for them), nor are unreadable files.
 */
export function readSopsRules(text: string | undefined): SopsRules {
  if (!text) return () => undefined;
  let rules: Rule[] = [];
  try {
    // The subset reader (warm from the manifests) takes a plain .sops.yaml as the yaml package
    // would read it; anything else goes to the yaml package.
    const doc = (readYamlSubset(text) ?? parse(text)) as { creation_rules?: unknown } | null;
    if (Array.isArray(doc?.creation_rules)) rules = doc.creation_rules as Rule[];
  } catch {
    return () => undefined;
  }
  return (path) => {
    for (const rule of rules) {
      if (typeof rule.path_regex === 'string') {
        let re: RegExp;
        try {
          re = new RegExp(rule.path_regex);
        } catch {
          return undefined;
        }
        if (!re.test(path)) continue;
      }
      if (rule.key_groups !== undefined) return undefined;
      return [
        ...list(rule.age).map((r) => `age:${r}`),
        ...list(rule.pgp).map((r) => `pgp:${r}`),
        ...list(rule.kms).map((r) => `kms:${r}`),
        ...list(rule.gcp_kms).map((r) => `gcpKms:${r}`),
      ].sort();
    }
    return undefined;
  };
}
