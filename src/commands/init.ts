import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { KSOPS_GENERATOR, KUSTOMIZATION_NAMES } from '../model/kustomization.js';
import { templateDirs } from '../model/paths.js';
import type { Output } from './common.js';
import { type GitopsTool, gitopsFiles, gitopsNotes } from './init-gitops.js';

export interface InitOptions {
  /** The repository (`--repo`). */
  repo: string;
  config: string;
  age: string | undefined;
  force: boolean;
  /** `--flux` / `--argocd`: also write the kustomize wiring that controller needs. */
  gitops?: GitopsTool | undefined;
  /** The Action release the workflows reference. */
  action: ActionRelease;
}

/** The starter config's `output:`; `--flux` / `--argocd` wire up the directory it writes under. */
const STARTER_OUTPUT = 'secrets/{namespace}/{name}.yaml';

const SCHEMA_URL =
  'https://raw.githubusercontent.com/gitops-secrets/gitops-secrets/main/config/schema.json';

export function starterConfig(): string {
  return `# yaml-language-server: $schema=${SCHEMA_URL}
# gitops-secrets config: declare each Kubernetes Secret once; \`gitops-secrets sync\` generates
# every missing key exactly once, encrypts it with sops and proposes it in a pull request.
version: 1

# Where each Secret is written, relative to the repo root.
output: ${STARTER_OUTPUT}

# Recipients come from .sops.yaml (creation_rules). To name them here instead:
# sops:
#   age: [age1...]

pullRequest:
  labels: [secrets]
  reviewers: []

defaults:
  length: 32
  charset: alphanumeric

# Values used by several secrets (every \`from:\` gets the same value).
# shared:
#   db-password: { length: 40, rotateEvery: 30d }

secrets:
  - name: example-app          # metadata.name
    namespace: default         # metadata.namespace
    # restart: kubectl rollout restart deployment/example-app -n default
    keys:
      SESSION_KEY: { length: 48, rotateEvery: 90d }
      ENCRYPTION_KEY: { bytes: 32, encoding: base64 }
      # API_TOKEN: { provided: true, description: Token from the vendor's console }
`;
}

function sopsYaml(age: string): string {
  return `# sops picks recipients for new files from these rules (gitops-secrets runs sops from the
# repo root). Only values under data/stringData are encrypted, so names and metadata stay
# reviewable, and the sops MAC still covers them.
creation_rules:
  - path_regex: ^secrets/.*\\.ya?ml$
    encrypted_regex: ^(data|stringData)$
    age: ${age}
`;
}

/**
 * The Action release the written workflows use. `commit` is the release commit, which the release
 * workflow records in the published package.json (`gitopsSecrets.actionCommit`); a build from a
 * checkout has none.
 */
export interface ActionRelease {
  version: string;
  commit?: string | undefined;
}

const ACTION = 'gitops-secrets/gitops-secrets';
const CHECKOUT = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2';

/**
 * `uses:` for the Action: the release commit with its tag in a comment, as Dependabot writes pins;
 * without a recorded commit, the major tag (`v1`) that the release workflow moves to each release.
 */
export function actionUses(release: ActionRelease): string {
  if (release.commit !== undefined && /^[0-9a-f]{40}$/.test(release.commit))
    return `${ACTION}@${release.commit} # v${release.version}`;
  return `${ACTION}@v${/^\d+/.exec(release.version)?.[0] ?? '1'}`;
}

/** A YAML scalar for a path from the command line: plain when that is unambiguous. */
function scalar(text: string): string {
  return /^[\w][\w./-]*$/.test(text) ? text : JSON.stringify(text);
}

function workflow(job: 'sync' | 'rotate', config: string, uses: string): string {
  const on =
    job === 'sync'
      ? `on:
  push:
    branches: [main]
    paths: [${scalar(config)}, .sops.yaml]
  workflow_dispatch:`
      : `on:
  schedule:
    - cron: "17 6 * * 1"
  workflow_dispatch:`;
  const pin = uses.includes(' # ')
    ? 'The Action is pinned to a release commit; Dependabot (github-actions) updates the pin.'
    : 'To pin a commit instead of the tag, as Dependabot does: @<commit SHA> # vX.Y.Z.';
  return `# Written by \`gitops-secrets init\`. ${pin}
name: gitops-secrets ${job}
${on}
permissions:
  contents: write
  pull-requests: write
concurrency:
  group: gitops-secrets-${job}
  cancel-in-progress: false
jobs:
  ${job}:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: ${CHECKOUT}
        with:
          fetch-depth: 0
          # gitops-secrets passes its token to git per command.
          persist-credentials: false
      - uses: ${uses}
        with:
          command: ${job}
          config: ${scalar(config)}
          # A GitHub App token or a fine-grained PAT lets the pull request start your other
          # workflows; github.token needs "Allow GitHub Actions to create and approve pull requests".
          github-token: \${{ secrets.GITOPS_SECRETS_TOKEN || github.token }}
          # The age private key: masked, and given to sops only.
          age-key: \${{ secrets.SOPS_AGE_KEY }}
`;
}

