import { type ProposedBranch, type ProposedPorts, proposedFor } from '../apply/proposed.js';
import { readWorkingTree } from '../apply/repo-state.js';
import type { Config, KeySource, KeySpec } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { table } from '../format.js';
import { isProblem, type ManifestInfo, type ManifestProblem } from '../model/manifest.js';
import { renderPath } from '../model/paths.js';
import { nextDue } from '../plan/plan.js';
import { type Memo, noMemo } from '../ports/memo.js';
import { loadRepoConfig, type Output, type RepoOptions } from './common.js';

export interface ListedKey {
  key: string;
  source: string;
  state: 'present' | 'missing' | 'needs input' | 'due' | 'unreadable';
  lastRotated: string | null;
  nextDue: string | null;
  /** On base `state`, but an open job branch holds the key (new, or rotated): proposed there. */
  proposed: { branch: string; pullRequest: number | null } | null;
}

export interface ListedSecret {
  id: string;
  namespace: string;
  name: string;
  environment: string | null;
  path: string;
  keys: ListedKey[];
}

export interface ListedShared {
  name: string;
  environment: string | null;
  source: string;
  state: ListedKey['state'];
  lastRotated: string | null;
  nextDue: string | null;
  proposed: ListedKey['proposed'];
  usedBy: { secret: string; key: string; path: string }[];
}

export interface ListResult {
  secrets: ListedSecret[];
  shared: ListedShared[];
}

const DERIVED_NAMES = {
  htpasswd: 'htpasswd line',
  'ssh-public': 'public key',
  template: 'template',
  dockerconfigjson: '.dockerconfigjson',
} as const;

export function describeSource(source: KeySource): string {
  switch (source.kind) {
    case 'random':
      return `generated: ${source.length} ${source.charset === 'custom' ? 'chosen' : source.charset} characters${source.rules ? ` (${source.rules.summary})` : ''}`;
    case 'bytes':
      return `generated: ${source.bytes} bytes, ${source.encoding}`;
    case 'uuid':
      return 'generated: uuid v4';
    case 'provided':
      return `provided: ${source.description}`;
    case 'shared':
      return `shared: ${source.from}`;
    case 'ssh':
      return `generated: ssh ${source.type}${source.type === 'rsa' ? ` ${source.bits} bits` : ''}`;
    case 'derived': {
      const what = DERIVED_NAMES[source.derive.kind];
      const inputs = source.inputs.join(', ');
      return inputs ? `derived: ${what} of ${inputs}` : 'derived: fixed text';
    }
  }
}

/**
 * `list`: every secret and shared value with its state, from plaintext metadata only: the
 * working tree's (on base), and what the open job branches propose.
 */
export async function list(
  options: RepoOptions & { remote?: string },
  io: Output,
  ports?: ProposedPorts,
): Promise<ExitCode> {
  const { root, config, memo } = await loadRepoConfig(options);
  const branches = await proposedFor(root, config, options.remote, ports, memo, io.err);
  const result = listRepo(config, root, options.now, branches, memo);
  if (options.json) io.out(JSON.stringify(result, null, 2));
  else for (const line of formatList(result)) io.out(line);
  return ExitCode.ok;
}

/** What `list` reports for a working tree. */
export function listRepo(
  config: Config,
  root: string,
  now: Date,
  branches: ProposedBranch[] = [],
  memo: Memo = noMemo,
): ListResult {
  const existing = readWorkingTree(root, config, memo);
  const secrets: ListedSecret[] = [];
  const shared = new Map<string, ListedShared>();
  for (const secret of config.secrets) {
    for (const environment of secret.environments) {
      const path = renderPath(config.output, {
        namespace: secret.namespace,
        name: secret.name,
        environment,
      });
      const info = existing.get(path);
      const keys = secret.keys.map((key) => {
        const listed = listKey(config, key, info, now);
        listed.proposed = proposedOn(branches, path, (b) => listKey(config, key, b, now), listed);
        return listed;
      });
      const id = `${secret.namespace}/${secret.name}`;
      secrets.push({
        id,
        namespace: secret.namespace,
        name: secret.name,
        environment: environment ?? null,
        path,
        keys,
      });
      for (const [i, key] of secret.keys.entries()) {
        if (key.source.kind !== 'shared') continue;
        const group = `${key.source.from}\0${environment ?? ''}`;
        const entry = shared.get(group) ?? newShared(config, key.source.from, environment);
        entry.usedBy.push({ secret: id, key: key.name, path });
        addUse(entry, keys[i]!);
        shared.set(group, entry);
      }
    }
  }
  return { secrets, shared: [...shared.values()] };
}

