/**
 * Helpers for the tests that build what `init --flux` / `init --argocd` writes with the real
 * kustomize (the ksops stand-in is fixtures/ksops-standin, put on PATH by the tests), and what
 * the kustomization of a merged tree lists.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, type Scenario, TOOLS_BIN } from './scenario.js';

/** The manifest `sync` writes for the starter config's `default/example-app`. */
export const MANIFEST = 'secrets/default/example-app.yaml';

/**
 * The directory holding `ksops`: a STAND-IN for the real ksops (not installable from the
 * registries this project uses), as strict as ksops about the generator it is given.
 */
export const KSOPS_STANDIN_DIR = join(ROOT, 'fixtures/ksops-standin');

/**
 * The repo paths the kustomization of `root` lists: its `resources:` and the `files:` of the
 * generators under its `generators:`, each read relative to `root` (as kustomize and ksops do).
 */
export async function listedBy(repo: string, root: string): Promise<string[]> {
  const read = async (path: string) =>
    (parse(await readFile(join(repo, root, path), 'utf8')) ?? {}) as Record<string, unknown>;
  const kustomization = await read('kustomization.yaml');
  const entries = [...((kustomization.resources as string[] | null) ?? [])];
  for (const g of (kustomization.generators as string[] | null) ?? [])
    entries.push(...(((await read(g)).files as string[] | null) ?? []));
  return entries.map((e) => posix.join(root, e)).sort();
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
 * `init FLAG`, then a real `sync` of the starter config, merged: the repository as the GitOps
 * controller fetches it, whose kustomization must list the manifest already (sync lists it in
 * the same commit). Returns what init printed.
 */
export async function synced(s: Scenario, flag: '--flux' | '--argocd'): Promise<string> {
  const init = await s.run(['init', flag]);
  if (init.exitCode !== 0) throw new Error(init.stderr);
  await s.commitAndPush('gitops-secrets init');
  const sync = await s.run(['sync']);
  if (sync.exitCode !== 0) throw new Error(sync.stderr);
  await s.mergePullRequest();
  const listed = await listedBy(s.repo, 'secrets');
  if (!listed.includes(MANIFEST))
    throw new Error(`the merged kustomization does not list ${MANIFEST}: ${listed.join(', ')}`);
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
