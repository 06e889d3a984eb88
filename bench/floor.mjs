// The sops floor, run in its own small node process so that the spawning costs as little as it
// can (a big parent process makes every fork slower): sops encrypting each plaintext manifest
// from stdin, `concurrency` at a time, with the flags gitops-secrets passes. The manifests come
// on stdin as JSON [{ path, text }]; nothing is written to disk.
//
//   node bench/floor.mjs SOPS CWD ENCRYPTED_REGEX CONCURRENCY < manifests.json
//
// Prints {"ms": wall time from the first spawn to the last exit, "selfCpuMs": this process's own
// CPU time}.
import { spawn } from 'node:child_process';

const [sops, cwd, encryptedRegex, concurrency] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const files = JSON.parse(input);
const env = { ...process.env, SOPS_DISABLE_VERSION_CHECK: '1' };

const encrypt = (file) =>
  new Promise((resolve, reject) => {
    const child = spawn(
      sops,
      [
        'encrypt',
        '--filename-override',
        file.path,
        '--input-type',
        'yaml',
        '--output-type',
        'yaml',
        '--encrypted-regex',
        encryptedRegex,
      ],
      { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`sops exited ${code} on ${file.path}: ${stderr}`)),
    );
    child.stdin.end(file.text);
  });

const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < files.length) await encrypt(files[next++]);
  }),
);
const ms = performance.now() - t0;
const usage = process.resourceUsage();
console.log(JSON.stringify({ ms, selfCpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
