/**
 * A rerun tells a re-key with a new data key (`--rotate-data-key`: every value's ciphertext
 * changes) from a re-wrapped one (`updatekeys`: none changes) by the values the branch did not
 * write. No process, no disk.
 */
import test from 'ava';
import { newDataKey } from '../src/model/data-key.js';
import { emptyState, type ManifestInfo } from '../src/model/manifest.js';

function side(ciphertexts: Record<string, string>, rotated: Record<string, string>) {
  const state = emptyState();
  for (const [k, at] of Object.entries(rotated)) state.keys[k] = { generated: at, rotated: at };
  const info: ManifestInfo = {
    path: 'secrets/prod/app.yaml',
    name: 'app',
    namespace: 'prod',
    dataKeys: Object.keys(ciphertexts),
    state,
    recipients: [],
    managed: true,
  };
  const data = Object.entries(ciphertexts).map(([k, v]) => `  ${k}: ${v}`);
  return { info, text: `apiVersion: v1\nkind: Secret\ndata:\n${data.join('\n')}\n` };
}

const T = '2026-01-01T00:00:00Z';
const LATER = '2026-02-01T00:00:00Z';

test('a value the branch left as it was, with another ciphertext: a new data key', (t) => {
  const base = side({ A: 'ENC[a1]', B: 'ENC[b1]' }, { A: T, B: T });
  t.true(newDataKey(base, side({ A: 'ENC[a2]', B: 'ENC[b2]' }, { A: T, B: T })));
});

test('re-wrapped only (updatekeys): the same ciphertexts, no new data key', (t) => {
  const base = side({ A: 'ENC[a1]', B: 'ENC[b1]' }, { A: T, B: T });
  t.false(newDataKey(base, side({ A: 'ENC[a1]', B: 'ENC[b1]' }, { A: T, B: T })));
});

test('only values the branch wrote changed: no new data key', (t) => {
  const base = side({ A: 'ENC[a1]', B: 'ENC[b1]' }, { A: T, B: T });
  t.false(
    newDataKey(
      base,
      side({ A: 'ENC[a2]', B: 'ENC[b1]', C: 'ENC[c]' }, { A: LATER, B: T, C: LATER }),
    ),
  );
  t.false(newDataKey(base, { ...side({ A: 'ENC[a2]' }, { A: T }), text: 'data: [' }));
});
