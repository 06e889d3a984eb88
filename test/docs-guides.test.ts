/**
 * docs/flux.md and docs/argocd.md, followed as written: every `sh` block runs, in order, in one
 * shell session (variables and the directory carry over) in a clone of an empty repository, with
 * the real sops, age, kustomize and the built CLI as `gitops-secrets`. A block that starts with
 * `# needs a cluster` is not run; each of its commands must be a kubectl, flux or argocd command.
 * `<!-- test: merge BRANCH -->` before a block merges that job branch on the remote first, as a
 * reviewer merging the pull request would.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import {
  type CrdSchema,
  crdValidator,
  KSOPS_STANDIN_DIR,
  kustomizeBuild,
  listedBy,
} from './helpers/kustomize.js';
import { CLI, ROOT, TOOLS_BIN } from './helpers/scenario.js';

interface Block {
  line: number;
  text: string;
  merge: string | undefined;
}

/** The `sh` blocks of a guide, with the line they start on and a merge marker before them. */
function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```\w/.test(lines[i]!)) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`unclosed block at line ${i + 1}`);
    if (lines[i] === '```sh') {
      const marker = /^<!-- test: merge (\S+) -->$/.exec(lines[i - 1] ?? '');
      blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n'), merge: marker?.[1] });
    }
    i = end;
  }
  return blocks;
}

/** The parsed `yaml` blocks of a guide. */
function yamlBlocks(markdown: string): Record<string, unknown>[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map(
    (m) => parse(m[1]!) as Record<string, unknown>,
  );
}

/** The commands of a block: its lines minus comments and continuations of a previous line. */
function commands(text: string): string[] {
  const out: string[] = [];
  let continued = false;
  for (const line of text.split('\n')) {
    if (!continued && line.trim() !== '' && !line.startsWith('#')) out.push(line);
    continued = /[\\|]\s*$/.test(line);
  }
  return out;
}

const CLUSTER = /^(kubectl|flux|argocd) /;

async function guide(t: ExecutionContext, name: 'flux' | 'argocd') {
  const markdown = await readFile(join(ROOT, 'docs', `${name}.md`), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), `gs-guide-${name}-`));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  const bin = join(dir, 'bin');
  await mkdir(home);
  await mkdir(bin);
  await mkdir(join(dir, 'tmp'));
  await writeFile(
    join(bin, 'gitops-secrets'),
    `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`,
    { mode: 0o755 },
  );
  const path = [bin, TOOLS_BIN, process.env.PATH ?? ''];
  // NOT ksops: the strict stand-in of fixtures/ksops-standin (see its source).
  if (name === 'argocd') path.unshift(KSOPS_STANDIN_DIR);
  const env: Record<string, string> = {
    PATH: path.join(':'),
    HOME: home,
    TMPDIR: join(dir, 'tmp'),
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
  };
  await writeFile(
    env.GIT_CONFIG_GLOBAL!,
    '[init]\n\tdefaultBranch = main\n[user]\n\tname = Guide Reader\n\temail = reader@example.com\n',
  );
  const git = (args: string[], cwd = dir) => execa('git', args, { cwd, env, extendEnv: false });
  const remote = join(dir, 'my-gitops.git');
  const repo = join(dir, 'my-gitops');
  await git(['init', '--quiet', '--bare', '-b', 'main', remote]);
  await git(['clone', '--quiet', remote, repo]);

  /** Merges a job branch into main on the remote, as the pull request's merge does. */
  async function merge(branch: string) {
    const clone = join(dir, 'merge');
    await rm(clone, { recursive: true, force: true });
    await git(['clone', '--quiet', remote, clone]);
    await git(['merge', '--quiet', '--ff-only', `origin/${branch}`], clone);
    // sync lists each manifest in the kustomization in the same commit: the merged tree's
    // kustomization (or its ksops generator) already lists every Secret manifest.
    const manifests: string[] = [];
    for (const ns of await readdir(join(clone, 'secrets'), { withFileTypes: true }))
      if (ns.isDirectory())
        for (const file of await readdir(join(clone, 'secrets', ns.name)))
          manifests.push(`secrets/${ns.name}/${file}`);
    t.true(manifests.length > 0, `${branch} holds a Secret manifest`);
    t.deepEqual(await listedBy(clone, 'secrets'), manifests.sort(), `${branch}: all listed`);
    await git(['push', '--quiet', 'origin', 'HEAD:main'], clone);
  }

  const state = join(dir, 'shell-state');
  const blocks = shellBlocks(markdown);
  const run: string[] = [];
  let cluster = 0;
  for (const block of blocks) {
    if (block.text.startsWith('# needs a cluster\n')) {
      for (const command of commands(block.text))
        t.regex(command, CLUSTER, `${name}.md:${block.line}: not a cluster command`);
      cluster++;
      continue;
    }
    if (block.merge) await merge(block.merge);
    const script = `set -euo pipefail
if [ -f "${state}" ]; then . "${state}"; cd "$GUIDE_PWD"; fi
${block.text}
GUIDE_PWD=$PWD
export -p | grep -v -E '^declare -x (OLDPWD|PWD|SHLVL|_)=' > "${state}"
echo "GUIDE_PWD=$(printf '%q' "$GUIDE_PWD")" >> "${state}"
`;
    const r = await execa('bash', ['-c', script], {
      cwd: repo,
      env,
      extendEnv: false,
      reject: false,
    });
    t.is(r.exitCode, 0, `${name}.md:${block.line}:\n${block.text}\n${r.stdout}\n${r.stderr}`);
    if (r.exitCode !== 0) break;
    run.push(r.stdout);
  }
  return { repo, env, blocks, run, cluster, yaml: yamlBlocks(markdown) };
}

