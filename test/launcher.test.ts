/**
 * The shells that start sops processes (src/ports/launcher.ts): each job gets exactly its
 * argv and stdin, and its own stdout, stderr and exit status, whatever ran before it in the same
 * shell; a timeout, an abort or a dead shell ends the job with a result, never a hang.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { createLauncher } from '../src/ports/launcher.js';
import type { RunOptions } from '../src/ports/run-process.js';
import { REAL_SOPS } from './helpers/reliability.js';
import { ROOT } from './helpers/scenario.js';

const KEY = join(ROOT, 'fixtures/keys/test-only-age-key.txt');

async function scratch(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-launcher-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function script(dir: string, name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** A /bin/sh that appends its pid to `log` first: counts the shells started. */
async function countingShell(dir: string, log: string): Promise<string> {
  return script(dir, 'sh', `echo $$ >>${log}\nexec /bin/sh "$@"`);
}

const opts = (cwd: string, o: Partial<RunOptions> = {}): RunOptions => ({
  cwd,
  env: process.env,
  input: undefined,
  timeoutMs: 20_000,
  maxBuffer: 64 * 1024 * 1024,
  ...o,
});

async function recipient(): Promise<string> {
  const text = await readFile(KEY, 'utf8');
  return /public key: (age1\w+)/.exec(text)![1]!;
}

