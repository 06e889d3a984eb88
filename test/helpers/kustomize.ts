/**
 * Helpers for the tests that build what `init --flux` / `init --argocd` writes with the real
 * kustomize: the ksops stand-in on a PATH, and the listing of a synced manifest in the
 * kustomization where `sync` does not (yet) list it itself.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import { isSeq, parseAllDocuments, parseDocument } from 'yaml';
import { ROOT, type Scenario, TOOLS_BIN } from './scenario.js';

/** The manifest `sync` writes for the starter config's `default/example-app`. */
export const MANIFEST = 'secrets/default/example-app.yaml';

/**
 * A directory holding `ksops`: a wrapper around test/helpers/ksops-stand-in.mjs, a STAND-IN for
 * the real ksops (not installable from the registries this project uses).
 */
export async function ksopsStandInBin(dir: string): Promise<string> {
  const bin = join(dir, 'ksops-stand-in-bin');
  await mkdir(bin, { recursive: true });
  const script = join(ROOT, 'test/helpers/ksops-stand-in.mjs');
  await writeFile(join(bin, 'ksops'), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  await chmod(join(bin, 'ksops'), 0o755);
  return bin;
}

/**
 * Lists `manifest` (a repo path) in the kustomization of `root`: under `resources:` (Flux) or in
 * the `files:` of the ksops generator it lists (Argo CD), unless it is there already. This is
 * what `sync` does itself with the kustomization upkeep of issue 22 (item 1); on a branch without
 * it, the test does it here, so that what `init` wrote is what gets built.
 */
export async function listManifest(repo: string, root: string, manifest: string): Promise<void> {
  const kustomization = join(repo, root, 'kustomization.yaml');
  const doc = parseDocument(await readFile(kustomization, 'utf8'));
  const entry = `./${posix.relative(root, manifest)}`;
  const generators = doc.get('generators');
  const [file, listed] = isSeq(generators)
    ? [join(repo, root, String(generators.items[0])), 'files']
    : [kustomization, 'resources'];
  const target = file === kustomization ? doc : parseDocument(await readFile(file, 'utf8'));
  const entries = (target.get(listed) as { toJSON(): string[] } | undefined)?.toJSON() ?? [];
  if (entries.some((e) => posix.normalize(e) === posix.normalize(entry))) return;
  target.set(listed, [...entries, entry]);
  await writeFile(file, target.toString());
}

/** A Kubernetes object as `kustomize build` prints it. */
export interface BuiltObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  sops?: { mac?: string };
}

/** `kustomize build DIR` with the real kustomize; `exec` adds the flags ksops needs. */
export async function kustomizeBuild(
  dir: string,
  env: Record<string, string>,
  exec = false,
): Promise<{ exitCode: number; stdout: string; stderr: string; docs: BuiltObject[] }> {
  const flags = exec ? ['--enable-alpha-plugins', '--enable-exec'] : [];
  const r = await execa(join(TOOLS_BIN, 'kustomize'), ['build', ...flags, '.'], {
    cwd: dir,
    env,
    extendEnv: false,
    reject: false,
  });
  const docs =
    r.exitCode === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS() as BuiltObject) : [];
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, docs };
}

/**
 * `init FLAG`, then a real `sync` of the starter config, merged and listed in the kustomization:
 * the repository as the GitOps controller fetches it. Returns what init printed.
 */
export async function synced(s: Scenario, flag: '--flux' | '--argocd'): Promise<string> {
  const init = await s.run(['init', flag]);
  if (init.exitCode !== 0) throw new Error(init.stderr);
  await s.commitAndPush('gitops-secrets init');
  const sync = await s.run(['sync']);
  if (sync.exitCode !== 0) throw new Error(sync.stderr);
  await s.mergePullRequest();
  await listManifest(s.repo, 'secrets', MANIFEST);
  return init.stdout;
}

/**
 * Decrypts one built resource as Flux's kustomize-controller does (internal/decryptor): its JSON
 * through sops, without the MAC check, which the controller leaves off because the build
 * re-orders keys. Returns the Secret's data, base64-decoded.
 */
export async function fluxDecrypt(
  resource: BuiltObject,
  env: Record<string, string>,
): Promise<Record<string, string>> {
  const r = await execa(
    join(TOOLS_BIN, 'sops'),
    ['decrypt', '--ignore-mac', '--filename-override', 'resource.json'].concat([
      '--input-type',
      'json',
      '--output-type',
      'json',
    ]),
    { input: JSON.stringify(resource), env, extendEnv: false },
  );
  const plain = JSON.parse(r.stdout) as BuiltObject;
  return Object.fromEntries(
    Object.entries(plain.data ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]),
  );
}

export type CrdSchema = Record<string, unknown> & {
  properties?: Record<string, CrdSchema>;
  items?: CrdSchema;
};

/**
 * The CRD's schema as `kubectl apply` checks it by default (field validation Strict): a field the
 * schema does not declare is an error, not silently pruned. Objects that keep unknown fields
 * (`x-kubernetes-preserve-unknown-fields`, `additionalProperties`) are left as they are.
 */
function strict(schema: CrdSchema): CrdSchema {
  const out: CrdSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, strict(v)]),
    );
    if (!('additionalProperties' in schema) && !schema['x-kubernetes-preserve-unknown-fields'])
      out.additionalProperties = false;
  }
  if (schema.items) out.items = strict(schema.items);
  return out;
}

/** A validator for objects of a CRD's schema, strict about unknown fields as kubectl is. */
export function crdValidator(schema: CrdSchema) {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(strict(schema));
}
