import { type ConfigProblem, sortProblems } from '../errors.js';
import { readYaml } from './read-yaml.js';
import { formatPath, type Report } from './report.js';
import { checkRules } from './rules.js';
import { salvage } from './salvage.js';
import { configSchema } from './schema.js';
import { reportSchemaIssues } from './schema-issues.js';
import type { Config } from './types.js';

/** Configs larger than this are refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type ParseResult =
  | { config: Config; problems: [] }
  | { config: undefined; problems: ConfigProblem[] };

/**
 * Parses and validates config text: read (the `yaml` package, positions kept) → zod schema →
 * rule checks. Every problem comes with its line, column and field path, schema and rule
 * problems together. Pure: no file system, no clock.
 */
export function parseConfig(text: string, file: string): ParseResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    const message = `file is larger than ${MAX_CONFIG_BYTES} bytes`;
    return { config: undefined, problems: [{ file, line: 1, column: 1, path: '', message }] };
  }
  const read = readYaml(text, file);
  if (!read.ok) return { config: undefined, problems: read.problems };
  const problems: ConfigProblem[] = [];
  const report: Report = (path, message, options) => {
    const { line, column } = read.locate(path, options);
    problems.push({ file, line, column, path: formatPath(path), message });
  };
  const config = validate(read.data, file, report);
  if (config && problems.length === 0) return { config, problems: [] };
  return { config: undefined, problems: sortProblems(dedupe(problems)) };
}

/**
 * The schema, then the rules: on the whole config when it passes the schema, otherwise on the
 * parts that do (salvage.ts), so that one run reports every problem.
 */
function validate(data: unknown, file: string, report: Report): Config | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    report([], 'the config must be a YAML mapping with `version: 1` and `secrets:`');
    return undefined;
  }
  // reportInput: tells a wrong value (`length: "32"`) from a missing one in the issues.
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return checkRules(parsed.data, file, report);
  reportSchemaIssues(parsed.error.issues, report);
  const partial = salvage(data as Record<string, unknown>);
  checkRules(partial.raw, file, report, partial.hints);
  return undefined;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