/** The first job branch where the key is present (and not due) while on base it is not. */
function proposedOn(
  branches: ProposedBranch[],
  path: string,
  list: (info: ManifestInfo | ManifestProblem | undefined) => ListedKey,
  onBase: ListedKey,
): ListedKey['proposed'] {
  if (onBase.state === 'present') return null;
  for (const b of branches) {
    const info = b.manifests.get(path);
    if (!info) continue;
    const there = list(info);
    if (there.state === 'present' && there.lastRotated !== onBase.lastRotated)
      return { branch: b.branch, pullRequest: b.pullRequest ?? null };
  }
  return null;
}

/** One key of one secret's manifest (absent: not written yet). */
function listKey(
  config: Config,
  key: KeySpec,
  info: ManifestInfo | ManifestProblem | undefined,
  now: Date,
): ListedKey {
  const source = describeSource(key.source);
  if (info && isProblem(info))
    return {
      key: key.name,
      source,
      state: 'unreadable',
      lastRotated: null,
      nextDue: null,
      proposed: null,
    };
  const spec = key.source.kind === 'shared' ? config.shared.get(key.source.from) : undefined;
  const policy = key.source.kind === 'shared' ? spec?.rotateEvery : key.rotateEvery;
  const present = info?.dataKeys.includes(key.name) ?? false;
  const st = info?.state.keys[key.name];
  const due = present ? nextDue(policy, st?.rotated) : undefined;
  const state: ListedKey['state'] = !present
    ? key.source.kind === 'provided' || spec?.source.kind === 'provided'
      ? 'needs input'
      : 'missing'
    : due && Date.parse(due) <= now.getTime()
      ? 'due'
      : 'present';
  return {
    key: key.name,
    source,
    state,
    lastRotated: present ? (st?.rotated ?? null) : null,
    nextDue: due ?? null,
    proposed: null,
  };
}

function newShared(config: Config, name: string, environment: string | undefined): ListedShared {
  return {
    name,
    environment: environment ?? null,
    source: describeSource(config.shared.get(name)!.source),
    state: 'missing',
    lastRotated: null,
    nextDue: null,
    proposed: null,
    usedBy: [],
  };
}

/** A shared value shows the latest rotation among its consumers. */
function addUse(entry: ListedShared, listed: ListedKey): void {
  if (listed.lastRotated && (!entry.lastRotated || listed.lastRotated > entry.lastRotated)) {
    entry.lastRotated = listed.lastRotated;
    entry.nextDue = listed.nextDue;
    entry.state = listed.state;
  } else if (!entry.lastRotated && listed.state === 'needs input') entry.state = 'needs input';
  if (listed.proposed && !entry.proposed) entry.proposed = listed.proposed;
}

export function formatList(result: ListResult): string[] {
  const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-');
  const rows: string[][] = [
    ['SECRET', 'ENV', 'KEY', 'SOURCE', 'STATE', 'LAST ROTATED', 'NEXT DUE'],
  ];
  for (const s of result.secrets) {
    for (const k of s.keys) {
      rows.push([
        s.id,
        s.environment ?? '-',
        k.key,
        k.source,
        k.proposed
          ? `${k.state}, proposed ${k.proposed.pullRequest !== null ? `in #${k.proposed.pullRequest}` : `on branch ${k.proposed.branch}`}`
          : k.state,
        day(k.lastRotated),
        day(k.nextDue),
      ]);
    }
  }
  const out = table(rows);
  if (result.shared.length > 0) {
    out.push('');
    const shared: string[][] = [
      ['SHARED VALUE', 'ENV', 'STATE', 'LAST ROTATED', 'NEXT DUE', 'USED BY'],
    ];
    for (const v of result.shared) {
      const users = v.usedBy.map((u) => `${u.secret} ${u.key}`).join(', ');
      shared.push([
        v.name,
        v.environment ?? '-',
        v.state,
        day(v.lastRotated),
        day(v.nextDue),
        users,
      ]);
    }
    out.push(...table(shared));
  }
  return out;
}
