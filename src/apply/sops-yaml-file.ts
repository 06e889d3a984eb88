// The base branch's `.sops.yaml`, as a job reads it from git: a regular file of UTF-8 text.
// A symlink committed there (a blob of mode 120000, whose text is the link's target) is
// refused: its target text is not creation rules, and sops in the job's work tree would
// follow it wherever it leads.

import { UsageError } from '../errors.js';
import { SOPS_YAML } from '../model/sops-yaml-check.js';
import type { GitPort } from '../ports/git.js';

/**
 * Refuses a base whose `.sops.yaml` is a symlink. `listing` is the base's listing, which has
 * regular files only: when it has `.sops.yaml`, nothing else is asked of git.
 */
export async function refuseSopsYamlSymlink(
  git: GitPort,
  commit: string,
  base: string,
  listing: Map<string, string>,
): Promise<void> {
  if (listing.has(SOPS_YAML)) return;
  const found = await git.blockers(commit, [SOPS_YAML]);
  if (!found.symlinks.includes(SOPS_YAML)) return;
  throw new UsageError(
    `${SOPS_YAML} on ${base} is a symlink; refusing to read sops creation rules through it`,
    `commit ${SOPS_YAML} as a regular file (its creation rules themselves), not a symlink`,
  );
}

/**
 * Refuses the base's `.sops.yaml` text, as git read it, when it was not UTF-8: git's blob
 * reader decodes with replacement characters, so the first U+FFFD is taken for the first bad
 * byte (a `.sops.yaml` that spells U+FFFD itself is refused too).
 */
export function refuseNonUtf8SopsYaml(text: string | undefined, base: string): void {
  const at = text === undefined ? -1 : text.indexOf('\ufffd');
  if (text === undefined || at < 0) return;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const bom = line === 1 && text.startsWith('\ufeff') ? 1 : 0;
  const column = at - before.lastIndexOf('\n') - bom;
  throw new UsageError(
    `${SOPS_YAML} on ${base}: not valid UTF-8 at ${line}:${column}`,
    `save ${SOPS_YAML} as UTF-8 and commit it`,
  );
}