interface Deployment {
  spec: {
    template: {
      spec: {
        containers: {
          name: string;
          image?: string;
          env: { name: string; value: string }[];
          volumeMounts: { mountPath: string; name: string; subPath?: string }[];
        }[];
        initContainers: { name: string }[];
        volumes: { name: string; secret?: { secretName: string } }[];
      };
    };
  };
}

/** The guide's patch applied by the real kustomize to a repo-server Deployment like Argo CD's. */
async function patchRepoServer(patch: object, env: Record<string, string>): Promise<Deployment> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-argocd-patch-'));
  try {
    await writeFile(
      join(dir, 'deployment.yaml'),
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: { app.kubernetes.io/name: argocd-repo-server }
  template:
    metadata:
      labels: { app.kubernetes.io/name: argocd-repo-server }
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:latest
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
      volumes:
        - { name: tmp, emptyDir: {} }
`,
    );
    await writeFile(
      join(dir, 'patch.yaml'),
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'argocd-repo-server' },
        ...patch,
      }),
    );
    await writeFile(
      join(dir, 'kustomization.yaml'),
      'resources: [deployment.yaml]\npatches:\n  - path: patch.yaml\n',
    );
    const built = await kustomizeBuild(dir, env);
    if (built.exitCode !== 0) throw new Error(built.stderr);
    return built.docs[0] as unknown as Deployment;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('docs/flux.md: every command runs; the result is the Secret Flux builds and decrypts', async (t) => {
  const { repo, env, blocks, run, cluster, yaml } = await guide(t, 'flux');
  // The Kustomization the guide shows is the one init wrote.
  const written = parse(await readFile(join(repo, 'flux/gitops-secrets.yaml'), 'utf8'));
  t.deepEqual(
    yaml.find((y) => y.apiVersion === 'kustomize.toolkit.fluxcd.io/v1'),
    written,
  );
  t.is(run.length + cluster, blocks.length, 'every block ran or needs a cluster');
  t.true(cluster >= 2);
  const build = run.find((out) => out.includes('kind: Secret'));
  t.regex(build ?? '', /name: example-app/);
  t.regex(build ?? '', /SESSION_KEY: ENC\[AES256_GCM,/, 'still encrypted: Flux decrypts');
  t.true(run.some((out) => out.includes('decrypts, MAC verified')));
  const built = await kustomizeBuild(join(repo, 'secrets'), env);
  t.is(built.exitCode, 0, built.stderr);
  t.deepEqual(
    built.docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
    ['Secret default/example-app'],
  );
});

test('docs/argocd.md: every command runs; ksops (stand-in) builds the decrypted Secret', async (t) => {
  const { repo, env, blocks, run, cluster, yaml } = await guide(t, 'argocd');
  // The kustomization and the generator the guide shows are the ones init wrote (before sync
  // listed a file).
  const kustomization = parse(await readFile(join(repo, 'secrets/kustomization.yaml'), 'utf8'));
  t.deepEqual(
    yaml.find((y) => y.kind === 'Kustomization'),
    kustomization,
  );
  const generator = parse(await readFile(join(repo, 'secrets/secret-generator.yaml'), 'utf8'));
  t.deepEqual(
    yaml.find((y) => y.kind === 'ksops'),
    { ...generator, files: [] },
  );
  // The repo-server patch, applied by kustomize as `kubectl patch` does (strategic merge) to
  // the Deployment Argo CD's install manifest ships, gives its container ksops, kustomize and the
  // key file that SOPS_AGE_KEY_FILE names.
  const patch = yaml.find((y) => JSON.stringify(y).includes('install-ksops'))!;
  const app = yaml.find((y) => y.kind === 'Application') as {
    apiVersion: string;
    kind: string;
    spec: { source: { path: string } };
  };
  const appSchema = parse(
    await readFile(join(ROOT, 'fixtures/argocd/application-crd-v1alpha1-spec.yaml'), 'utf8'),
  ) as { group: string; kind: string; version: string; openAPIV3Schema: CrdSchema };
  const validApp = crdValidator(appSchema.openAPIV3Schema);
  t.true(validApp(app), JSON.stringify(validApp.errors));
  t.false(validApp({ ...app, spec: { ...app.spec, sorce: app.spec.source } }), 'a typo is caught');
  t.is(app.apiVersion, `${appSchema.group}/${appSchema.version}`);
  t.is(app.kind, appSchema.kind);
  t.is(app.spec.source.path, 'secrets');
  const patched = await patchRepoServer(patch, env);
  const server = patched.spec.template.spec.containers.find(
    (c) => c.name === 'argocd-repo-server',
  )!;
  const keyFile = server.env.find((e) => e.name === 'SOPS_AGE_KEY_FILE')!.value;
  const mounts = Object.fromEntries(server.volumeMounts.map((m) => [m.mountPath, m]));
  t.like(mounts['/usr/local/bin/ksops'], { name: 'custom-tools', subPath: 'ksops' });
  t.like(mounts['/usr/local/bin/kustomize'], { name: 'custom-tools', subPath: 'kustomize' });
  t.truthy(server.image, 'the container Argo CD ships is patched, not replaced');
  const keyDir = keyFile.slice(0, keyFile.lastIndexOf('/'));
  const keyVolume = patched.spec.template.spec.volumes.find((v) => v.name === mounts[keyDir]?.name);
  t.is(keyVolume?.secret?.secretName, 'sops-age');
  // The Secret the guide creates holds the key under the file name SOPS_AGE_KEY_FILE reads.
  t.true(blocks.some((b) => b.text.includes(`--from-file=${keyFile.slice(keyDir.length + 1)}=`)));
  t.is(patched.spec.template.spec.initContainers[0]?.name, 'install-ksops');
  t.is(run.length + cluster, blocks.length, 'every block ran or needs a cluster');
  t.true(cluster >= 2);
  t.true(run.some((out) => /^kind: Secret\n {2}name: example-app$/m.test(out)));
  t.true(run.some((out) => out.includes('decrypts, MAC verified')));
});

test('the block reader finds sh blocks, their lines and merge markers; other languages are not run', (t) => {
  const md = [
    '```yaml',
    'a: 1',
    '```',
    '<!-- test: merge gitops-secrets/sync -->',
    '```sh',
    'git pull',
    '```',
    '```sh',
    '# needs a cluster',
    'kubectl create secret generic x \\',
    '  --from-file=a=b',
    '```',
  ].join('\n');
  t.deepEqual(shellBlocks(md), [
    { line: 5, text: 'git pull', merge: 'gitops-secrets/sync' },
    {
      line: 8,
      text: '# needs a cluster\nkubectl create secret generic x \\\n  --from-file=a=b',
      merge: undefined,
    },
  ]);
  t.deepEqual(commands('# needs a cluster\nkubectl a \\\n  --b\nflux c | \\\n d'), [
    'kubectl a \\',
    'flux c | \\',
  ]);
});

test('README (at most 250 lines) and docs/commands.md link both guides', async (t) => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  t.true(readme.split('\n').length <= 251, 'README.md has at most 250 lines');
  const commandsDoc = await readFile(join(ROOT, 'docs/commands.md'), 'utf8');
  for (const name of ['flux', 'argocd']) {
    t.true(readme.includes(`](docs/${name}.md)`), `README links docs/${name}.md`);
    t.true(commandsDoc.includes(`](${name}.md)`), `docs/commands.md links ${name}.md`);
  }
});
