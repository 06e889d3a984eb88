/**
 * The process-group crash tests: a run started in a process group of its own is held at one
 * moment (a sops call, a hook of the remote, the removal of its temporary directory, a GitHub
 * request) and the test then SIGKILLs that whole group (the CLI, its launcher shells, sops, git
 * and the hooks git started), as a container stop or an OOM kill of the job would.
 *
 * How each moment is held (every one writes the marker file the test waits for):
 * - sops: fixtures/fake-sops/hold-at.sh, before or after the real sops of call N;
 * - the push: a pre-receive (not yet landed) or post-receive (landed) hook of the bare remote,
 *   which waits; nothing on the client side is replaced, git is the real git;
 * - the cleanup: GITOPS_SECRETS_TEST_HOLD_AT=cleanup (src/checkpoint.ts `hold`), read only
 *   by that test hook;
 * - a GitHub request: the loopback server holds it (`delayNext`) and the test sees it arrive.
 */
import { existsSync } from 'node:fs';
import { chmod, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FAKE_SOPS, type Harness } from './reliability.js';
import type { CliResult } from './scenario.js';

export type Moment =
  | { kind: 'sops'; call: number; when: 'before' | 'after' }
  | { kind: 'hook'; hook: 'pre-receive' | 'post-receive' }
  | { kind: 'cleanup' }
  | { kind: 'github'; method: string; path: string };

export interface Killed {
  result: CliResult & { signal: string | undefined };
  /** The run reached the moment and its group was killed there. */
  held: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the CLI in a process group of its own and SIGKILLs the group at the moment. */
export async function killGroupAt(h: Harness, args: string[], moment: Moment): Promise<Killed> {
  const marker = join(h.s.dir, 'held');
  await rm(marker, { force: true });
  let env: Record<string, string> = {};
  let hook: string | undefined;
  if (moment.kind === 'sops') {
    env = {
      GITOPS_SECRETS_SOPS: join(FAKE_SOPS, 'hold-at.sh'),
      SOPS_HOLD_NEXT: join(FAKE_SOPS, 'record-argv.sh'),
      SOPS_HOLD_AT: String(moment.call),
      SOPS_HOLD_WHEN: moment.when,
      SOPS_HOLD_COUNTER: join(h.s.dir, 'sops-holds'),
      SOPS_HOLD_FILE: marker,
    };
  } else if (moment.kind === 'hook') {
    hook = join(h.s.remote, 'hooks', moment.hook);
    await writeFile(hook, `#!/bin/sh\ncat >/dev/null\necho held >'${marker}'\nsleep 120\n`);
    await chmod(hook, 0o755);
  } else if (moment.kind === 'cleanup') {
    env = { GITOPS_SECRETS_TEST_HOLD_AT: 'cleanup', GITOPS_SECRETS_TEST_HOLD_FILE: marker };
  } else {
    h.github.delayNext({ method: moment.method, path: moment.path });
  }
  const reached = () =>
    moment.kind === 'github'
      ? h.github.requests.some((q) => q.method === moment.method && q.status === undefined)
      : existsSync(marker);
  const p = h.start(args, { env, detached: true });
  const pgid = p.pid!;
  let exited = false;
  p.finally(() => {
    exited = true;
  }).catch(() => undefined);
  const until = Date.now() + 60_000;
  while (!reached() && !exited && Date.now() < until) await sleep(20);
  const held = reached() && !exited;
  if (held) process.kill(-pgid, 'SIGKILL');
  else if (!exited) p.kill('SIGKILL');
  const result = await h.finish(p);
  await groupGone(pgid);
  if (hook) await rm(hook, { force: true });
  return { result, held };
}

/** Waits (at most 10 s) until no process of the killed group is left. */
async function groupGone(pgid: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

/** What runs left in the scenario's TMPDIR (every directory a run makes starts so). */
export async function runDirs(h: Harness): Promise<string[]> {
  return (await readdir(h.s.env.TMPDIR!)).filter((n) => n.startsWith('gitops-secrets-')).sort();
}
