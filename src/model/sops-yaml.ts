import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import {
  goRegExp,
  SELECTOR_FIELDS,
  type Selectors,
  selectorValue,
} from './encryption-selectors.js';

/**
 * A `.sops.yaml` read once per run, for both questions asked of it: which recipients a creation
 * rule gives a path (model/recipients.ts) and which encryption selectors it sets
 * (model/sops-yaml-check.ts). sops picks the first rule whose `path_regex` matches.
 */
export interface SopsYaml {
  rules: CreationRule[];
  /** Positions of the selectors, for `.sops.yaml:line:column`. */
  lines: LineCounter;
}

export interface CreationRule {
  index: number;
  /** The rule is a mapping (sops cannot use anything else). */
  mapping: boolean;
  /** Its `path_regex` in Go's syntax; undefined: the rule matches every path. */
  pathRegex: RegExp | undefined;
  /** `path_regex` does not compile: sops stops there, and so does every reader. */
  broken: boolean;
  /** The encryption selectors it sets, each with its node. */
  selectors: SelectorField[];
  /** The rule as plain data (its recipients, `key_groups`). */
  entry: Record<string, unknown>;
}

export interface SelectorField {
  name: keyof Selectors;
  value: string;
  node: Node;
}

/**
 * The creation rules of a `.sops.yaml` text; undefined without one, or when it is not YAML with a
 * `creation_rules` list (sops reports such a file itself when it reads it).
 */
export function readSopsYaml(text: string | undefined): SopsYaml | undefined {
  if (!text) return undefined;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  const list = doc.contents.get('creation_rules', true);
  if (!isSeq(list)) return undefined;
  return { lines, rules: list.items.map((item, index) => ruleOf(item, index)) };
}

function ruleOf(item: unknown, index: number): CreationRule {
  const rule: CreationRule = {
    index,
    mapping: isMap(item),
    pathRegex: undefined,
    broken: false,
    selectors: [],
    entry: {},
  };
  if (!isMap(item)) return rule;
  rule.entry = item.toJSON() as Record<string, unknown>;
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
      rule.selectors.push({ name: key as keyof Selectors, value, node });
  }
  return rule;
}

/** The rule sops picks for a repo-relative path (a broken one stops the search). */
export function ruleFor(sopsYaml: SopsYaml, path: string): CreationRule | undefined {
  return sopsYaml.rules.find(
    (r) => r.mapping && (r.broken || !r.pathRegex || r.pathRegex.test(path)),
  );
}
