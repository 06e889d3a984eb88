import type { KustomizeMode } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';
import {
  dirOf,
  editEntries,
  entryFor,
  isKustomizationPath,
  KSOPS_GENERATOR,
  kustomizationCandidates,
  nearestKustomization,
  newKsopsGenerator,
  type ReadKustomization,
  readKsopsGenerator,
  readKustomization,
  resolveEntry,
  symlinkGenerator,
} from './kustomization.js';
import { listedAbove } from './kustomize-above.js';
import { listAt, type YamlFile } from './yaml-list.js';

/**
 * Kustomization upkeep, pure: which kustomizations (and ksops generators) must change so that
 * kustomize builds exactly the managed manifests that exist. Each manifest is listed by its
 * nearest kustomization (`resources:`, or the `files:` of its ksops generator); an entry that
 * names a managed path that does not exist (pruned, or removed by hand) is taken out.
 */
export interface UpkeepInput {
  /** `kustomize:` of the config; undefined: detected per kustomization. */
  mode: KustomizeMode | undefined;
  /** The Secrets to list: the managed manifests that exist (after the run, for sync). */
  present: Set<string>;
  /**
   * Whether a file exists (after the run, for sync): an entry naming a path the output template
   * can produce is dangling when no file is there (any file: a ConfigMap beside the Secrets too).
   */
  exists: (path: string) => boolean;
  /** A path the output template can produce (an entry the tool looks after). */
  managed: (path: string) => boolean;
  /** Kustomizations to look at besides the manifests' nearest (those of removed manifests). */
  also: string[];
  /**
   * Kustomizations looked at for dangling entries only when they can be read (those below the
   * output directories): one the tool cannot read, with no manifest of its own, is not refused.
   */
  scan?: string[];
  /** The tree's text of a file (kustomizations and generator files); undefined when absent. */
  text: (path: string) => string | undefined;
  /**
   * Whether the tree holds a file as a symlink: a generator that is one is refused (its text
   * would be the path it points to, and the tool reads and writes no file through a symlink).
   */
  symlink?: (path: string) => boolean;
}

export interface KustomizationEdit {
  path: string;
  text: string;
  created: boolean;
  /** Manifests (repo-relative) now listed, and entries taken out (as repo paths). */
  added: string[];
  removed: string[];
  /**
   * Entries of existing manifests taken out of a list the mode does not use (`resources:` with
   * `kustomize: ksops`, or the reverse), and added to the one it does: listed in both, kustomize
   * would build the Secret twice.
   */
  moved?: string[];
}

export interface Upkeep {
  edits: KustomizationEdit[];
  problems: ConfigProblem[];
}

/** The kustomization each manifest is listed by, and every kustomization to look at. */
function kustomizationsOf(input: UpkeepInput): Map<string, string[]> {
  const exists = (p: string) => input.text(p) !== undefined;
  const byK = new Map<string, string[]>(
    [...(input.scan ?? []), ...input.also].filter(exists).map((k) => [k, []]),
  );
  for (const m of [...input.present].sort()) {
    const k = nearestKustomization(m, exists);
    if (k) byK.set(k, [...(byK.get(k) ?? []), m]);
  }
  return byK;
}

/** The local generator files the kustomizations list (their texts are needed too). */
export function generatorFiles(input: UpkeepInput): string[] {
  if (input.mode === 'off') return [];
  const out = new Set<string>();
  // The manifests' kustomizations and those above them: an entry there lists a manifest too.
  const above = [...input.present].flatMap(kustomizationCandidates);
  for (const k of new Set([...kustomizationsOf(input).keys(), ...above])) {
    const text = input.text(k);
    const read = text === undefined ? undefined : readKustomization(k, text);
    if (read && 'ok' in read) for (const g of read.ok.generatorPaths) out.add(g);
  }
  return [...out].sort();
}

/** One line for people: `kustomization updated: 2 entries added, 1 removed`. */
export function kustomizationKind(k: KustomizationEdit): string {
  const parts = [
    ...(k.added.length > 0
      ? [`${k.added.length} ${k.added.length === 1 ? 'entry' : 'entries'} added`]
      : []),
    ...(k.removed.length > 0 ? [`${k.removed.length} removed`] : []),
    ...((k.moved ?? []).length > 0 ? [`${k.moved?.length} moved out`] : []),
  ];
  const what = k.created
    ? 'ksops generator added'
    : isKustomizationPath(k.path)
      ? 'kustomization updated'
      : 'ksops generator updated';
  return parts.length > 0 ? `${what}: ${parts.join(', ')}` : what;
}

