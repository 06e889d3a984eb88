import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { example, findLeaks, makeScenario, ROOT } from './helpers/scenario.js';

const FAKE = join(ROOT, 'fixtures/fake-sops');

const cases = [
  {
    name: 'sops missing',
    sops: join(ROOT, 'no-such-sops'),
    message: /sops not found \(looked for ".*no-such-sops" on PATH\)/,
    fix: /install sops 3\.11 or newer \(https:\/\/github\.com\/getsops\/sops\/releases\)/,
  },
  {
    name: 'sops too old',
    sops: join(FAKE, 'old-version.sh'),
    message: /is version 3\.8\.0; gitops-secrets needs sops 3\.11\.0 or newer/,
    fix: /install sops 3\.11 or newer \(https:\/\/github\.com\/getsops\/sops\/releases\)/,
  },
  {
    name: 'sops exits 128',
    sops: join(FAKE, 'exit-128.sh'),
    message:
      /sops failed on secrets\/keptn\/bridge-oauth.yaml \(exit 128: could not retrieve the data key/,
    fix: /SOPS_AGE_KEY_FILE/,
  },
  {
    name: 'sops hangs',
    sops: join(FAKE, 'hang.sh'),
    message: /sops timed out on secrets\/keptn\/bridge-oauth.yaml/,
    fix: /GITOPS_SECRETS_SOPS_TIMEOUT_MS/,
  },
  {
    // sops prints a chain of errors with the cause last: all 20 lines are shown, the last too.
    name: 'sops prints 20 lines of stderr',
    sops: join(FAKE, 'long-stderr.sh'),
    message:
      /sops failed on secrets\/keptn\/bridge-oauth.yaml \(exit 1\)\n {2}sops said: context line 1: [\s\S]*context line 19: [\s\S]*THE-CAUSE: age: no identity matched any of the recipients/,
    fix: /THE-CAUSE/,
  },
];

for (const c of cases) {
  test(`${c.name}: exit 1 with a clear message, nothing committed or pushed, no worktree left`, async (t) => {
    const s = await makeScenario();
    t.teardown(() => s.cleanup());
    await s.writeConfig(await example('keptn-bridge.yaml'));
    await s.commitAndPush('config');
    const r = await s.run(['sync'], {
      env: {
        GITOPS_SECRETS_SOPS: c.sops,
        GITOPS_SECRETS_SOPS_TIMEOUT_MS: '1500',
        NODE_DEBUG: 'execa',
      },
    });
    t.is(r.exitCode, 1, r.stdout + r.stderr);
    t.regex(r.stderr, c.message);
    t.regex(r.stderr, c.fix);
    // A hint names what an installed user can do, never a script of this source tree.
    t.notRegex(r.stdout + r.stderr, /npm run|\.tools\//);
    t.notRegex(r.stderr, /\n\s+at /);
    t.is(await s.git(['branch', '--list', 'gitops-secrets/*']), '');
    t.is(await s.git(['--git-dir', s.remote, 'branch', '--list', 'gitops-secrets/*'], s.dir), '');
    t.deepEqual(await readdir(s.env.TMPDIR!), [], 'the temporary worktree is removed');
    t.deepEqual(await findLeaks(s, []), []);
  });
}
