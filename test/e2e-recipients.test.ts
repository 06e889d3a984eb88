import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { makeScenario, TOOLS_BIN } from './helpers/scenario.js';

test('new recipients in the config: sync re-encrypts the file for them, no value changes, and says so', async (t) => {
  const s = await makeScenario({ sopsYaml: false });
  t.teardown(() => s.cleanup());
  const config = (recipients: string[]) =>
    `version: 1\nsops:\n  age: [${recipients.join(', ')}]\nsecrets:\n  - name: app\n    namespace: prod\n    keys:\n      token: { length: 24 }\n`;
  await s.writeConfig(config([s.recipient]));
  await s.commitAndPush('config');
  t.is((await s.run(['sync'])).exitCode, 0);
  await s.git(['fetch', '--quiet', 'origin']);
  await s.git(['merge', '--quiet', '--ff-only', 'origin/gitops-secrets/sync']);
  await s.git(['push', '--quiet', 'origin', 'HEAD:main']);
  const before = (await s.decrypt(await s.show('main', 'secrets/prod/app.yaml'))).data;

  const key2 = join(s.dir, 'test-only-age-key-2.txt');
  await execa(join(TOOLS_BIN, 'age-keygen'), ['-o', key2]);
  const r2 = (await execa(join(TOOLS_BIN, 'age-keygen'), ['-y', key2])).stdout.trim();
  await s.writeConfig(config([s.recipient, r2]));
  await s.commitAndPush('add a recipient');
  const check = await s.run(['check']);
  t.is(check.exitCode, 3);
  const r = await s.run(['sync']);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(
    r.stdout,
    /prod\/app\s+\(all keys\)\s+re-encrypted\s+recipients changed \(1 added, 0 removed\); no value changes/,
  );
  const file = await s.show('gitops-secrets/sync', 'secrets/prod/app.yaml');
  t.true(file.includes(r2));
  const withKey2 = await execa(
    join(TOOLS_BIN, 'sops'),
    ['decrypt', '--filename-override', 'x.yaml', '--input-type', 'yaml', '--output-type', 'json'],
    {
      input: file,
      env: { ...s.env, SOPS_AGE_KEY_FILE: key2 },
    },
  );
  const data = JSON.parse(withKey2.stdout).data as Record<string, string>;
  t.is(Buffer.from(data.token!, 'base64').toString(), before.token);
});
