import test from 'ava';
import { parse } from 'yaml';
import { findLeaks, mergedScenario } from './helpers/scenario.js';

const CONFIG = `version: 1
secrets:
  - name: api
    namespace: apps
    keys:
      password: { length: 40 }
      signing-key: { bytes: 32, encoding: hex }
      instance-id: { uuid: true }
`;
const T0 = '2026-01-01T00:00:00Z';
const PATH = 'secrets/apps/api.yaml';

const merged = () => mergedScenario(CONFIG, T0);

const plainParts = (text: string) => {
  const doc = parse(text) as {
    metadata: { annotations: Record<string, string>; labels: Record<string, string> };
    sops: { age: { recipient: string }[]; encrypted_regex: string };
  };
  return {
    labels: doc.metadata.labels,
    state: JSON.parse(doc.metadata.annotations['gitops-secrets.io/state']!) as {
      keys: Record<string, { generated: string; rotated: string }>;
    },
    recipients: doc.sops.age.map((a) => a.recipient),
    encryptedRegex: doc.sops.encrypted_regex,
  };
};

test('rotating every key of a Secret encrypts it again in one sops process, metadata and recipients unchanged', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const beforeText = await s.show('main', PATH);
  const before = await s.decrypt(beforeText, PATH);

  const now = '2026-02-01T00:00:00Z';
  const r = await s.run(['rotate', '--force', '--secret', 'apps/api', '--now', now, '--json']);
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { sopsProcesses: number; changes: { key: string }[] };
  t.deepEqual(out.changes.map((c) => c.key).sort(), ['instance-id', 'password', 'signing-key']);
  t.is(out.sopsProcesses, 2, 'the version check and one encrypt for the whole file');

  const afterText = await s.show('gitops-secrets/rotate', PATH);
  const after = await s.decrypt(afterText, PATH); // sops checks the MAC
  for (const k of ['password', 'signing-key', 'instance-id']) t.not(after.data[k], before.data[k]);
  t.is(after.data.password!.length, 40);
  t.regex(after.data['signing-key']!, /^[0-9a-f]{64}$/);
  t.regex(after.data['instance-id']!, /^[0-9a-f-]{36}$/);

  const a = plainParts(beforeText);
  const b = plainParts(afterText);
  t.deepEqual(b.labels, a.labels);
  t.deepEqual(b.recipients, a.recipients);
  t.is(b.encryptedRegex, a.encryptedRegex);
  for (const k of Object.keys(a.state.keys)) {
    t.is(b.state.keys[k]!.generated, a.state.keys[k]!.generated);
    t.is(b.state.keys[k]!.rotated, now);
  }
  t.deepEqual(
    await findLeaks(s, [...Object.values(before.data), ...Object.values(after.data)]),
    [],
  );
});

test('when a whole new encryption would change more than the values, rotation falls back to sops set', async (t) => {
  const s = await merged();
  t.teardown(() => s.cleanup());
  const beforeText = await s.show('main', PATH);
  const before = await s.decrypt(beforeText, PATH);
  // The config now asks for a label the file does not carry: a new encryption would add it,
  // which is not the rotation's business.
  await s.writeConfig(CONFIG.replace('    keys:\n', '    labels: { team: payments }\n    keys:\n'));
  await s.commitAndPush('label');

  const r = await s.run(['rotate', '--force', '--secret', 'apps/api', '--json']);
  t.is(r.exitCode, 0, r.stderr);
  t.true((JSON.parse(r.stdout) as { sopsProcesses: number }).sopsProcesses > 2);
  const afterText = await s.show('gitops-secrets/rotate', PATH);
  const after = await s.decrypt(afterText, PATH);
  for (const k of ['password', 'signing-key', 'instance-id']) t.not(after.data[k], before.data[k]);
  t.deepEqual(plainParts(afterText).labels, plainParts(beforeText).labels);
  t.deepEqual(
    await findLeaks(s, [...Object.values(before.data), ...Object.values(after.data)]),
    [],
  );
});
