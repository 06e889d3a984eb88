/**
 * The troubleshooting sections of docs/flux.md and docs/argocd.md: each symptom made real with
 * the real sops and kustomize (and the ksops stand-in), and the message each guide quotes is the
 * one the tool prints.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import {
  fluxDecrypt,
  KSOPS_STANDIN_DIR,
  kustomizeBuild,
  MANIFEST,
  synced,
} from './helpers/kustomize.js';
import { makeScenario, ROOT, type Scenario, TOOLS_BIN } from './helpers/scenario.js';

/** A guide's text with every run of whitespace as one space (a quote may wrap a line). */
async function guide(name: 'flux' | 'argocd'): Promise<string> {
  return (await readFile(join(ROOT, 'docs', `${name}.md`), 'utf8')).replace(/\s+/g, ' ');
}

async function sopsDecrypt(s: Scenario, env: Record<string, string> = s.env) {
  return execa(join(TOOLS_BIN, 'sops'), ['decrypt', MANIFEST], {
    cwd: s.repo,
    env,
    extendEnv: false,
    reject: false,
  });
}

/** Changes a label in the encrypted manifest by hand, as a careless edit or merge would. */
async function handEdit(s: Scenario) {
  const path = join(s.repo, MANIFEST);
  const text = await readFile(path, 'utf8');
  const edited = text.replace(
    'app.kubernetes.io/managed-by: gitops-secrets',
    'app.kubernetes.io/managed-by: someone',
  );
  if (edited === text) throw new Error('no label to edit');
  await writeFile(path, edited);
}

test('MAC mismatch: a hand edit breaks sops decrypt and the ksops build; Flux still decrypts', async (t) => {
  const flux = await makeScenario();
  const argo = await makeScenario();
  t.teardown(() => Promise.all([flux.cleanup(), argo.cleanup()]));
  await Promise.all([synced(flux, '--flux'), synced(argo, '--argocd')]);
  await Promise.all([handEdit(flux), handEdit(argo)]);
  for (const name of ['flux', 'argocd'] as const)
    t.true((await guide(name)).includes('`MAC mismatch`'));

  const local = await sopsDecrypt(flux);
  t.not(local.exitCode, 0);
  t.regex(local.stderr, /MAC mismatch/);
  // Flux's decryptor skips the MAC: the edited Secret still decrypts, as the guide says.
  const built = await kustomizeBuild(join(flux.repo, 'secrets'), flux.env);
  t.is(built.exitCode, 0, built.stderr);
  const data = await fluxDecrypt(built.docs[0]!, flux.env);
  t.is(data.SESSION_KEY?.length, 48);
  t.regex(await guide('flux'), /kustomize-controller skips the MAC check/);

  const env = { ...argo.env, PATH: `${KSOPS_STANDIN_DIR}:${argo.env.PATH}` };
  const ksops = await kustomizeBuild(join(argo.repo, 'secrets'), env, true);
  t.not(ksops.exitCode, 0);
  t.regex(ksops.stderr, /MAC mismatch/);
});

test('missing key: the messages for a wrong key and for no key are the ones the guides quote', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await synced(s, '--flux');
  const other = join(s.dir, 'another-age-key.txt');
  await execa(join(TOOLS_BIN, 'age-keygen'), ['-o', other], { env: s.env, extendEnv: false });
  const wrong = await sopsDecrypt(s, { ...s.env, SOPS_AGE_KEY_FILE: other });
  const { SOPS_AGE_KEY_FILE: _, ...noKeyEnv } = s.env;
  const none = await sopsDecrypt(s, noKeyEnv);
  t.not(wrong.exitCode, 0);
  t.not(none.exitCode, 0);
  const oneLine = (text: string) => text.replace(/\s*\|\s*/g, ' ').replace(/\s+/g, ' ');
  for (const name of ['flux', 'argocd'] as const) {
    const doc = await guide(name);
    for (const quote of [
      'identity did not match any of the recipients',
      'Failed to get the data key required to decrypt the SOPS file',
    ]) {
      t.true(doc.includes(`\`${quote}\``), `${name}.md quotes ${quote}`);
      t.true(oneLine(wrong.stderr).includes(quote), wrong.stderr);
    }
    t.true(doc.includes('`failed to load age identities`'));
  }
  t.true(oneLine(none.stderr).includes('failed to load age identities'), none.stderr);
});

test('file not listed: kustomize builds only what the kustomization lists; an entry without its file fails the build', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await synced(s, '--flux');
  const path = join(s.repo, 'secrets/kustomization.yaml');
  const listed = await readFile(path, 'utf8');
  await writeFile(path, listed.replace(/^resources:[\s\S]*$/m, 'resources: []\n'));
  const unlisted = await kustomizeBuild(join(s.repo, 'secrets'), s.env);
  t.is(unlisted.exitCode, 0, unlisted.stderr);
  t.deepEqual(unlisted.docs, [], 'the Secret is in git but not in the build');
  await writeFile(
    path,
    listed.replace(/^resources:[\s\S]*$/m, 'resources:\n  - ./default/gone.yaml\n'),
  );
  const missing = await kustomizeBuild(join(s.repo, 'secrets'), s.env);
  t.not(missing.exitCode, 0);
  t.regex(missing.stderr, /gone\.yaml/);
  for (const name of ['flux', 'argocd'] as const)
    t.regex(
      await guide(name),
      /an entry whose file is gone, makes (`kustomize build`|the build) fail/,
    );
});

test('Argo CD plugin set-up: the two kustomize errors the guide quotes', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await synced(s, '--argocd');
  const doc = await guide('argocd');
  const disabled = await kustomizeBuild(join(s.repo, 'secrets'), s.env);
  t.not(disabled.exitCode, 0);
  const noPlugins = "external plugins disabled; unable to load external plugin 'ksops'";
  t.true(disabled.stderr.includes(noPlugins), disabled.stderr);
  t.true(doc.includes(`\`${noPlugins}\``));
  const noKsops = await kustomizeBuild(join(s.repo, 'secrets'), s.env, true);
  t.not(noKsops.exitCode, 0);
  const notFound = 'exec: "ksops": executable file not found in $PATH';
  t.true(noKsops.stderr.includes(notFound), noKsops.stderr);
  t.true(doc.includes(`\`${notFound}\``));
});
