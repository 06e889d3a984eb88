import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Config, SopsSettings } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';
import {
  encryptionProblem,
  goRegExp,
  SELECTOR_FIELDS,
  type Selectors,
  secretDataKeys,
  selectorValue,
} from './encryption-selectors.js';
import { renderPath } from './paths.js';

export const SOPS_YAML = '.sops.yaml';

/** What the `.sops.yaml` creation rules mean for the config's output files. */
export interface SopsYamlCheck {
  problems: ConfigProblem[];
  /** Output paths whose rule sets a (safe) selector of its own: no --encrypted-regex for them. */
  ruleSelects: Set<string>;
}

interface Field {
  name: keyof Selectors;
  value: string;
  node: Node;
}

interface Rule {
  index: number;
  pathRegex: RegExp | undefined;
  /** path_regex does not compile: sops stops there, and so does the check. */
  broken: boolean;
  fields: Field[];
}

const MENTIONS_SELECTOR = /(?:en|un)crypted_(?:regex|suffix|comment_regex)/;

function readRules(text: string, lines: LineCounter): Rule[] | undefined {
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  const list = doc.contents.get('creation_rules', true);
  if (!isSeq(list)) return undefined;
  return list.items.map((item, index) => {
    const rule: Rule = { index, pathRegex: undefined, broken: false, fields: [] };
    if (!isMap(item)) return rule;
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const node = pair.value as Node | null;
      const raw = isScalar(node) ? node.value : undefined;
      if (key === 'path_regex' && typeof raw === 'string' && raw !== '') {
        try {
          rule.pathRegex = goRegExp(raw);
        } catch {
          rule.broken = true;
        }
      }
      const value = selectorValue(raw);
      if (node && value !== undefined && (SELECTOR_FIELDS as readonly string[]).includes(key))
        rule.fields.push({ name: key as keyof Selectors, value, node });
    }
    return rule;
  });
}

/**
 * Checks, for every output file of the config, the selector of the `.sops.yaml` creation rule
 * sops picks for it (the first whose path_regex matches the repo-relative path): more than one
 * selector, a selector that would leave values unencrypted (src/model/encryption-selectors.ts),
 * or one next to the config's own `encryptedRegex` that sops would refuse (sops takes the
 * flag over the rule's `encrypted_regex` only) are config errors at `.sops.yaml:line:column`.
 */
export function checkSopsYaml(config: Config, text: string | undefined): SopsYamlCheck {
  const result: SopsYamlCheck = { problems: [], ruleSelects: new Set() };
  if (!text || !MENTIONS_SELECTOR.test(text)) return result;
  const lines = new LineCounter();
  const rules = readRules(text, lines);
  if (!rules) return result; // sops reports a file it cannot read itself
  const reported = new Set<Node>();
  const report = (rule: Rule, field: Field, message: string) => {
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
      const rule = rules.find((r) => r.broken || !r.pathRegex || r.pathRegex.test(path));
      if (!rule || rule.broken) continue;
      const [first, second] = rule.fields;
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
