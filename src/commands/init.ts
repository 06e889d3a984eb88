import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import type { Output } from './common.js';

export interface InitOptions {
  /** The repository (`--repo`). */
  repo: string;
  config: string;
  age: string | undefined;
  force: boolean;
}

const SCHEMA_URL =
  'https://raw.githubusercontent.com/gitops-secrets/gitops-secrets/main/config/schema.json';

export function starterConfig(): string {
  return `# yaml-language-server: $schema=${SCHEMA_URL}
# gitops-secrets config: declare each Kubernetes Secret once; \`gitops-secrets sync\` generates
# every missing key exactly once, encrypts it with sops and proposes it in a pull request.
version: 1

# Where each Secret is written, relative to the repo root.
output: secrets/{namespace}/{name}.yaml

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

function workflow(job: 'sync' | 'rotate'): string {
  const on =
    job === 'sync'
      ? `on:
  push:
    branches: [main]
    paths: [config/secrets.yaml, .sops.yaml]
  workflow_dispatch:`
      : `on:
  schedule:
    - cron: "17 6 * * 1"
  workflow_dispatch:`;
  return `# Written by \`gitops-secrets init\`. Pin the action to a commit SHA of the release you use.
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
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0
      - uses: gitops-secrets/gitops-secrets@v0
        with:
          command: ${job}
          # A GitHub App token or fine-grained PAT lets the PR trigger your other workflows.
          github-token: \${{ secrets.GITOPS_SECRETS_TOKEN || github.token }}
        env:
          SOPS_AGE_KEY: \${{ secrets.SOPS_AGE_KEY }}
`;
}

/** `init`: writes the starter files and says what to do next. */
export async function init(options: InitOptions, io: Output): Promise<ExitCode> {
  const written = await writeStarterFiles({ ...options, repo: resolve(options.repo) });
  for (const f of written) io.out(`wrote ${f}`);
  if (!options.age)
    io.out(
      'no --age given: add recipients to .sops.yaml or to `sops:` in the config before the first sync',
    );
  io.out(
    `next: edit ${options.config}, then run \`gitops-secrets check\` and \`gitops-secrets sync\``,
  );
  return ExitCode.ok;
}

/** Writes a starter config, a .sops.yaml (with --age) and the workflows; never overwrites without --force. */
export async function writeStarterFiles(options: InitOptions): Promise<string[]> {
  if (options.age !== undefined && !/^age1[0-9a-z]{20,}$/.test(options.age)) {
    throw new UsageError(
      `--age ${options.age} is not an age recipient (age1...)`,
      'print yours with `age-keygen -y KEYFILE`',
    );
  }
  const files = new Map<string, string>([[options.config, starterConfig()]]);
  if (options.age) files.set('.sops.yaml', sopsYaml(options.age));
  files.set('.github/workflows/gitops-secrets-sync.yml', workflow('sync'));
  files.set('.github/workflows/gitops-secrets-rotate.yml', workflow('rotate'));
  const existing: string[] = [];
  for (const path of files.keys()) {
    if (
      await access(join(options.repo, path)).then(
        () => true,
        () => false,
      )
    )
      existing.push(path);
  }
  if (existing.length > 0 && !options.force) {
    throw new UsageError(`not overwriting ${existing.join(', ')}`, 'pass --force to replace them');
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(options.repo, path)), { recursive: true });
    await writeFile(join(options.repo, path), text);
  }
  return [...files.keys()];
}
