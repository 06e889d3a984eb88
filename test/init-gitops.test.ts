/**
 * `init --flux` and `init --argocd`, as a platform team uses them: what they write is valid for
 * the projects that read it (Flux's Kustomization CRD schema, kustomize, ksops's generator
 * format), and the real `kustomize build` of it, after a real `sync`, yields the Secrets: still
 * sops-encrypted for Flux (whose kustomize-controller decrypts after the build), decrypted by the
 * ksops exec plugin for Argo CD.
 */
import { access, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { templateDirs } from '../src/model/paths.js';
import {
  type BuiltObject,
  type CrdSchema,
  crdValidator,
  fluxDecrypt,
  KSOPS_STANDIN_DIR,
  kustomizeBuild,
  MANIFEST,
  synced,
} from './helpers/kustomize.js';
import { makeScenario, ROOT } from './helpers/scenario.js';

const CRD = join(ROOT, 'fixtures/flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml');

async function fluxValidator() {
  const crd = parse(await readFile(CRD, 'utf8')) as {
    spec: {
      group: string;
      names: { kind: string };
      versions: { name: string; served: boolean; schema: { openAPIV3Schema: CrdSchema } }[];
    };
  };
  const v1 = crd.spec.versions.find((v) => v.name === 'v1' && v.served)!;
  return { crd, validate: crdValidator(v1.schema.openAPIV3Schema) };
}

const secretsOf = (docs: BuiltObject[]) => docs.filter((d) => d.kind === 'Secret');

test('--flux: the example Kustomization is valid against the CRD kustomize-controller publishes', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  const r = await s.run(['init', '--flux']);
  t.is(r.exitCode, 0, r.stderr);
  const text = await readFile(join(s.repo, 'flux/gitops-secrets.yaml'), 'utf8');
  const doc = parse(text) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string };
    spec: { path: string; decryption: { provider: string; secretRef: { name: string } } };
  };
  const { crd, validate } = await fluxValidator();
  t.is(doc.apiVersion, `${crd.spec.group}/v1`);
  t.is(doc.kind, crd.spec.names.kind);
  t.true(validate(doc), JSON.stringify(validate.errors));
  t.regex(doc.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  t.is(doc.metadata.namespace, 'flux-system');
  t.deepEqual(doc.spec.decryption, { provider: 'sops', secretRef: { name: 'sops-age' } });
  // spec.path is the directory of the kustomization init wrote.
  await access(join(s.repo, doc.spec.path, 'kustomization.yaml'));
  // ...which kustomize builds before the first sync: Flux's first reconciliation succeeds.
  const empty = await kustomizeBuild(join(s.repo, doc.spec.path), s.env);
  t.is(empty.exitCode, 0, empty.stderr);
  t.deepEqual(empty.docs, []);
  // The printed command makes the Secret the Kustomization names, under the key Flux reads.
  t.regex(
    r.stdout,
    /kubectl create secret generic sops-age --namespace=flux-system --from-file=age\.agekey=/,
  );
  t.regex(r.stdout, /docs\/flux\.md/);

  // The validator refuses what the API server would: a misspelt field, an unknown provider.
  const misspelt = structuredClone(doc) as unknown as { spec: Record<string, unknown> };
  misspelt.spec.decyption = misspelt.spec.decryption;
  delete misspelt.spec.decryption;
  t.false(validate(misspelt));
  const vault = structuredClone(doc);
  vault.spec.decryption.provider = 'vault';
  t.false(validate(vault));
});

test('--flux: after sync, kustomize build lists the Secret still encrypted, and sops decrypts it', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await synced(s, '--flux');
  const built = await kustomizeBuild(join(s.repo, 'secrets'), s.env);
  t.is(built.exitCode, 0, built.stderr);
  const [secret, ...others] = secretsOf(built.docs);
  t.is(others.length, 0);
  t.like(secret, { metadata: { name: 'example-app', namespace: 'default' } });
  t.truthy(secret!.sops?.mac, 'still sops-encrypted: Flux decrypts after the build');
  for (const value of Object.values(secret!.data ?? {})) t.regex(value, /^ENC\[AES256_GCM,/);
  // What kustomize-controller does with each built sops resource: its JSON through sops decrypt,
  // without the MAC check (the build sorts keys, so the MAC no longer matches; Flux's decryptor
  // leaves that check off). The file in git still passes it.
  const data = await fluxDecrypt(secret!, s.env);
  await s.decrypt(await readFile(join(s.repo, MANIFEST), 'utf8'), MANIFEST);
  t.deepEqual(Object.keys(data).sort(), ['ENCRYPTION_KEY', 'SESSION_KEY']);
  t.is(data.SESSION_KEY!.length, 48);
  t.is(Buffer.from(data.ENCRYPTION_KEY!, 'base64').length, 32);
});

