/**
 * Metadata drift end to end (issue 20, point 5), with the real sops, real git and a bare remote:
 * a label, an annotation or the type changed in the config is reported by `check` (exit 3) and
 * applied by `sync` in the PR (sops re-encrypts; the MAC covers metadata); the values stay.
 * The type is a custom one: a kubernetes.io/basic-auth Secret must declare username and password
 * (issue 23, config/rules-typed.ts), which this Secret's keys A and B are not.
 */
import test from 'ava';
import { makeScenario } from './helpers/scenario.js';

const PATH = 'secrets/shop/api.yaml';
const T0 = '2026-12-01T00:00:00Z';

const config = (extra: string) =>
  `version: 1\nsecrets:\n  - name: api\n    namespace: shop\n${extra}    keys:\n      A: { length: 20 }\n      B: { length: 30 }\n`;

test('a label, then the type and an annotation, changed in the config: check exit 3, sync applies them, values unchanged', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(config(''));
  await s.commitAndPush('config');
  t.is((await s.run(['sync', '--now', T0])).exitCode, 0);
  await s.mergePullRequest();
  const before = (await s.decrypt(await s.show('main', PATH))).data;
  t.is((await s.run(['check', '--now', T0])).exitCode, 0);

  // A label.
  await s.writeConfig(config('    labels: { team: core }\n'));
  await s.commitAndPush('label');
  let r = await s.run(['check', '--now', T0]);
  t.is(r.exitCode, 3, r.stdout + r.stderr);
  t.regex(r.stdout, /shop\/api\s+\(all keys\)\s+metadata changed\s+label team added/);
  r = await s.run(['sync', '--now', T0]);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /metadata changed/);
  let file = await s.show('gitops-secrets/sync', PATH);
  let plain = await s.decrypt(file);
  t.deepEqual(plain.data, before);
  t.is((plain.metadata.labels as Record<string, string>).team, 'core');
  t.regex(file, /team: core/);
  await s.mergePullRequest();
  t.is((await s.run(['check', '--now', T0])).exitCode, 0);

  // The type and an annotation.
  await s.writeConfig(
    config(
      '    type: example.com/api-key\n    labels: { team: core }\n    annotations: { owner: payments }\n',
    ),
  );
  await s.commitAndPush('type and annotation');
  r = await s.run(['check', '--now', T0]);
  t.is(r.exitCode, 3);
  t.regex(r.stdout, /annotation owner added, type Opaque → example\.com\/api-key/);
  r = await s.run(['sync', '--now', T0]);
  t.is(r.exitCode, 0, r.stderr);
  file = await s.show('gitops-secrets/sync', PATH);
  plain = await s.decrypt(file);
  t.deepEqual(plain.data, before);
  t.regex(file, /^type: example\.com\/api-key$/m);
  t.is((plain.metadata.annotations as Record<string, string>).owner, 'payments');
  t.truthy((plain.metadata.annotations as Record<string, string>)['gitops-secrets.io/state']);
  await s.mergePullRequest();
  r = await s.run(['check', '--now', T0]);
  t.is(r.exitCode, 0, r.stdout);
});
