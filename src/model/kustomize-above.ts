/**
 * The kustomizations above a manifest's nearest one: kustomize builds an inner directory as a
 * resource of the outer kustomization, so a manifest an outer one lists is listed (listed in the
 * inner one too, kustomize refuses the build: the Secret's id is registered twice).
 */
import {
  dirOf,
  kustomizationCandidates,
  readKsopsGenerator,
  readKustomization,
  resolveEntry,
} from './kustomization.js';
import { listAt, type YamlFile } from './yaml-list.js';

/** The texts of the tree's files, and which are symlinks. */
export interface TreeFiles {
  text: (path: string) => string | undefined;
  symlink?: ((path: string) => boolean) | undefined;
}

/** Whether a kustomization above `k` (up to the repo root) has an entry naming manifest `m`. */
export function listedAbove(
  tree: TreeFiles,
  listings: Map<string, Set<string>>,
  k: string,
  m: string,
): boolean {
  const candidates = kustomizationCandidates(m);
  const inner = dirOf(k);
  return candidates
    .slice(candidates.indexOf(k) + 1)
    .some((a) => dirOf(a) !== inner && listingOf(tree, listings, a).has(m));
}

/**
 * The repo paths a kustomization's entries name: `resources:` and the `files:` of the ksops
 * generators it lists (both read relative to its directory). One the tool cannot read names
 * none: it is not edited, and kustomize reports it.
 */
function listingOf(tree: TreeFiles, listings: Map<string, Set<string>>, k: string): Set<string> {
  const known = listings.get(k);
  if (known) return known;
  const out = new Set<string>();
  listings.set(k, out);
  const text = tree.text(k);
  const read = text === undefined ? undefined : readKustomization(k, text);
  if (!read || 'problem' in read) return out;
  const lists: [YamlFile, string][] = [[read.ok.file, 'resources']];
  for (const g of read.ok.generatorPaths) {
    const t = tree.symlink?.(g) ? undefined : tree.text(g);
    const gen = t === undefined ? undefined : readKsopsGenerator(g, t);
    if (gen && 'ok' in gen) lists.push([gen.ok, 'files']);
  }
  const dir = dirOf(k);
  for (const [file, key] of lists) {
    const list = listAt(file, key);
    if ('ok' in list)
      for (const e of list.ok.entries) {
        const path = resolveEntry(dir, e);
        if (path) out.add(path);
      }
  }
  return out;
}
