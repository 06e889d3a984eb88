import test from 'ava';
import { MAX_STDERR, sopsError } from '../src/ports/sops-errors.js';

const failed = (stderr: string, exitCode = 1) => ({
  exitCode,
  signal: undefined,
  timedOut: false,
  isMaxBuffer: false,
  code: undefined,
  stderr,
});

test("sops's stderr is shown whole: 20 lines, the cause last", (t) => {
  const lines = Array.from({ length: 19 }, (_, i) => `context line ${i + 1}`);
  const e = sopsError('sops', failed([...lines, 'the cause'].join('\n')), 'a.yaml', undefined);
  t.regex(e.message, /sops said: context line 1\n {2}context line 2\n/);
  t.true(e.message.endsWith('\n  context line 19\n  the cause'), e.message);
});

test('past 4 KB only the end is kept, cut at a line, saying how much was cut', (t) => {
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(20)}`);
  const stderr = [...lines, 'the cause'].join('\n');
  const e = sopsError('sops', failed(stderr), 'a.yaml', undefined);
  const said = e.message.slice(e.message.indexOf('sops said: ') + 'sops said: '.length);
  t.regex(said, /^\[\d+ earlier bytes not shown\]\n {2}line \d+ x+\n/);
  t.true(said.endsWith('\n  the cause'));
  t.false(said.includes('line 0 '));
  const shown = said
    .split('\n')
    .slice(1)
    .map((l) => l.slice(2))
    .join('\n');
  t.true(Buffer.byteLength(shown) <= MAX_STDERR);
  const cut = Number(/^\[(\d+)/.exec(said)?.[1]);
  t.is(cut + Buffer.byteLength(shown), Buffer.byteLength(stderr));
});

test('the whole stderr is still scrubbed: values given on stdin and long hex are withheld', (t) => {
  const value = 'Sup3rSecretValue';
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
  const stderr = [...lines, `mac mismatch ${'ab'.repeat(32)}`, `bad value ${value}`].join('\n');
  const e = sopsError('sops', failed(stderr, 51), 'a.yaml', JSON.stringify(value));
  t.false(e.message.includes(value));
  t.false(e.message.includes('ab'.repeat(32)));
  t.regex(e.message, /\[digest withheld\]/);
  t.regex(e.message, /bad value \[withheld\]$/);
});

test('no hint names a script of this source tree; a missing sops links its releases', (t) => {
  const e = sopsError('sops', { ...failed(''), code: 'ENOENT' }, undefined, undefined);
  t.regex(e.remedy ?? '', /https:\/\/github\.com\/getsops\/sops\/releases/);
  const bug = sopsError('sops', failed('x', 7), 'a.yaml', undefined);
  t.regex(
    bug.remedy ?? '',
    /^report this as a bug at https:\/\/github\.com\/gitops-secrets\/gitops-secrets\/issues/,
  );
  for (const code of [2, 3, 5, 7, 24, 25, 49, 51, 61, 91, 100, 111, 128, 203]) {
    const known = sopsError('sops', failed('x', code), 'a.yaml', undefined);
    t.notRegex(`${known.message} ${known.remedy ?? ''}`, /npm run|\.tools\//);
  }
});

test('short values and values with spaces or separators are withheld whole', (t) => {
  for (const value of ['pa55', 'k3y!x', 'two words here', 'a:b;c=d']) {
    const stderr = `Error: could not parse value ${value} near line 3`;
    const e = sopsError('sops', failed(stderr, 51), 'a.yaml', JSON.stringify(value));
    t.false(e.message.includes(value), value);
    t.regex(e.message, /could not parse value \[withheld\] near line 3/, value);
  }
  // Under data: (base64, as the renderer writes it) the plaintext is withheld too.
  const plain = 'sh0rt';
  const input = `apiVersion: v1\nkind: Secret\ndata:\n    TOKEN: "${Buffer.from(plain).toString('base64')}"\n`;
  const e = sopsError('sops', failed(`bad ${plain}`, 51), 'a.yaml', input);
  t.false(e.message.includes(plain));
});
