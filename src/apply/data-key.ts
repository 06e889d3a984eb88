import { newDataKey } from '../model/data-key.js';
import { recipientChange } from '../model/recipients.js';
import type { GitPort } from '../ports/git.js';
import { infos, type RepoState } from './repo-state.js';

/**
 * The paths an earlier run re-encrypted on the job branch with a new data key, so that a rerun
 * describes that re-key as the run that made it did. Only files the branch re-keyed are read
 * (one `git cat-file` for them all), and none when there are none.
 */
export async function renewedDataKeys(git: GitPort, state: RepoState): Promise<Set<string>> {
  const start = infos(state.existing);
  const pairs: { path: string; base: string; branch: string }[] = [];
  for (const path of state.fromBranch) {
    const b = state.base.get(path);
    const s = start.get(path);
    const base = state.baseFiles.get(path);
    const branch = state.startBlobs.get(path);
    if (!b || !s || !base || !branch || branch === base) continue;
    if (recipientChange(s.recipients, b.recipients)) pairs.push({ path, base, branch });
  }
  const renewed = new Set<string>();
  if (pairs.length === 0) return renewed;
  const texts = await git.readBlobs([...new Set(pairs.flatMap((p) => [p.base, p.branch]))]);
  for (const p of pairs) {
    const baseText = texts.get(p.base);
    const branchText = texts.get(p.branch);
    if (baseText === undefined || branchText === undefined) continue;
    const base = { info: state.base.get(p.path)!, text: baseText };
    const branch = { info: start.get(p.path)!, text: branchText };
    if (newDataKey(base, branch)) renewed.add(p.path);
  }
  return renewed;
}
