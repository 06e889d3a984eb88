/**
 * The Action's sops set-up without a sops on PATH: the release binary downloaded from a
 * loopback release server (the `sops-mirror` input) serving a real sops, its SHA-256 checked
 * before it is cached or run; the tool cache on the next run. Also the set-up times that
 * docs/performance.md reports.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { runAction } from './helpers/action.js';
import { example, makeScenario, type Scenario, TOOLS_BIN } from './helpers/scenario.js';

const ASSET = `sops-v3.13.2.${process.platform}.${process.arch === 'x64' ? 'amd64' : process.arch}`;

/** A release server: BASE/v3.13.2/ASSET answers the sops of .tools/bin; it counts requests. */
async function releaseServer(): Promise<{ url: string; server: Server; hits: string[] }> {
  const binary = await readFile(join(TOOLS_BIN, 'sops'));
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === `/releases/v3.13.2/${ASSET}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(binary);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/releases`, server, hits };
}

/** PATH without any sops: git and the shell's tools only. */
async function pathWithoutSops(): Promise<string> {
  const git = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
  return [dirname(git), '/usr/bin', '/bin'].join(':');
}

/** A scenario with the keptn config pushed, and a release server; both go when the test ends. */
async function setup(
  t: ExecutionContext,
): Promise<{ s: Scenario; release: Awaited<ReturnType<typeof releaseServer>> }> {
  const s = await makeScenario();
  await s.writeConfig(await example('keptn-bridge.yaml'));
  await s.commitAndPush('config');
  const release = await releaseServer();
  t.teardown(async () => {
    release.server.close();
    await s.cleanup();
  });
  return { s, release };
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

test('no sops on PATH: the release binary is downloaded, its checksum checked, cached; the next run finds it in the tool cache', async (t) => {
  const { s, release } = await setup(t);
  const PATH = await pathWithoutSops();
  t.is((await execa('sh', ['-c', 'command -v sops'], { env: { PATH }, reject: false })).stdout, '');
  const inputs = {
    command: 'sync',
    args: '--no-push',
    'age-key': await readFile(s.keyFile, 'utf8'),
    'sops-mirror': release.url,
    'sops-sha256': await sha256(join(TOOLS_BIN, 'sops')),
  };
  const cold = await runAction(s, inputs, { PATH });
  t.is(cold.exitCode, 0, cold.log);
  t.regex(cold.log, /sops 3\.13\.2 from a verified download \(.*tool-cache\/sops\/3\.13\.2\//);
  t.deepEqual(release.hits, [`/releases/v3.13.2/${ASSET}`]);
  t.regex(cold.log, /changes:/);

  const warm = await runAction(s, inputs, { PATH });
  t.is(warm.exitCode, 0, warm.log);
  t.regex(warm.log, /sops 3\.13\.2 from the tool cache/);
  t.is(release.hits.length, 1, 'the warm run downloads nothing');
  t.log(`set-up to the first sops call: cold ${cold.sopsReadyMs} ms, warm ${warm.sopsReadyMs} ms`);
  // The goals: 15 s cold, 2 s warm (against 8 min 31 s of the composite action).
  t.true(cold.sopsReadyMs! < 15_000);
  t.true(warm.sopsReadyMs! < 2_000);
});

test('a wrong checksum is refused: the download is deleted, nothing is cached, nothing runs', async (t) => {
  const { s, release } = await setup(t);
  const PATH = await pathWithoutSops();
  const r = await runAction(
    s,
    {
      command: 'sync',
      'age-key': await readFile(s.keyFile, 'utf8'),
      'sops-mirror': release.url,
      'sops-sha256': 'ab'.repeat(32),
    },
    { PATH },
  );
  t.is(r.exitCode, 1);
  t.regex(
    r.log,
    /::error::checksum mismatch for sops-v3\.13\.2\.\S+ .*expected SHA-256 (ab)+, got [0-9a-f]{64}/,
  );
  t.regex(r.log, /nothing ran/);
  t.notRegex(r.log, /gitops-secrets sync/);
  t.deepEqual(await readdir(join(s.dir, 'tool-cache')).catch(() => []), []);
  t.deepEqual(await readdir(join(s.dir, 'runner-temp')).catch(() => []), []);
  t.is(await s.git(['ls-remote', '--heads', 'origin', 'gitops-secrets/sync']), '');
});

test('the pinned checksum of the official v3.13.2 binary is the default: any other file is refused', async (t) => {
  // .tools/bin/sops is sops 3.13.2 built with `go install`, not the official release binary.
  const { s, release } = await setup(t);
  const r = await runAction(
    s,
    { command: 'check', 'sops-mirror': release.url },
    { PATH: await pathWithoutSops() },
  );
  t.is(r.exitCode, 1);
  t.regex(r.log, /checksum mismatch/);
  t.regex(r.log, process.arch === 'x64' ? /expected SHA-256 154dfe4c/ : /expected SHA-256/);
});

test('another sops version needs sops-sha256, nothing is downloaded without one; a download that fails says which URL', async (t) => {
  const { s, release } = await setup(t);
  const r = await runAction(
    s,
    { command: 'check', 'sops-version': 'v3.12.1', 'sops-mirror': release.url },
    { PATH: await pathWithoutSops() },
  );
  t.is(r.exitCode, 1);
  t.regex(r.log, /::error::no pinned checksum for sops-v3\.12\.1\.\S+%0A {2}fix: pass its SHA-256/);
  t.deepEqual(release.hits, []);
  const given = await runAction(
    s,
    {
      command: 'check',
      'sops-version': 'v3.12.1',
      'sops-sha256': 'ab'.repeat(32),
      'sops-mirror': release.url,
    },
    { PATH: await pathWithoutSops() },
  );
  t.is(given.exitCode, 1);
  t.regex(
    given.log,
    /::error::could not download http:\/\/127\.0\.0\.1:\d+\/releases\/v3\.12\.1\/sops-v3\.12\.1\.\S+: Unexpected HTTP response: 404/,
  );
});
