/**
 * The commands that talk to a remote: ls-remote, fetch and push with a lease, each with the
 * token (when there is one) for that command only.
 */
import { ExternalError } from '../errors.js';
import type { GitRunner } from './git-run.js';

/** Per-command HTTP auth: never written to a remote URL or git config on disk. */
export interface PushAuth {
  token: string;
}

/**
 * A runner for commands that talk to the remote at `url` (its push URL), with processes of its own (a slow remote holds
 * none of the local commands back): over https with the token as an
 * `http.<origin>/.extraheader` through GIT_CONFIG_* environment variables (not argv, where `ps`
 * shows it; not disk). An empty value first clears any extraheader actions/checkout persisted,
 * so only one header is sent; the user's own GIT_CONFIG_* settings come first and stay.
 */
export function remoteRunner(git: GitRunner, url: string, auth: PushAuth | undefined): GitRunner {
  if (!auth) return git.with({});
  const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
  const origin = /^(https?:\/\/[^/]+)\//.exec(url)?.[1];
  if (!origin) return git.with({}, git.cwd, [auth.token, basic]);
  const key = `http.${origin}/.extraheader`;
  const n = Number.parseInt(git.env.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  return git.with(
    {
      GIT_CONFIG_COUNT: String(n + 2),
      [`GIT_CONFIG_KEY_${n}`]: key,
      [`GIT_CONFIG_VALUE_${n}`]: '',
      [`GIT_CONFIG_KEY_${n + 1}`]: key,
      [`GIT_CONFIG_VALUE_${n + 1}`]: `AUTHORIZATION: basic ${basic}`,
    },
    git.cwd,
    [auth.token, basic],
  );
}

/** The remote's branches (of those asked; all when none are) and its default branch. */
export async function lsRemote(
  git: GitRunner,
  remote: string,
  branches: string[],
): Promise<{ heads: Map<string, string>; defaultBranch?: string }> {
  const refs = branches.length > 0 ? ['HEAD', ...branches.map((b) => `refs/heads/${b}`)] : [];
  const out = await git.run(
    ['ls-remote', '--symref', remote, ...refs],
    'ls-remote',
    `check that the remote "${remote}" exists and is reachable`,
  );
  const heads = new Map<string, string>();
  let defaultBranch: string | undefined;
  for (const line of out.split('\n')) {
    const sym = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (sym) defaultBranch = sym[1];
    const m = /^([0-9a-f]{40,64})\trefs\/heads\/(\S+)$/.exec(line);
    if (m) heads.set(m[2]!, m[1]!);
  }
  return defaultBranch ? { heads, defaultBranch } : { heads };
}

/** Fetches branches into refs/remotes/<remote>/ (no --quiet: git then always says something). */
export async function fetch(git: GitRunner, remote: string, branches: string[]): Promise<void> {
  if (branches.length === 0) return;
  const refspecs = branches.map((b) => `+refs/heads/${b}:refs/remotes/${remote}/${b}`);
  await git.run(['fetch', '--no-tags', remote, ...refspecs], 'fetch');
}

/** Pushes a commit to a branch with a lease on what the remote had (undefined: must not exist). */
export async function push(
  git: GitRunner,
  remote: string,
  sha: string,
  branch: string,
  expected: string | undefined,
): Promise<void> {
  try {
    await git.raw([
      'push',
      '--no-verify',
      `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`,
      remote,
      `${sha}:refs/heads/${branch}`,
    ]);
  } catch (err) {
    throw pushFailure(git, err, remote, branch);
  }
}

function pushFailure(git: GitRunner, err: unknown, remote: string, branch: string): ExternalError {
  if (err instanceof ExternalError) return err;
  const full = git.saidInFull(err);
  // A hook or a branch rule on the remote said no: not a race, and running again won't help...
  const refused = /\[remote rejected\][^\n]*?(?:\(([^)\n]*)\))?\s*$/m.exec(full);
  // ...unless the remote only lost the race for the ref to another push.
  const raced =
    /failed to update ref|cannot lock ref|incorrect old value|reference already exists/i.test(full);
  if (refused && !raced) {
    const said = full
      .split('\n')
      .filter((l) => l.startsWith('remote:'))
      .map((l) => l.slice('remote:'.length).trim())
      .filter(Boolean)
      .slice(0, 6);
    return new ExternalError(
      'git',
      `git push to ${remote} ${branch} was refused by the remote${refused[1] ? ` (${refused[1]})` : ''}${said.length > 0 ? `\n  remote said: ${said.join('\n  ')}` : ''}`,
      `allow pushes to ${branch} on the remote (its hooks or branch rules refused it), then run again`,
    );
  }
  if (raced || /stale info|rejected|fetch first|non-fast-forward/.test(git.said(err)))
    return new ExternalError(
      'git',
      `push to ${remote} ${branch} was rejected: the branch changed on the remote while this run worked`,
      'run the command again; it rebuilds the branch from what is on the remote now',
    );
  return git.failure(
    err,
    'push',
    'check that the token (or your git credentials) may push to the repository',
  );
}