test('14 encryptions and their decryptions, 2 at a time, 6 to a shell: each output is its own input', async (t) => {
  const dir = await scratch(t);
  const log = join(dir, 'shells');
  const env = { ...process.env, SOPS_AGE_KEY_FILE: KEY, SOPS_DISABLE_VERSION_CHECK: '1' };
  const launch = createLauncher(env, await countingShell(dir, log));
  const age = await recipient();
  const inputs = Array.from(
    { length: 14 },
    (_, i) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s${i}\nstringData:\n  v: value-${i}-${randomBytes(6).toString('hex')}\n`,
  );
  const stdinYaml = (i: number) => [
    '--filename-override',
    `s${i}.yaml`,
    '--input-type',
    'yaml',
    '--output-type',
    'yaml',
  ];
  const outputs: string[] = [];
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < inputs.length) {
        const i = next++;
        const r = await launch.run(
          REAL_SOPS,
          ['encrypt', ...stdinYaml(i), '--age', age, '--encrypted-regex', '^stringData$'],
          opts(dir, { env, input: inputs[i] }),
        );
        t.is(r.exitCode, 0, r.stderr);
        outputs[i] = r.stdout;
      }
    }),
  );
  for (let i = 0; i < inputs.length; i++) {
    t.regex(outputs[i]!, new RegExp(`name: s${i}\\n`));
    t.notRegex(outputs[i]!, /value-/, 'the value is encrypted');
    const back = await launch.run(
      REAL_SOPS,
      ['decrypt', ...stdinYaml(i)],
      opts(dir, { env, input: outputs[i] }),
    );
    t.is(back.exitCode, 0, back.stderr);
    t.deepEqual(parse(back.stdout), parse(inputs[i] as string));
  }
  // 28 sops processes: 5 shells of 6 jobs, and at most one started ahead that had none.
  const shells = (await readFile(log, 'utf8')).trim().split('\n').length;
  t.true(shells >= 5 && shells <= 6, `${shells} shells`);
});

test('each job gets its argv word for word and its stdin byte for byte; its stdout and stderr are its own', async (t) => {
  const dir = await scratch(t);
  const fake = await script(
    dir,
    'fake',
    `for a in "$@"; do printf '[%s]' "$a"; done; echo; cat; echo "err of $1" >&2`,
  );
  const launch = createLauncher(process.env);
  const words = [
    "it's",
    'a "b"',
    '$HOME',
    '`id`',
    'back\\slash',
    ' lead',
    'trail ',
    '',
    '*',
    'ünï',
    '-n',
    ';exit 3',
  ];
  const big = randomBytes(600_000).toString('base64');
  for (let round = 0; round < 8; round++) {
    const input = round === 3 ? big : `input ${round}\n`;
    const r = await launch.run(fake, [`r${round}`, ...words], opts(dir, { input }));
    t.is(r.exitCode, 0);
    t.is(r.stdout, `[r${round}]${words.map((w) => `[${w}]`).join('')}\n${input}`);
    t.is(r.stderr, `err of r${round}\n`);
  }
});

test('jobs without input read an empty stdin and take no descriptor: 30 of them and 5 with input, one shell', async (t) => {
  const dir = await scratch(t);
  const log = join(dir, 'shells');
  const cat = await script(dir, 'cat', 'printf "%s:" "$1"; cat');
  const launch = createLauncher(process.env, await countingShell(dir, log));
  for (let i = 0; i < 35; i++) {
    const input = i % 7 === 3 ? `in${i}` : i % 2 ? '' : undefined;
    const r = await launch.run(cat, [String(i)], opts(dir, { input }));
    t.is(r.stdout, `${i}:${input ?? ''}`);
  }
  t.is((await readFile(log, 'utf8')).trim().split('\n').length, 1);
});

test('exit codes, a crash by signal, a missing or unexecutable sops: the same results as a direct start', async (t) => {
  const dir = await scratch(t);
  const fail = await script(dir, 'fail', 'cat >/dev/null; echo "no key" >&2; exit "$1"');
  const crash = await script(dir, 'crash', 'kill -SEGV $$');
  const plain = join(dir, 'not-executable');
  await writeFile(plain, 'echo hi\n');
  const launch = createLauncher(process.env);
  for (const code of ['128', '129', '3', '0', '203']) {
    const r = await launch.run(fail, [code], opts(dir, { input: 'x' }));
    t.is(r.exitCode, Number(code));
    t.is(r.signal, undefined);
    t.is(r.stderr, 'no key\n');
  }
  const crashed = await launch.run(crash, [], opts(dir));
  t.is(crashed.exitCode, undefined);
  t.is(crashed.signal, 'SIGSEGV');
  t.is((await launch.run(join(dir, 'no-such-sops'), [], opts(dir))).spawnError, 'ENOENT');
  t.is((await launch.run(plain, [], opts(dir))).spawnError, 'EACCES');
  t.is((await launch.run(fail, ['0'], opts(dir))).exitCode, 0, 'the shell still works');
});

test('a timeout or an abort stops the sops process itself, by its id, and the next job runs', async (t) => {
  const dir = await scratch(t);
  const hang = await script(dir, 'hang', `echo $$ >"$1"; exec sleep 600`);
  const ok = await script(dir, 'ok', 'echo fine');
  const launch = createLauncher(process.env);
  const timed = await launch.run(hang, [join(dir, 'pid1')], opts(dir, { timeoutMs: 300 }));
  t.true(timed.timedOut);
  t.is(timed.signal, 'SIGTERM');
  const pid1 = Number(await readFile(join(dir, 'pid1'), 'utf8'));
  t.throws(() => process.kill(pid1, 0), undefined, 'the hung process is gone');

  const abort = new AbortController();
  const pending = launch.run(hang, [join(dir, 'pid2')], opts(dir, { signal: abort.signal }));
  setTimeout(() => abort.abort(), 200);
  const aborted = await pending;
  t.false(aborted.timedOut);
  t.is(aborted.signal, 'SIGTERM');
  const pid2 = Number(await readFile(join(dir, 'pid2'), 'utf8'));
  t.throws(() => process.kill(pid2, 0), undefined, 'the aborted process is gone');
  t.is((await launch.run(ok, [], opts(dir))).stdout, 'fine\n');
});

test('output over maxBuffer stops the process and is dropped', async (t) => {
  const dir = await scratch(t);
  const flood = await script(dir, 'flood', 'exec cat /dev/zero');
  const launch = createLauncher(process.env);
  const r = await launch.run(flood, [], opts(dir, { maxBuffer: 100_000 }));
  t.is(r.stdout, '');
  t.regex(r.stderr, /output over 100000 bytes/);
  t.is(r.signal, 'SIGTERM');
});

test('a shell that dies ends its job with a result; the next job gets a new shell', async (t) => {
  const dir = await scratch(t);
  const killShell = await script(dir, 'kill-shell', 'kill -9 $PPID; sleep 1');
  const ok = await script(dir, 'ok', 'echo fine');
  const launch = createLauncher(process.env);
  const r = await launch.run(killShell, [], opts(dir));
  t.is(r.exitCode, undefined);
  t.regex(r.stderr, /the shell that started kill-shell \(\/bin\/sh\) exited/);
  t.is((await launch.run(ok, [], opts(dir))).stdout, 'fine\n');
});

test('without a usable shell (none, one that cannot start, a newline in a word) sops starts directly', async (t) => {
  const dir = await scratch(t);
  const echo = await script(dir, 'echo', `printf '%s|' "$@"; printf '%s' "$(cat)"`);
  for (const shell of [null, join(dir, 'no-such-shell')]) {
    const launch = createLauncher(process.env, shell);
    for (let i = 0; i < 2; i++) {
      const r = await launch.run(echo, ['a b', String(i)], opts(dir, { input: 'in' }));
      t.is(r.stdout, `a b|${i}|in`);
    }
  }
  const launch = createLauncher(process.env);
  t.is(
    (await launch.run(echo, ['line\nbreak'], opts(dir, { input: 'x' }))).stdout,
    'line\nbreak|x',
  );
});

test('shells left idle do not keep the process alive', async (t) => {
  const dir = await scratch(t);
  const ok = await script(dir, 'ok', 'echo fine');
  const child = await execa(
    process.execPath,
    [
      '--import=tsx',
      '--input-type=module',
      '-e',
      `import { createLauncher } from ${JSON.stringify(join(ROOT, 'src/ports/launcher.ts'))};
const l = createLauncher(process.env);
const r = await Promise.all([1, 2, 3].map(() => l.run(${JSON.stringify(ok)}, [], { cwd: ${JSON.stringify(dir)}, env: process.env, input: '', timeoutMs: 10000, maxBuffer: 1e6 })));
console.log(r.map((x) => x.stdout.trim()).join(','));`,
    ],
    { cwd: ROOT, timeout: 15_000 },
  );
  t.is(child.stdout, 'fine,fine,fine');
});