export function upkeep(input: UpkeepInput): Upkeep {
  const result: Upkeep = { edits: [], problems: [] };
  if (input.mode === 'off') return result;
  const listings = new Map<string, Set<string>>();
  for (const [k, wanted] of [...kustomizationsOf(input)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const read = readKustomization(k, input.text(k) ?? '');
    // A manifest an entry of a kustomization further up lists is listed: kustomize would
    // refuse it listed twice (the inner directory is built as a resource of the outer one).
    const own = wanted.filter((m) => !listedAbove(input, listings, k, m));
    const one =
      'problem' in read ? { edits: [], problems: [read.problem] } : upkeepOne(input, read.ok, own);
    // One with no manifest of its own, found by scanning only: not refused when unreadable.
    if (wanted.length === 0 && !input.also.includes(k) && one.problems.length > 0) continue;
    result.problems.push(...one.problems);
    result.edits.push(...one.edits);
  }
  return result;
}

interface ListRef {
  file: YamlFile;
  key: string;
  created: boolean;
}

/** One kustomization: its lists with dangling entries out, and its manifests in the mode's list. */
function upkeepOne(input: UpkeepInput, k: ReadKustomization, wanted: string[]): Upkeep {
  const problems: ConfigProblem[] = [];
  const generators: YamlFile[] = [];
  for (const g of k.generatorPaths) {
    if (input.symlink?.(g)) {
      problems.push(symlinkGenerator(g));
      continue;
    }
    const text = input.text(g);
    const gen = text === undefined ? undefined : readKsopsGenerator(g, text);
    if (gen && 'problem' in gen) problems.push(gen.problem);
    else if (gen) generators.push(gen.ok);
  }
  if (problems.length > 0) return { edits: [], problems };
  const mode = input.mode ?? (generators.length > 0 ? 'ksops' : 'resources');
  // ksops reads its files relative to the directory kustomize runs it in: the kustomization's.
  const dir = dirOf(k.file.path);
  const lists: ListRef[] = [
    { file: k.file, key: 'resources', created: false },
    ...generators.map((file) => ({ file, key: 'files', created: false })),
  ];
  const extra: { ref: ListRef; add: string[] }[] = [];
  // The lists the mode uses: `resources:`, or the `files:` of every ksops generator it lists. A
  // manifest any of them lists is listed; a new one goes to the first.
  const used = mode === 'resources' ? lists.slice(0, 1) : lists.slice(1);
  if (used.length === 0 && wanted.length > 0) {
    const made = createGenerator(input, dir, k);
    if ('problem' in made) return { edits: [], problems: [made.problem] };
    // The new generator goes under `generators:`, with the kustomization's other edits.
    used.push(made.ok.target);
    lists.push(made.ok.target);
    extra.push(made.ok.listed);
  }
  const target = used[0];
  const listed = new Set(used.flatMap((ref) => entriesOf(ref, dir).flatMap((e) => e.path ?? [])));
  const add = wanted.filter((m) => !listed.has(m));
  const edits: KustomizationEdit[] = [];
  const move = new Set(wanted);
  for (const ref of lists) {
    const adding = ref === target ? add : [];
    const more = extra.find((x) => x.ref.file.path === ref.file.path)?.add ?? [];
    // Entries move out of the lists the mode does not use only, never from one it uses to another.
    const edit = editOne(input, ref, dir, adding, more, used.includes(ref) ? new Set() : move);
    if ('problem' in edit) problems.push(edit.problem);
    else if (edit.ok) edits.push(edit.ok);
  }
  return problems.length > 0 ? { edits: [], problems } : { edits, problems };
}

function entriesOf(ref: ListRef, dir: string): { entry: string; path: string | undefined }[] {
  const list = listAt(ref.file, ref.key);
  if ('problem' in list) return [];
  return list.ok.entries.map((entry) => ({ entry, path: resolveEntry(dir, entry) }));
}

/** One list's edit, or undefined when it stays as it is. */
function editOne(
  input: UpkeepInput,
  ref: ListRef,
  dir: string,
  add: string[],
  /** Entries of other lists of the same file to add (a new generator under `generators:`). */
  more: string[],
  /** Manifests listed elsewhere by the mode: their entries here go. */
  move: Set<string>,
): { ok: KustomizationEdit | undefined } | { problem: ConfigProblem } {
  if (ref.created) {
    const text = newKsopsGenerator(add.map((m) => entryFor(dir, m)));
    return { ok: { path: ref.file.path, text, created: true, added: add, removed: [] } };
  }
  const removed: string[] = [];
  const moved: string[] = [];
  const drop = (entry: string) => {
    const path = resolveEntry(dir, entry);
    if (path === undefined || !input.managed(path)) return false;
    if (move.has(path)) moved.push(path);
    else if (!input.exists(path)) removed.push(path);
    else return false;
    return true;
  };
  const edited = editEntries(
    ref.file,
    ref.key,
    add.map((m) => entryFor(dir, m)),
    drop,
  );
  if ('problem' in edited) return edited;
  let text = edited.ok;
  if (more.length > 0) {
    const again = readKustomization(ref.file.path, text);
    if ('problem' in again) return again;
    const withMore = editEntries(again.ok.file, 'generators', more, () => false);
    if ('problem' in withMore) return withMore;
    text = withMore.ok;
  }
  if (text === ref.file.text) return { ok: undefined };
  return {
    ok: {
      path: ref.file.path,
      text,
      created: false,
      added: add,
      removed,
      ...(moved.length > 0 ? { moved } : {}),
    },
  };
}

/** A new ksops generator beside the kustomization (`kustomize: ksops`, none listed yet). */
function createGenerator(
  input: UpkeepInput,
  dir: string,
  k: ReadKustomization,
):
  | { ok: { target: ListRef; listed: { ref: ListRef; add: string[] } } }
  | { problem: ConfigProblem } {
  const path = dir ? `${dir}/${KSOPS_GENERATOR}` : KSOPS_GENERATOR;
  if (input.text(path) !== undefined)
    return {
      problem: {
        file: k.file.path,
        line: 1,
        column: 1,
        path: 'generators',
        message: `lists no ksops generator, and ${path} (where gitops-secrets would write one) exists already: list it under \`generators:\` if it is one, or move it`,
      },
    };
  const parsed = readKsopsGenerator(
    path,
    newKsopsGenerator([]).replace(/files:\n$/, 'files: []\n'),
  );
  if (!parsed || 'problem' in parsed) throw new Error('the new ksops generator does not parse');
  const target: ListRef = { file: parsed.ok, key: 'files', created: true };
  const listed = {
    ref: { file: k.file, key: 'resources', created: false },
    add: [entryFor(dir, path)],
  };
  return { ok: { target, listed } };
}
