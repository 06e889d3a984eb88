import test from 'ava';
import { MAX_BODY, pullRequestBody } from '../src/plan/pr-body.js';
import { type ChangeRow, commitSubject } from '../src/plan/summary.js';
import { config, keptnSecrets } from './helpers/plan-fixtures.js';

const keptn = config(`version: 1
${keptnSecrets('"Token for the analytics API | vendor"')}`);

const rows: ChangeRow[] = [
  {
    id: 'keptn/bridge-oauth',
    path: 'secrets/keptn/bridge-oauth.yaml',
    key: 'session_secret',
    action: 'generated',
    reason: 'missing',
  },
  {
    id: 'keptn/bridge-oauth',
    path: 'secrets/keptn/bridge-oauth.yaml',
    key: 'database_encrypt_secret',
    action: 'generated',
    reason: 'missing',
  },
  {
    id: 'renku/analytics',
    path: 'secrets/renku/analytics.yaml',
    key: 'API_TOKEN',
    action: 'needs input',
    reason: 'Token for the analytics API | vendor',
  },
];

test('sync PR body: table, restart command, slots to fill and checklist', (t) => {
  const body = pullRequestBody({ job: 'sync', base: 'main', rows, config: keptn });
  t.snapshot(body);
  t.true(body.includes('| `keptn/bridge-oauth` | `session_secret` | generated | missing |'));
  t.true(body.includes('`kubectl delete pods -n keptn --selector=app.kubernetes.io/name=bridge`'));
  t.true(body.includes('gitops-secrets set renku/analytics API_TOKEN'));
  t.true(body.includes('Token for the analytics API \\| vendor'), 'pipes in reasons are escaped');
  t.true(body.includes('- [ ] Merge before deploying the consumers'));
});

test('rotation PR body says what to restart and explains _PREVIOUS keys', (t) => {
  const rotated: ChangeRow[] = [
    {
      id: 'keptn/bridge-oauth',
      path: 'p',
      key: 'session_secret',
      action: 'rotated',
      reason: 'last rotated 2026-08-01, policy 90d',
    },
    {
      id: 'keptn/bridge-oauth',
      path: 'p',
      key: 'session_secret_PREVIOUS',
      action: 'generated',
      reason: 'value of session_secret before this rotation',
    },
  ];
  const body = pullRequestBody({ job: 'rotate', base: 'main', rows: rotated, config: keptn });
  t.snapshot(body);
  t.true(body.includes('last rotated 2026-08-01, policy 90d'));
  t.true(body.includes('_PREVIOUS'));
});

test('a run over 2,000 secrets stays inside GitHub body limit and says how many rows it left out', (t) => {
  const many: ChangeRow[] = Array.from({ length: 2000 }, (_, i) => ({
    id: `team-${i}/app-${i}`,
    path: `secrets/team-${i}/app-${i}.yaml`,
    key: `SOME_LONG_KEY_NAME_${i}`,
    action: 'generated',
    reason: 'missing',
  }));
  const body = pullRequestBody({ job: 'sync', base: 'main', rows: many, config: keptn });
  t.true(body.length <= MAX_BODY);
  t.true(body.length < 65_536);
  t.regex(body, /…and \d+ more changes \(\d+ generated\) in \d+ secrets/);
  t.true(body.includes('### Reviewer checklist'), 'the checklist survives truncation');
});

test('commit subject: one line naming counts and secrets', (t) => {
  t.is(commitSubject('sync', rows), 'chore(secrets): generate 2 keys in keptn/bridge-oauth');
  const five = ['a/a', 'b/b', 'c/c', 'd/d'].map((id) => ({
    id,
    path: id,
    key: 'k',
    action: 'rotated' as const,
    reason: '',
  }));
  t.is(commitSubject('rotate', five), 'chore(secrets): rotate 4 keys in 4 secrets');
});

test('rotation PR body lists the workloads whose pod template is bumped', (t) => {
  const withRollout = config(`version: 1
secrets:
  - name: bridge-oauth
    namespace: keptn
    rollout: [apps/bridge/deployment.yaml]
    keys:
      session_secret: { length: 45 }
`);
  const body = pullRequestBody({
    job: 'rotate',
    base: 'main',
    rows: [
      {
        id: 'keptn/bridge-oauth',
        path: 'p',
        key: 'session_secret',
        action: 'rotated',
        reason: 'forced; last rotated 2026-01-01',
      },
    ],
    config: withRollout,
  });
  t.true(body.includes('### Rollout'));
  t.true(body.includes('- `keptn/bridge-oauth`: `apps/bridge/deployment.yaml`'));
});
