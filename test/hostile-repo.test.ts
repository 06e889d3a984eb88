/**
 * Hostile repo state: files at the output paths that the tool must not use as they are. Each
 * run must exit 1 with a message that names the file and the fix, push nothing, open no PR, and
 * print no plaintext. (A branch someone else pushed to: test/e2e-pull-request.test.ts.)
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import {
  KEPTN_CONFIG as CONFIG,
  expectCleanState,
  expectNoLeaks,
  type Harness,
  leakCheckCount,
  makeHarness,
  REAL_SOPS,
} from './helpers/reliability.js';

const GROWN = `${CONFIG}      api_key: { uuid: true }\n`;
const FILE = 'secrets/keptn/bridge-oauth.yaml';
const OTHER_RECIPIENT = 'age173k90tk8j8qnyrjrpz7q9sqkl43s0en3e9asl83clkzm03345f2q7pma59';
/** A value a person committed in plaintext by mistake; no message may repeat it. */
const PLAINTEXT = 'hunter2-plaintext-in-the-repo-9f8e7d';

/** Sync and merge, then delete the job branch as GitHub does on merge: the base has the file. */
async function mergedBase(h: Harness): Promise<void> {
  const r = await h.run(['sync']);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await h.s.git(['fetch', '--quiet', 'origin']);
  await h.s.git(['merge', '--quiet', '--ff-only', 'origin/gitops-secrets/sync']);
  await h.s.git(['push', '--quiet', 'origin', 'HEAD:main', ':gitops-secrets/sync']);
  await h.s.git(['branch', '--quiet', '-D', 'gitops-secrets/sync']);
  await h.branchValues('main');
}

async function put(h: Harness, path: string, text: string) {
  await mkdir(dirname(join(h.s.repo, path)), { recursive: true });
  await writeFile(join(h.s.repo, path), text);
}

