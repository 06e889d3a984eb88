import { posix } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import {
  editList,
  listAt,
  type Parsed,
  parseYamlFile,
  problemAt,
  stringField,
  type YamlFile,
} from './yaml-list.js';

/** The file names kustomize reads in a directory, in the order it looks for them. */
export const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The generator file gitops-secrets creates beside a kustomization (`kustomize: ksops`). */
export const KSOPS_GENERATOR = 'secret-generator.yaml';

const KSOPS_API_VERSION = 'viaduct.ai/v1';

/** A repo-relative path's directory ('' for the root). */
export function dirOf(path: string): string {
  const d = posix.dirname(path);
  return d === '.' ? '' : d;
}

/** Where a kustomization for a manifest can be: its directory, then each parent up to the root. */
export function kustomizationCandidates(manifest: string): string[] {
  const out: string[] = [];
  let dir = dirOf(manifest);
  for (;;) {
    for (const name of KUSTOMIZATION_NAMES) out.push(dir ? `${dir}/${name}` : name);
    if (dir === '') return out;
    dir = dirOf(dir);
  }
}

/** The nearest kustomization of a manifest among the files that exist. */
export function nearestKustomization(
  manifest: string,
  exists: (path: string) => boolean,
): string | undefined {
  return kustomizationCandidates(manifest).find(exists);
}

export function isKustomizationPath(path: string): boolean {
  return KUSTOMIZATION_NAMES.includes(posix.basename(path));
}

/**
 * The repo-relative path an entry of a list in `dir` names, normalized (`./a.yaml`,
 * `sub/../a.yaml` and `a.yaml` are one); undefined for a URL, an absolute path or one outside
 * the repo: never one of ours.
 */
export function resolveEntry(dir: string, entry: string): string | undefined {
  if (entry === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^[^/]+@[^/]+:/.test(entry))
    return undefined;
  if (entry.startsWith('/') || /^github\.com\//.test(entry)) return undefined;
  const joined = posix.normalize(posix.join(dir || '.', entry));
  if (joined === '..' || joined.startsWith('../') || joined === '.') return undefined;
  return joined.replace(/\/$/, '');
}

/** The entry that names a repo-relative path from a list in `dir`. */
export function entryFor(dir: string, path: string): string {
  return posix.relative(dir || '.', path);
}

/** A kustomization, and the ksops generators it lists under `generators:`. */
export interface ReadKustomization {
  file: YamlFile;
  /** The local generator files it lists (repo-relative), ksops or not. */
  generatorPaths: string[];
}

export function readKustomization(path: string, text: string): Parsed<ReadKustomization> {
  const parsed = parseYamlFile(path, text);
  if ('problem' in parsed) return parsed;
  const file = parsed.ok;
  const generators = listAt(file, 'generators');
  if ('problem' in generators) return generators;
  const resources = listAt(file, 'resources');
  if ('problem' in resources) return resources;
  const dir = dirOf(path);
  const generatorPaths = generators.ok.entries.flatMap((e) => resolveEntry(dir, e) ?? []);
  return { ok: { file, generatorPaths } };
}

/**
 * A generator file is ksops's: `kind: ksops`, `apiVersion: viaduct.ai/v1`, a `files:` list.
 * Undefined: a generator of another kind (not ours). A problem, with its position: a file the
 * tool cannot read, so cannot tell whether it lists a Secret (not valid YAML, not a mapping,
 * such as the blob of a symlink: the path it points to), or a ksops generator among several
 * documents (each one is looked at), which it does not edit. Treated as "no ksops generator",
 * such a file would have the Secrets listed under `resources:`, where ksops never decrypts them.
 */
export function readKsopsGenerator(path: string, text: string): Parsed<YamlFile> | undefined {
  const parsed = parseYamlFile(path, text);
  if ('problem' in parsed) {
    const several = severalDocuments(path, text);
    return several === null ? generatorProblem(parsed.problem) : several;
  }
  const file = parsed.ok;
  if (
    stringField(file, 'kind') !== 'ksops' ||
    stringField(file, 'apiVersion') !== KSOPS_API_VERSION
  )
    return undefined;
  const files = listAt(file, 'files');
  return 'problem' in files ? files : parsed;
}

function generatorProblem(problem: ConfigProblem): { problem: ConfigProblem } {
  return {
    problem: {
      ...problem,
      message: `${problem.message}: gitops-secrets cannot tell whether this generator is a ksops one that lists the Secrets`,
    },
  };
}

/**
 * A file of several valid YAML documents: undefined when none is a ksops generator (several
 * generators of other kinds: not ours), a problem at the first ksops one; null when the file is
 * not one of several valid documents.
 */
function severalDocuments(
  path: string,
  text: string,
): { problem: ConfigProblem } | undefined | null {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length < 2 || docs.some((d) => d.errors.length > 0)) return null;
  const ksops = docs.find(
    (d) => d.get('kind') === 'ksops' && d.get('apiVersion') === KSOPS_API_VERSION,
  );
  if (!ksops) return undefined;
  return {
    problem: problemAt(
      path,
      lines,
      ksops.contents?.range?.[0] ?? ksops.range[0],
      '',
      'holds a ksops generator among several YAML documents: gitops-secrets edits a ksops generator only in a file of its own; move it to one',
    ),
  };
}

/** A generator that is a symlink: refused (its blob is the path it points to). */
export function symlinkGenerator(path: string): ConfigProblem {
  return {
    file: path,
    line: 1,
    column: 1,
    path: '',
    message:
      'is a symlink: gitops-secrets reads no generator through one, so cannot tell whether it lists the Secrets; replace it with the file itself',
  };
}

/**
 * A new ksops generator (ksops's documented format: a KRM exec function kustomize runs as
 * `ksops` from PATH; it decrypts each of `files`, read relative to the kustomization's
 * directory, where kustomize runs it).
 */
export function newKsopsGenerator(entries: string[]): string {
  return [
    '# Written by gitops-secrets: ksops decrypts these sops-encrypted files when kustomize builds',
    '# this directory (kustomize build --enable-alpha-plugins --enable-exec).',
    `apiVersion: ${KSOPS_API_VERSION}`,
    'kind: ksops',
    'metadata:',
    '  name: gitops-secrets',
    '  annotations:',
    '    config.kubernetes.io/function: |',
    '      exec:',
    '        path: ksops',
    'files:',
    ...entries.map((e) => `- ${e}`),
    '',
  ].join('\n');
}

/** Edits one list of a file: entries to add, and those to take out (by a test on their path). */
export function editEntries(
  file: YamlFile,
  key: string,
  add: string[],
  drop: (entry: string) => boolean,
): Parsed<string> {
  const list = listAt(file, key);
  if ('problem' in list) return list;
  const remove = new Set<number>();
  list.ok.entries.forEach((e, i) => {
    if (drop(e)) remove.add(i);
  });
  return editList(file, key, add, remove);
}
