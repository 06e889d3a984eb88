import { posix } from 'node:path';

const PLACEHOLDER_RE = /\{([a-z]+)\}/g;
const ALLOWED = new Set(['namespace', 'name', 'environment']);

export interface PathVars {
  namespace: string;
  name: string;
  environment: string | undefined;
}

/** Problems with an output template itself, before any secret is rendered into it. */
export function templateProblems(template: string, hasEnvironments: boolean): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER_RE)) {
    if (!ALLOWED.has(m[1]!))
      problems.push(`unknown placeholder {${m[1]}}; allowed: {namespace}, {name}, {environment}`);
    used.add(m[1]!);
  }
  if (!used.has('name') || !used.has('namespace')) {
    problems.push('must contain {namespace} and {name}, so that every Secret gets its own file');
  }
  if (hasEnvironments && !used.has('environment')) {
    problems.push('must contain {environment} when `environments` is set');
  }
  if (!hasEnvironments && used.has('environment')) {
    problems.push('uses {environment} but the config declares no `environments`');
  }
  if (!/\.ya?ml$/.test(template)) problems.push('must end in .yaml or .yml');
  const pathProblem = templatePathProblem(template);
  if (pathProblem) problems.push(pathProblem);
  return problems;
}

/** Why the paths a template renders are not acceptable repo-relative paths, if they are not. */
export function templatePathProblem(template: string): string | undefined {
  return relativePathProblem(template.replace(PLACEHOLDER_RE, 'x'));
}

/** The directories below which a template can put files (its static prefix). */
export function templateDirs(template: string): string[] {
  const prefix = template.split('{')[0] ?? '';
  const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  return dir ? [dir] : ['.'];
}

/** The template split at its placeholders: literal text at even indexes, names at odd ones. */
const compiled = new Map<string, string[]>();

/** Renders the output template for one Secret (the template is split once per run). */
export function renderPath(template: string, vars: PathVars): string {
  let parts = compiled.get(template);
  if (!parts) {
    parts = template.split(/\{([a-z]+)\}/);
    compiled.set(template, parts);
  }
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i];
    out +=
      (name === 'environment'
        ? (vars.environment ?? '')
        : name === 'namespace'
          ? vars.namespace
          : vars.name) + parts[i + 1]!;
  }
  return out;
}

/**
 * Segments of letters, digits, "-", "_" and ".", none starting with "." (so no "", ".", "..",
 * ".git"), joined by single "/": a path relativePathProblem has nothing to say about. Every
 * rendered output path of a valid config is one; the check below is for the others.
 */
const PLAIN_PATH_RE = /^[\w-][\w.-]*(?:\/[\w-][\w.-]*)*$/;

/** Why a repo-relative path is not acceptable, or undefined when it is. */
export function relativePathProblem(path: string): string | undefined {
  if (PLAIN_PATH_RE.test(path)) return undefined;
  if (path === '') return 'must not be empty';
  if (path.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(path) || path.startsWith('\\')) {
    return 'must be relative to the repo root, not absolute';
  }
  if (path.includes('\\')) return 'must use / as the separator';
  if (path.includes('\0')) return 'must not contain NUL';
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) return 'must stay inside the repo (no ".." segments)';
  if (parts.some((p) => p === '' || p === '.')) return 'must not contain empty or "." segments';
  if (parts[0] === '.git') return 'must not point into .git';
  if (posix.normalize(path) !== path) return 'must be a normalized path';
  return undefined;
}

/** Builds a regular expression matching every path the template can render (for orphan scans). */
export function templateMatcher(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const pattern = escaped.replace(/\\?\{([a-z]+)\\?\}/g, '([^/]+)');
  return new RegExp(`^${pattern}$`);
}
