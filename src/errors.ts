/** Exit codes of the CLI, as documented in the README and the spec. */
export const ExitCode = {
  ok: 0,
  external: 1,
  usage: 2,
  pending: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One problem found in a config file, positioned for editors. */
export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Field path, e.g. `secrets[0].keys.session_secret.length`. */
  path: string;
  message: string;
}

/** Base class: every error the CLI expects carries its exit code and a user-facing message. */
export class GitopsSecretsError extends Error {
  readonly exitCode: ExitCode;
  /** A short suggestion of what to do next. */
  readonly remedy: string | undefined;
  constructor(message: string, exitCode: ExitCode, remedy?: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.remedy = remedy;
  }
}

/**
 * The config is invalid: every problem found, each with `file:line:column`, sorted by file,
 * line and column (a stable sort: problems at one position keep the order they were found in).
 * Exit 2.
 */
export class ConfigError extends GitopsSecretsError {
  readonly problems: ConfigProblem[];
  constructor(found: ConfigProblem[]) {
    const problems = sortProblems(found);
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in config:\n${problems
        .map(formatProblem)
        .join('\n')}`,
      ExitCode.usage,
    );
    this.problems = problems;
  }
}

/** Problems in reading order: by file (code-unit order), then line, then column. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column,
  );
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Wrong command-line usage. Exit 2. */
export class UsageError extends GitopsSecretsError {
  constructor(message: string, remedy?: string) {
    super(message, ExitCode.usage, remedy);
  }
}

/** An external step failed: sops, git or GitHub. Exit 1. */
export class ExternalError extends GitopsSecretsError {
  readonly step: 'sops' | 'git' | 'github' | 'repo';
  constructor(step: ExternalError['step'], message: string, remedy?: string) {
    super(message, ExitCode.external, remedy);
    this.step = step;
  }
}
