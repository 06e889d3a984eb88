/**
 * The temporary directories of a run, and the sweep that removes those of runs that are gone.
 *
 * A directory says whose it is by its name alone, so that whatever state a kill leaves it in
 * (half-deleted, empty, its files gone) the next run still knows it:
 *
 *   $TMPDIR/gitops-secrets-<kind>-<pid>-<start>-<host>-<6 random>
 *
 * `kind` is `wt` (a work tree and its index), `sops` (a sops config) or `dead` (one being
 * removed); `pid` the run's process, `start` that process's start time (clock ticks since boot,
 * from /proc; `0` where there is no /proc), `host` a hash of the host name (runs in other
 * containers sharing the temp directory have other pids: their directories are left alone).
 * A directory is removed by a later run when its owner is gone: no process has the pid, or one
 * has it but started at another time (the pid was reused). Without /proc a reused pid keeps
 * the directory until that process ends too.
 *
 * Removal first renames the directory to its `dead` name (atomic), then deletes it: a kill at
 * any point leaves a name the sweep knows.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { hold } from '../checkpoint.js';

export type RunDirKind = 'wt' | 'sops';

const NAME_RE = /^gitops-secrets-(wt|sops|dead)-(\d+)-(\d+)-([0-9a-f]{8})-[A-Za-z0-9]{6}$/;
/** The names of earlier versions: `gitops-secrets-wt-<pid>-<6 random>` and an owner file. */
/** The work tree name of earlier versions: the owner's pid after the prefix. */
export const LEGACY_RE = /^gitops-secrets-wt-(\d+)-/;
const LEGACY_OWNER_FILE = 'owner';

let self: { start: string; host: string } | undefined;

/** This process's start time and host tag, read once. */
function me(): { start: string; host: string } {
  self ??= { start: startTime(process.pid) ?? '0', host: hostTag(hostname()) };
  return self;
}

/** Makes a run's temporary directory (mode 0700, as mkdtemp does). */
export function makeRunDir(kind: RunDirKind): Promise<string> {
  const { start, host } = me();
  return mkdtemp(join(tmpdir(), `gitops-secrets-${kind}-${process.pid}-${start}-${host}-`));
}

/**
 * Removes a run's directory: renamed to its dead name first, then deleted. A directory already
 * gone is no error; one that cannot be deleted stays under its dead name for the next sweep.
 */
export async function removeRunDir(path: string): Promise<void> {
  const dead = join(
    dirname(path),
    basename(path).replace(/^gitops-secrets-\w+?-/, 'gitops-secrets-dead-'),
  );
  let target = dead;
  try {
    await rename(path, dead);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    target = path; // not renamed (no permission on the parent?): deleted under its own name
  }
  await hold('cleanup');
  await rm(target, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Removes the directories of runs that are gone from the temp directory: this host's, this
 * user's, directories only (a symlink is never followed). Never fails: what it cannot remove
 * stays for the next run.
 */
export async function sweepRunDirs(): Promise<void> {
  const tmp = tmpdir();
  let names: string[] = [];
  try {
    names = readdirSync(tmp);
  } catch {
    return; // no temporary directory to look in: nothing left behind there
  }
  for (const name of names) {
    if (!name.startsWith('gitops-secrets-') || !ownerGone(tmp, name)) continue;
    await rm(join(tmp, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Whether `name` in `tmp` is a run directory of this host and user whose run is gone. */
export function ownerGone(tmp: string, name: string): boolean {
  const m = NAME_RE.exec(name);
  if (m) {
    if (m[4] !== me().host || !ours(join(tmp, name))) return false;
    const pid = Number(m[2]);
    if (!isAlive(pid)) return true;
    // The pid is taken: by the run (same start time) or by a process that reused it.
    if (m[3] === '0') return false;
    const start = startTime(pid);
    return start !== undefined && start !== m[3];
  }
  const legacy = LEGACY_RE.exec(name);
  if (!legacy) return false;
  const pid = Number(legacy[1]);
  if (isAlive(pid) || !ours(join(tmp, name))) return false;
  try {
    const owner = readFileSync(join(tmp, name, LEGACY_OWNER_FILE), 'utf8');
    return owner === `gitops-secrets run ${pid} on ${hostname()}\n`;
  } catch {
    return false;
  }
}

/** A directory (not a symlink to one) of this user's. */
function ours(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid());
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time (field 22 of /proc/PID/stat), undefined where it cannot be read. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may hold spaces and ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    return start && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** 8 hex digits of the host name (FNV-1a): the host part of a run directory's name. */
export function hostTag(host: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    h ^= host.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