const plainSecret = (data: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: bridge-oauth\n  namespace: keptn\ntype: Opaque\n${data}`;

interface HostileCase {
  name: string;
  /** Sync and merge first, so the base holds a real encrypted file. */
  base: boolean;
  /** Makes the repo hostile (in the user's checkout; the test commits and pushes it). */
  arrange(h: Harness): Promise<void>;
  message: RegExp;
  fix: RegExp;
}

const CASES: HostileCase[] = [
  {
    name: 'an annotation edited by hand (sops MAC mismatch) in a file sync must change',
    base: true,
    async arrange(h) {
      const text = await readFile(join(h.s.repo, FILE), 'utf8');
      const edited = text.replace(
        /\n( +)(gitops-secrets\.io\/state: .*)\n/,
        '\n$1owner: edited-by-hand\n$1$2\n',
      );
      if (edited === text) throw new Error('no annotation to edit');
      await writeFile(join(h.s.repo, FILE), edited);
      await h.s.writeConfig(GROWN);
    },
    message:
      /sops failed on secrets\/keptn\/bridge-oauth\.yaml \(exit 51: MAC mismatch: the file was changed after it was encrypted/,
    fix: /fix: restore the file from git history, or re-create it with sops/,
  },
  {
    name: 'a Secret not encrypted at all',
    base: false,
    async arrange(h) {
      await put(
        h,
        FILE,
        plainSecret(`data:\n  session_secret: ${Buffer.from(PLAINTEXT).toString('base64')}\n`),
      );
    },
    message: /secrets\/keptn\/bridge-oauth\.yaml is not encrypted with sops/,
    fix: /fix: encrypt it with `sops encrypt -i`, or delete it so that sync regenerates it/,
  },
  {
    name: 'a plaintext value added by hand to an encrypted Secret',
    base: true,
    async arrange(h) {
      const text = await readFile(join(h.s.repo, FILE), 'utf8');
      await writeFile(
        join(h.s.repo, FILE),
        text.replace(
          /\ndata:\n/,
          `\ndata:\n    added_by_hand: ${Buffer.from(PLAINTEXT).toString('base64')}\n`,
        ),
      );
    },
    message: /secrets\/keptn\/bridge-oauth\.yaml has a plaintext value under data\.added_by_hand/,
    fix: /fix: remove the plaintext value from the file and from git history/,
  },
  {
    name: 'a Secret encrypted for other recipients only (sops exit 128)',
    base: false,
    async arrange(h) {
      const plain = plainSecret(
        `data:\n  session_secret: ${Buffer.from('x'.repeat(45)).toString('base64')}\n`,
      );
      const r = await execa(
        REAL_SOPS,
        [
          'encrypt',
          '--filename-override',
          FILE,
          '--input-type',
          'yaml',
          '--output-type',
          'yaml',
          '--encrypted-regex',
          '^(data|stringData)$',
          '--age',
          OTHER_RECIPIENT,
        ],
        { input: plain, env: { ...h.s.env, SOPS_DISABLE_VERSION_CHECK: '1' }, cwd: h.s.dir },
      );
      await put(h, FILE, r.stdout);
    },
    message:
      /sops failed on secrets\/keptn\/bridge-oauth\.yaml \(exit 128: could not retrieve the data key: no private key here can open this file/,
    fix: /fix: provide the private key of one of its recipients/,
  },
  {
    name: 'a ConfigMap at the output path of a Secret',
    base: false,
    async arrange(h) {
      await put(
        h,
        FILE,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bridge-oauth\ndata:\n  a: b\n',
      );
    },
    message: /secrets\/keptn\/bridge-oauth\.yaml is a ConfigMap, not a v1 Secret/,
    fix: /fix: move it away from the output path of the config, or change `output`/,
  },
  {
    name: 'another Secret’s manifest at the path (copied or renamed by hand)',
    base: true,
    async arrange(h) {
      const text = await readFile(join(h.s.repo, FILE), 'utf8');
      await writeFile(join(h.s.repo, FILE), text.replace('name: bridge-oauth', 'name: other-app'));
    },
    message:
      /secrets\/keptn\/bridge-oauth\.yaml holds the Secret keptn\/other-app, not keptn\/bridge-oauth that the config puts here/,
    fix: /fix: restore the file from git history, or delete it so that sync writes it again/,
  },
  {
    name: 'a file at the output path that is not YAML',
    base: false,
    async arrange(h) {
      await put(h, FILE, 'apiVersion: v1\nkind: Secret\nmetadata: [unclosed\n');
    },
    message: /secrets\/keptn\/bridge-oauth\.yaml is not valid YAML/,
    fix: /fix: restore it from git history, or delete it and run sync/,
  },
  {
    name: 'a state annotation that is not the tool’s JSON',
    base: true,
    async arrange(h) {
      const text = await readFile(join(h.s.repo, FILE), 'utf8');
      await writeFile(
        join(h.s.repo, FILE),
        text.replace(/gitops-secrets\.io\/state: .*/, "gitops-secrets.io/state: '{broken'"),
      );
    },
    message:
      /secrets\/keptn\/bridge-oauth\.yaml has an unreadable gitops-secrets\.io\/state annotation/,
    fix: /fix: restore the annotation from git history/,
  },
  {
    name: 'an output directory that is a symlink in the repo',
    base: false,
    async arrange(h) {
      await mkdir(join(h.s.repo, 'elsewhere'), { recursive: true });
      await writeFile(join(h.s.repo, 'elsewhere/README.md'), 'not for secrets\n');
      await mkdir(join(h.s.repo, 'secrets'), { recursive: true });
      await symlink('../elsewhere', join(h.s.repo, 'secrets/keptn'));
    },
    message:
      /refusing to write through symlinks in the repo:\n {2}secrets\/keptn\/bridge-oauth\.yaml: secrets\/keptn is a symlink/,
    fix: /fix: replace each symlink with the directory or file itself, or change `output`/,
  },
  {
    name: 'an output file that is a symlink in the repo',
    base: false,
    async arrange(h) {
      await mkdir(join(h.s.repo, 'secrets/keptn'), { recursive: true });
      await writeFile(join(h.s.repo, 'elsewhere.yaml'), 'kind: ConfigMap\n');
      await symlink('../../elsewhere.yaml', join(h.s.repo, FILE));
    },
    message:
      /refusing to write through symlinks in the repo:\n {2}secrets\/keptn\/bridge-oauth\.yaml: secrets\/keptn\/bridge-oauth\.yaml is a symlink/,
    fix: /fix: replace each symlink with the directory or file itself/,
  },
];

for (const c of CASES) {
  test(`${c.name}: exit 1 naming the file and the fix, nothing pushed`, async (t) => {
    const h = await makeHarness(CONFIG);
    t.teardown(() => h.close());
    if (c.base) await mergedBase(h);
    await c.arrange(h);
    await h.s.commitAndPush('a hand-made change');
    const mainBefore = await h.head('main');
    const writesBefore = h.github.requests.filter((q) => q.method !== 'GET').length;

    const r = await h.run(['sync']);
    t.is(r.exitCode, 1, r.stdout + r.stderr);
    t.regex(r.stderr, c.message);
    t.regex(r.stderr, c.fix);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    t.is(await h.head('gitops-secrets/sync'), undefined, 'nothing pushed');
    t.is(await h.head('main'), mainBefore);
    t.is(h.github.requests.filter((q) => q.method !== 'GET').length, writesBefore, 'no PR written');
    t.is(await h.s.git(['branch', '--list', 'gitops-secrets/*']), '', 'no local branch either');
    // The plaintext a person committed is in git by their hand; no output of ours repeats it.
    const argv = await readFile(h.argvLog, 'utf8').catch(() => '');
    for (const needle of [PLAINTEXT, Buffer.from(PLAINTEXT).toString('base64')])
      t.false(`${r.stdout}${r.stderr}${argv}`.includes(needle), 'the plaintext is not repeated');
    await expectCleanState(t, h);
    await expectNoLeaks(t, h);
  });
}

test.after.always('counts', (t) => {
  t.log(`hostile repo states: ${CASES.length}; leak checks: ${JSON.stringify(leakCheckCount())}`);
});