test('--argocd: the ksops generator has the documented shape and the kustomization lists it', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  const r = await s.run(['init', '--argocd']);
  t.is(r.exitCode, 0, r.stderr);
  const kustomization = parse(
    await readFile(join(s.repo, 'secrets/kustomization.yaml'), 'utf8'),
  ) as { generators: string[]; resources?: unknown };
  t.deepEqual(kustomization.generators, ['./secret-generator.yaml']);
  const generator = parse(
    await readFile(join(s.repo, 'secrets', kustomization.generators[0]!), 'utf8'),
  ) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; annotations: Record<string, string> };
    files: unknown;
  };
  // The format of ksops's README (viaduct-ai/kustomize-sops): a KRM exec function named ksops.
  t.is(generator.apiVersion, 'viaduct.ai/v1');
  t.is(generator.kind, 'ksops');
  t.truthy(generator.metadata.name);
  t.deepEqual(parse(generator.metadata.annotations['config.kubernetes.io/function']!), {
    exec: { path: 'ksops' },
  });
  t.deepEqual(generator.files, []);
  // The note names each piece of the repo-server set-up.
  t.regex(r.stdout, /kustomize\.buildOptions: "--enable-alpha-plugins --enable-exec"/);
  t.regex(r.stdout, /argocd-cm/);
  t.regex(r.stdout, /ksops on the repo-server's PATH/);
  t.regex(r.stdout, /SOPS_AGE_KEY_FILE/);
  t.regex(r.stdout, /docs\/argocd\.md/);
});

test('--argocd: after sync, kustomize build with exec plugins (ksops stand-in) yields the decrypted Secret', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await synced(s, '--argocd');
  const dir = join(s.repo, 'secrets');
  // Without the flags Argo CD's buildOptions add, kustomize refuses the exec plugin.
  const plain = await kustomizeBuild(dir, s.env);
  t.not(plain.exitCode, 0);
  const env = { ...s.env, PATH: `${KSOPS_STANDIN_DIR}:${s.env.PATH}` };
  const built = await kustomizeBuild(dir, env, true);
  t.is(built.exitCode, 0, built.stderr);
  const [secret, ...others] = secretsOf(built.docs);
  t.is(others.length, 0);
  t.like(secret, { metadata: { name: 'example-app', namespace: 'default' } });
  t.is(secret!.sops, undefined, 'decrypted by the plugin');
  const data = Object.fromEntries(
    Object.entries(secret!.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  );
  t.deepEqual(Object.keys(data).sort(), ['ENCRYPTION_KEY', 'SESSION_KEY']);
  t.is(data.SESSION_KEY!.toString('utf8').length, 48);
  t.is(Buffer.from(data.ENCRYPTION_KEY!.toString('utf8'), 'base64').length, 32);
});

test('--flux and --argocd together are refused, and nothing is written', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  const r = await s.run(['init', '--flux', '--argocd']);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /'--flux' cannot be used with option '--argocd'|cannot be used with/);
  t.is((await s.git(['status', '--porcelain'])).trim(), '');
});