/** `init`: writes the starter files and says what to do next. */
export async function init(options: InitOptions, io: Output): Promise<ExitCode> {
  const { written, kept } = await writeStarterFiles({ ...options, repo: resolve(options.repo) });
  for (const f of written) io.out(`wrote ${f}`);
  for (const note of kept) io.out(note);
  if (options.gitops) for (const line of gitopsNotes(options.gitops)) io.out(line);
  if (!options.age)
    io.out(
      'no --age given: add recipients to .sops.yaml or to `sops:` in the config before the first sync',
    );
  io.out(
    `next: edit ${options.config}, then run \`gitops-secrets check\` and \`gitops-secrets sync\``,
  );
  return ExitCode.ok;
}

/** What is at a path, the path itself and not what a symlink there points to. */
async function entryAt(path: string): Promise<'none' | 'symlink' | 'file'> {
  const st = await lstat(path).catch(() => undefined);
  return st === undefined ? 'none' : st.isSymbolicLink() ? 'symlink' : 'file';
}

/**
 * Writes a starter config, a .sops.yaml (with --age), the workflows and, with --flux / --argocd,
 * the kustomize wiring; never overwrites without --force, and never writes through a symlink.
 * An existing kustomization (or ksops generator) is kept as it is, even with --force: replaced,
 * the entries it holds would go, and Flux (`prune: true`) or Argo CD would delete those objects
 * from the cluster. `kept` says what was kept and what to add to it.
 */
export async function writeStarterFiles(
  options: InitOptions,
): Promise<{ written: string[]; kept: string[] }> {
  if (options.age !== undefined && !/^age1[0-9a-z]{20,}$/.test(options.age)) {
    throw new UsageError(
      `--age ${options.age} is not an age recipient (age1...)`,
      'print yours with `age-keygen -y KEYFILE`',
    );
  }
  const files = new Map<string, string>([[options.config, starterConfig()]]);
  if (options.age) files.set('.sops.yaml', sopsYaml(options.age));
  const uses = actionUses(options.action);
  const config = posix.normalize(options.config);
  files.set('.github/workflows/gitops-secrets-sync.yml', workflow('sync', config, uses));
  files.set('.github/workflows/gitops-secrets-rotate.yml', workflow('rotate', config, uses));
  const kept = options.gitops ? await gitopsWiring(options.repo, options.gitops, files) : [];
  const links: string[] = [];
  const existing: string[] = [];
  for (const path of files.keys()) {
    const at = await entryAt(join(options.repo, path));
    if (at === 'symlink') links.push(path);
    else if (at === 'file') existing.push(path);
  }
  if (links.length > 0)
    throw new UsageError(
      `refusing to write through a symlink: ${links.join(', ')}`,
      'remove the symlink (or replace it with the file itself) and run init again; nothing was written',
    );
  if (existing.length > 0 && !options.force) {
    throw new UsageError(`not overwriting ${existing.join(', ')}`, 'pass --force to replace them');
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(options.repo, path)), { recursive: true });
    await writeFile(join(options.repo, path), text);
  }
  return { written: [...files.keys()], kept };
}

/**
 * Adds the kustomize wiring to `files`, less the kustomization (in any spelling kustomize reads:
 * it refuses a directory with two) and the ksops generator that exist already: those are kept.
 */
async function gitopsWiring(
  repo: string,
  tool: GitopsTool,
  files: Map<string, string>,
): Promise<string[]> {
  // The directory every manifest of the starter config lands under.
  const root = templateDirs(STARTER_OUTPUT)[0]!;
  let found: string | undefined;
  for (const name of KUSTOMIZATION_NAMES)
    if ((await entryAt(join(repo, root, name))) !== 'none') {
      found = name;
      break;
    }
  const kustomization = posix.join(root, found ?? KUSTOMIZATION_NAMES[0]!);
  const generator = posix.join(root, KSOPS_GENERATOR);
  const kept: string[] = [];
  for (const [path, text] of gitopsFiles(tool, root, found ?? KUSTOMIZATION_NAMES[0]!)) {
    const keep =
      (path === kustomization && found !== undefined) ||
      (path === generator && (await entryAt(join(repo, path))) !== 'none');
    if (keep) kept.push(keptNote(tool, path, path === kustomization));
    else files.set(path, text);
  }
  return kept;
}

function keptNote(tool: GitopsTool, path: string, isKustomization: boolean): string {
  const why = `kept ${path} as it is (init never replaces an existing ${isKustomization ? 'kustomization' : 'ksops generator'}, not even with --force)`;
  if (!isKustomization)
    return `${why}: it must be a ksops generator (apiVersion: viaduct.ai/v1, kind: ksops) with a files: list, where sync lists each Secret`;
  return tool === 'flux'
    ? `${why}: sync lists each new Secret manifest under its resources:`
    : `${why}: add ./${KSOPS_GENERATOR} under its generators: (unless it lists a ksops generator already), so that sync lists each Secret in that generator's files:`;
}
