import test from 'ava';
import { bumpRollout } from '../src/model/rollout.js';

const deployment = `# bridge deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bridge   # keep me
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: bridge}
    spec:
      containers:
        - name: bridge
          image: keptn/bridge:1.0   # pinned
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    metadata:
      annotations:
        other: "x"
    spec: {containers: []}
`;

test('bumps the pod-template annotation of every workload in the file, keeping every other byte', (t) => {
  const r = bumpRollout(deployment, '2026-04-02T00:00:00Z');
  if ('problem' in r) return t.fail(r.problem);
  t.is(r.documents, 2);
  const expected = deployment
    .replace(
      '    metadata:\n      labels',
      '    metadata:\n      annotations:\n        gitops-secrets.io/rotated-at: "2026-04-02T00:00:00Z"\n      labels',
    )
    .replace(
      '      annotations:\n        other',
      '      annotations:\n        gitops-secrets.io/rotated-at: "2026-04-02T00:00:00Z"\n        other',
    );
  t.is(r.text, expected);
  const again = bumpRollout(r.text, '2026-07-01T00:00:00Z');
  if ('problem' in again) return t.fail(again.problem);
  t.is(
    again.text,
    r.text.replaceAll('2026-04-02T00:00:00Z', '2026-07-01T00:00:00Z'),
    'a second bump replaces only the value',
  );
});

test('a pod template without metadata gets one; a file without a pod template is refused', (t) => {
  const bare =
    'apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: []\n';
  const r = bumpRollout(bare, 'T');
  if ('problem' in r) return t.fail(r.problem);
  t.is(
    r.text,
    'apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    metadata:\n      annotations:\n        gitops-secrets.io/rotated-at: "T"\n    spec:\n      containers: []\n',
  );
  t.deepEqual(bumpRollout('apiVersion: v1\nkind: ConfigMap\ndata: {}\n', 'T'), {
    problem: 'has no spec.template (not a Deployment, StatefulSet, DaemonSet or Job)',
  });
  t.deepEqual(bumpRollout('spec:\n  template: {metadata: {}, spec: {}}\n', 'T'), {
    problem: 'has a flow-style spec.template.metadata; write it as a block mapping',
  });
});