test('an existing kustomization, in any spelling kustomize reads, is kept as it is, even with --force; a note says what to add', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await mkdir(join(s.repo, 'secrets'), { recursive: true });
  const mine = 'resources:\n  - mine.yaml # keep me\n';
  await writeFile(join(s.repo, 'secrets/kustomization.yml'), mine);
  const r = await s.run(['init', '--argocd']);
  t.is(r.exitCode, 0, r.stderr);
  t.is(await readFile(join(s.repo, 'secrets/kustomization.yml'), 'utf8'), mine);
  t.regex(
    r.stdout,
    /kept secrets\/kustomization\.yml as it is .*add \.\/secret-generator\.yaml under its generators:/,
  );
  t.notRegex(r.stdout, /wrote secrets\/kustomization/);
  t.regex(r.stdout, /wrote secrets\/secret-generator\.yaml\n/);
  await t.throwsAsync(
    access(join(s.repo, 'secrets/kustomization.yaml')),
    undefined,
    'no second one',
  );

  // --force replaces init's own files, never the kustomization (with Flux's prune: true, a
  // replaced one would delete from the cluster everything it listed) nor the ksops generator
  // (whose files: Argo CD decrypts).
  const generator = join(s.repo, 'secrets/secret-generator.yaml');
  const listing = (await readFile(generator, 'utf8')).replace(
    'files: []',
    'files:\n- prod/db.yaml',
  );
  await writeFile(generator, listing);
  const argo = await s.run(['init', '--argocd', '--force']);
  t.is(argo.exitCode, 0, argo.stderr);
  t.regex(argo.stdout, /kept secrets\/secret-generator\.yaml as it is/);
  t.regex(argo.stdout, /wrote config\/secrets\.yaml\n/);
  t.is(await readFile(generator, 'utf8'), listing);
  const flux = await s.run(['init', '--flux', '--force']);
  t.is(flux.exitCode, 0, flux.stderr);
  t.regex(flux.stdout, /kept secrets\/kustomization\.yml as it is \(.*not even with --force\)/);
  t.regex(flux.stdout, /wrote flux\/gitops-secrets\.yaml\n/);
  t.is(await readFile(join(s.repo, 'secrets/kustomization.yml'), 'utf8'), mine);
  await t.throwsAsync(access(join(s.repo, 'secrets/kustomization.yaml')));
});

test('a symlink at a path init writes is refused, even with --force, dangling or not: nothing is written through it', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await mkdir(join(s.repo, '.github/workflows'), { recursive: true });
  const outside = join(s.dir, 'outside.yml');
  await symlink(outside, join(s.repo, '.github/workflows/gitops-secrets-sync.yml'));
  for (const args of [['init'], ['init', '--force']]) {
    const r = await s.run(args);
    t.is(r.exitCode, 2, r.stdout);
    t.regex(
      r.stderr,
      /refusing to write through a symlink: \.github\/workflows\/gitops-secrets-sync\.yml/,
    );
    await t.throwsAsync(access(outside), undefined, 'the dangling symlink was not written through');
    await t.throwsAsync(access(join(s.repo, 'config/secrets.yaml')), undefined, 'nothing written');
  }
  // A kustomization that is a symlink (dangling) is kept, not written through either.
  await rm(join(s.repo, '.github'), { recursive: true });
  await mkdir(join(s.repo, 'secrets'), { recursive: true });
  await symlink(join(s.dir, 'nowhere.yaml'), join(s.repo, 'secrets/kustomization.yaml'));
  const r = await s.run(['init', '--flux', '--force']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /kept secrets\/kustomization\.yaml as it is/);
  await t.throwsAsync(access(join(s.dir, 'nowhere.yaml')));
});

test('init --help describes --flux and --argocd; plain init writes no kustomization', async (t) => {
  const help = await execa(process.execPath, [join(ROOT, 'dist/cli.js'), 'init', '--help']);
  t.regex(help.stdout, /--flux\s+also write secrets\/kustomization\.yaml/);
  t.regex(help.stdout, /--argocd\s+also write secrets\/kustomization\.yaml with a ksops/);
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  t.is((await s.run(['init'])).exitCode, 0);
  await t.throwsAsync(access(join(s.repo, 'secrets/kustomization.yaml')));
  await t.throwsAsync(access(join(s.repo, 'flux')));
});

test('the kustomization goes in the static prefix of the output template', (t) => {
  const root = (template: string) => templateDirs(template)[0];
  t.is(root('secrets/{namespace}/{name}.yaml'), 'secrets');
  t.is(root('clusters/prod/secrets/{name}.yaml'), 'clusters/prod/secrets');
  t.is(root('deploy/{env}/secrets/{namespace}-{name}.yaml'), 'deploy');
  t.is(root('{namespace}/{name}.yaml'), '.');
  t.is(root('secrets-{namespace}/{name}.yaml'), '.');
});
