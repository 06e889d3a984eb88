/**
 * Reading commits without a checkout: the files of a tree, what stands in the way of writing
 * paths, and blob contents.
 */
import { createHash } from 'node:crypto';
import { ExternalError } from '../errors.js';
import { batches, type GitRunner } from './git-run.js';

/** What stands in the way of writing paths into a commit's tree (see GitPort.blockers). */
export interface Blockers {
  symlinks: string[];
  files: string[];
  dirs: string[];
}

/**
 * The files of a commit below the given directories (`ls-tree -r -z -l`): path → blob id.
 * Symlinks and submodules are left out. Each blob's size goes into `sizes`, for readBlobs.
 */
async function listFiles(
  git: GitRunner,
  commit: string,
  dirs: string[],
  sizes: Map<string, number>,
): Promise<Map<string, string>> {
  const out = await git.run(['ls-tree', '-r', '-z', '-l', '--full-tree', commit, '--', ...dirs]);
  const files = new Map<string, string>();
  for (const entry of out.split('\0')) {
    const m = /^(\d+) blob ([0-9a-f]+) +(\d+)\t(.*)$/s.exec(entry);
    if (!m || m[1] === '120000') continue;
    const [, , id, size, path] = m as unknown as [string, string, string, string, string];
    files.set(path, id);
    sizes.set(id, Number(size));
  }
  return files;
}

interface Listing {
  dirs: string[];
  files: Promise<Map<string, string>>;
}

/**
 * listFiles, each commit read once for the directories first asked: a later ask within them
 * (the same directories, or fewer) is answered from that listing. A commit never changes.
 */
export class Listings {
  private readonly byCommit = new Map<string, Listing[]>();

  constructor(
    private readonly git: GitRunner,
    private readonly sizes: Map<string, number>,
  ) {}

  get(commit: string, dirs: string[]): Promise<Map<string, string>> {
    const listings = this.byCommit.get(commit) ?? [];
    this.byCommit.set(commit, listings);
    let listing = listings.find((l) =>
      dirs.length > 0 ? dirs.every((d) => within(d, l.dirs)) : l.dirs.length === 0,
    );
    if (!listing) {
      const made = { dirs, files: listFiles(this.git, commit, dirs, this.sizes) };
      listings.push(made);
      made.files.catch(() => listings.splice(listings.indexOf(made), 1));
      listing = made;
    }
    // A new map: callers may change what they get.
    return listing.files.then((files) => new Map([...files].filter(([p]) => within(p, dirs))));
  }
}

/** A path is within listed directories when they are the whole tree, or it is one or below one. */
function within(path: string, dirs: string[]): boolean {
  return dirs.length === 0 || dirs.some((d) => d === '.' || path === d || path.startsWith(`${d}/`));
}

/**
 * Blob contents by id. Those a listing has sized are read by one `git show` per few thousand
 * (git prints them back to back; the sizes split them), any other by a `git cat-file` of its
 * own. An id git does not have is left out.
 */
export async function readBlobs(
  git: GitRunner,
  ids: string[],
  sizes: Map<string, number>,
): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const texts = new Map<string, string>();
  for (const batch of batches(unique.filter((id) => sizes.has(id)))) {
    // --no-textconv: the bytes stored, whatever diff drivers the repo sets up.
    const bytes = await git.bytes(['show', '--no-textconv', ...batch, '--'], 'show');
    let pos = 0;
    for (const id of batch) {
      const size = sizes.get(id) ?? 0;
      texts.set(id, bytes.subarray(pos, pos + size).toString('utf8'));
      pos += size;
    }
    if (pos !== bytes.length)
      throw new ExternalError(
        'git',
        `git show printed ${bytes.length} bytes for ${batch.length} blobs of ${pos} bytes`,
      );
  }
  const unsized = unique.filter((id) => !sizes.has(id));
  await Promise.all(
    unsized.map(async (id) => {
      const text = await git.attempt(['cat-file', 'blob', id]);
      if (text !== undefined) texts.set(id, text);
    }),
  );
  return texts;
}

/**
 * What in a commit stands in the way of writing these paths: symlinks among them or their
 * parent directories, files where a parent directory must be, directories where a file must.
 */
export async function blockers(git: GitRunner, commit: string, paths: string[]): Promise<Blockers> {
  const prefixes = new Set<string>();
  const parents = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      prefixes.add(prefix);
      if (i < parts.length) parents.add(prefix);
    }
  }
  const found: Blockers = { symlinks: [], files: [], dirs: [] };
  if (prefixes.size === 0) return found;
  const wanted = new Set(paths);
  // A set: an entry two batches both reach is one.
  const entries = new Set<string>();
  for (const batch of batches([...prefixes])) {
    // `.` adds the top-level entries (left out below): git always says something, and simple-git
    // waits 50 ms after a command that printed nothing (see GitRunner.instance).
    const out = await git.run(['ls-tree', '-z', '--full-tree', commit, '--', '.', ...batch]);
    for (const entry of out.split('\0')) entries.add(entry);
  }
  for (const entry of entries) {
    const m = /^(\d+) (\w+) [0-9a-f]+\t(.*)$/s.exec(entry);
    if (!m || !prefixes.has(m[3]!)) continue;
    const [, mode, type, path] = m as unknown as [string, string, string, string];
    if (mode === '120000') found.symlinks.push(path);
    // A file (or a submodule) where a directory must be.
    else if (type !== 'tree' && parents.has(path)) found.files.push(path);
    else if (type === 'tree' && wanted.has(path)) found.dirs.push(path);
  }
  for (const list of Object.values(found)) list.sort();
  return found;
}

/** git's id of a blob holding `content` (`git hash-object`), SHA-1 or SHA-256 as the repo's. */
export function blobId(content: string | Buffer, sha256 = false): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash(sha256 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}
