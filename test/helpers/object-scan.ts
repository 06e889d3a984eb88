/**
 * What a remote holds: its refs, and every git object in it (reachable or not, loose or packed),
 * searched for values in their plain and base64 forms.
 */
import { execa } from 'execa';
import type { Scenario } from './scenario.js';

/** `refname objectname` lines of every ref of the remote. */
export async function remoteRefs(s: Scenario): Promise<string> {
  return s.git(['--git-dir', s.remote, 'for-each-ref', '--format=%(refname) %(objectname)'], s.dir);
}

/** The forms a value takes in a Secret or anywhere else: as given, and base64 (under `data:`). */
export function valueForms(values: Iterable<string>): Map<string, string> {
  const forms = new Map<string, string>();
  for (const v of values) {
    if (v.length < 6) continue;
    forms.set(v, 'a value');
    forms.set(Buffer.from(v, 'utf8').toString('base64'), 'a value (base64)');
  }
  return forms;
}

/**
 * Every object of a git directory (`cat-file --batch-all-objects`), each read in full: which of
 * the values (plain or base64) any of them holds. `objects` is how many were read, so that a
 * scan of nothing does not pass unnoticed.
 */
export async function scanObjects(
  s: Scenario,
  values: Iterable<string>,
  gitDir = s.remote,
): Promise<{ objects: number; leaks: string[] }> {
  const list = await execa(
    'git',
    ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)'],
    { env: s.env },
  );
  const ids = list.stdout.split('\n').filter(Boolean);
  const leaks: string[] = [];
  if (ids.length === 0) return { objects: 0, leaks };
  const all = await execa('git', ['--git-dir', gitDir, 'cat-file', '--batch'], {
    env: s.env,
    input: `${ids.join('\n')}\n`,
    encoding: 'buffer',
    maxBuffer: 512 * 1024 * 1024,
  });
  const text = Buffer.from(all.stdout).toString('latin1');
  for (const [needle, what] of valueForms(values)) {
    const bytes = Buffer.from(needle, 'utf8').toString('latin1');
    if (text.includes(bytes)) leaks.push(`${what} in an object of ${gitDir}`);
  }
  return { objects: ids.length, leaks };
}
