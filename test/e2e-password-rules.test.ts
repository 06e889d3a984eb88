/**
 * Password rules end to end, with the real sops: what `sync` and `rotate --force` write decrypts
 * to values that meet the rules; an impossible rule set is refused at its line with exit 2 and
 * nothing written.
 */
import test from 'ava';
import { findLeaks, makeScenario, type Scenario } from './helpers/scenario.js';

const CONFIG = `version: 1
defaults:
  rules: { minLower: 1, minUpper: 1, minDigits: 1 }
shared:
  db-password:
    length: 32
    rules: { minSymbols: 2, symbols: "!#%+=", maxRepeat: 2 }
secrets:
  - name: app
    namespace: shop
    keys:
      DB_PASSWORD: { from: db-password }
      ADMIN_PASSWORD:
        length: 20
        charset: alphanumeric
        rules:
          minLower: 2
          minUpper: 2
          minDigits: 2
          minSymbols: 1
          exclude: 0O1lI
          maxRepeat: 1
      SESSION_KEY: {}
      PIN: { length: 6, charset: numeric, rules: { maxRepeat: 2 } }
`;

/** What a reviewer would check of each key, with plain regular expressions. */
const CHECKS: Record<string, (v: string) => string[]> = {
  DB_PASSWORD: (v) =>
    problems(v, 32, /^[A-Za-z0-9!#%+=]+$/, [
      [/[a-z]/g, 1],
      [/[A-Z]/g, 1],
      [/[0-9]/g, 1],
      [/[!#%+=]/g, 2],
    ]).concat(/(.)\1\1/.test(v) ? ['a character 3 times in a row'] : []),
  ADMIN_PASSWORD: (v) =>
    problems(v, 20, /^[A-HJ-NP-Za-km-z2-9._-]+$/, [
      [/[a-z]/g, 2],
      [/[A-Z]/g, 2],
      [/[0-9]/g, 2],
      [/[._-]/g, 1],
    ]).concat(/(.)\1/.test(v) ? ['a character twice in a row'] : []),
  SESSION_KEY: (v) =>
    problems(v, 32, /^[A-Za-z0-9]+$/, [
      [/[a-z]/g, 1],
      [/[A-Z]/g, 1],
      [/[0-9]/g, 1],
    ]),
  PIN: (v) =>
    problems(v, 6, /^[0-9]+$/, []).concat(/(.)\1\1/.test(v) ? ['a digit 3 times in a row'] : []),
};

function problems(v: string, length: number, alphabet: RegExp, mins: [RegExp, number][]): string[] {
  const out: string[] = [];
  if (v.length !== length) out.push(`length ${v.length}, not ${length}`);
  if (!alphabet.test(v)) out.push(`a character outside ${alphabet}`);
  for (const [re, min] of mins) {
    const n = (v.match(re) ?? []).length;
    if (n < min) out.push(`${n} of ${re}, fewer than ${min}`);
  }
  return out;
}

async function values(s: Scenario, ref: string): Promise<Record<string, string>> {
  return (await s.decrypt(await s.show(ref, 'secrets/shop/app.yaml'))).data;
}

function broken(data: Record<string, string>): string[] {
  return Object.entries(CHECKS).flatMap(([key, check]) =>
    check(data[key] ?? '').map((p) => `${key}: ${p}`),
  );
}

test('sync and rotate --force write values that meet the password rules (decrypted with sops)', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(CONFIG);
  await s.commitAndPush('config with password rules');

  const r = await s.run(['sync', '--now', '2026-01-01T00:00:00Z']);
  t.is(r.exitCode, 0, r.stderr);
  const first = await values(s, 'gitops-secrets/sync');
  t.deepEqual(Object.keys(first).sort(), Object.keys(CHECKS).sort());
  t.deepEqual(broken(first), []);
  await s.mergePullRequest('gitops-secrets/sync');

  const listed = await s.run(['list']);
  t.is(listed.exitCode, 0, listed.stderr);
  // The rules are config, shown as such; nothing about a value.
  t.regex(listed.stdout, /at least 2 lower-case letters, 2 upper-case letters, 2 digits, 1 symbol/);

  const rotated = await s.run(['rotate', '--force', '--now', '2026-01-02T00:00:00Z']);
  t.is(rotated.exitCode, 0, rotated.stderr);
  const second = await values(s, 'gitops-secrets/rotate');
  t.deepEqual(broken(second), []);
  for (const key of Object.keys(CHECKS)) t.not(second[key], first[key], `${key} rotated`);

  t.deepEqual(await findLeaks(s, [...Object.values(first), ...Object.values(second)]), []);
});

test('an impossible rule set: exit 2, file:line:col and what is allowed, nothing written', async (t) => {
  const s = await makeScenario();
  t.teardown(() => s.cleanup());
  await s.writeConfig(
    CONFIG.replace('length: 20\n', 'length: 6\n').replace(
      'PIN: { length: 6, charset: numeric, rules: { maxRepeat: 2 } }',
      'PIN: { length: 6, charset: numeric, rules: { minUpper: 1 } }',
    ),
  );
  await s.commitAndPush('config with impossible rules');
  const before = await s.git(['for-each-ref', '--format=%(refname)']);

  for (const args of [['sync'], ['check'], ['rotate', '--force']]) {
    const r = await s.run(args);
    t.is(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(
      r.stderr,
      /config\/secrets\.yaml:17:11: secrets\[0\]\.keys\.ADMIN_PASSWORD\.rules: the minimums add up to 7, more than the length 6; allowed: at most 6 in all/,
    );
    t.regex(
      r.stderr,
      /config\/secrets\.yaml:24:62: secrets\[0\]\.keys\.PIN\.rules\.minUpper: needs upper-case letters, but charset numeric has none/,
    );
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  }
  t.is(await s.git(['for-each-ref', '--format=%(refname)']), before, 'no branch made');
  t.is(await s.git(['status', '--porcelain']), '', 'nothing written');
  t.is(await s.git(['--git-dir', s.remote, 'branch', '--list'], s.dir), '* main', 'nothing pushed');
});
