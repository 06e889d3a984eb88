/**
 * The apply step and the PR step with the port fakes of test/helpers/fakes.ts (no sops, no git,
 * no GitHub): what a plan writes, round-tripped through the model, and the pull request it opens
 * and keeps up to date. The end-to-end tests prove the same with the real sops and GitHub server.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { applyPlan } from '../src/apply/apply.js';
import { upsertPullRequest } from '../src/apply/pull-request.js';
import { findCiphertextProblem } from '../src/model/ciphertext-guard.js';
import { isProblem, type ManifestInfo, readManifest } from '../src/model/manifest.js';
import { isEmptyPlan, plan } from '../src/plan/plan.js';
import { changeRows } from '../src/plan/summary.js';
import { fakeGitHub, fakeSops, fixedClock, seededRandom } from './helpers/fakes.js';
import { shopConfig } from './helpers/shop-config.js';

const CONFIG = shopConfig(
  '{ bytes: 16, encoding: hex }',
  'pullRequest: { labels: [secrets], reviewers: [alice], teamReviewers: [platform] }\n',
);
const PATHS = ['secrets/shop/api.yaml', 'secrets/shop/worker.yaml'];

/** A first sync applied into a scratch directory with the fake sops and a seeded random. */
async function firstSync(t: { teardown(fn: () => Promise<void>): void }, seed: string) {
  const dir = await mkdtemp(join(tmpdir(), 'gs-apply-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sops = fakeSops();
  const p = plan({ config: CONFIG, job: 'sync', existing: new Map(), now: fixedClock().now() });
  const written = await applyPlan(
    { plan: p, dir, existing: new Map() },
    { sops, random: seededRandom(seed) },
  );
  const texts = new Map<string, string>();
  for (const path of written) texts.set(path, await readFile(join(dir, path), 'utf8'));
  const values = async (path: string) =>
    (await sops.decrypt(path, { cwd: dir, ciphertext: texts.get(path)! })) as string;
  return { p, sops, written, texts, values };
}

test('a first sync with the fake sops: every file passes the ciphertext guard and the next sync has nothing to do', async (t) => {
  const { sops, written, texts } = await firstSync(t, 'a');
  t.deepEqual(written, PATHS);
  t.deepEqual(
    sops.calls.map((c) => `${c.op} ${c.file}`),
    PATHS.map((p) => `encrypt ${p}`),
  );
  t.is(findCiphertextProblem(texts.get(PATHS[0]!)!, ['DB', 'KEY']), undefined);
  t.is(findCiphertextProblem(texts.get(PATHS[1]!)!, ['DB_PASSWORD']), undefined);
  const existing = new Map<string, ManifestInfo>();
  for (const [path, text] of texts) {
    const info = readManifest(path, text);
    if (isProblem(info)) return t.fail(info.problem);
    existing.set(path, info);
  }
  t.deepEqual(existing.get(PATHS[0]!)?.dataKeys.sort(), ['DB', 'KEY']);
  const again = plan({ config: CONFIG, job: 'sync', existing, now: fixedClock().now() });
  t.true(isEmptyPlan(again));
});

test('a shared value is the same in every consumer; the same seed gives the same values', async (t) => {
  const one = await firstSync(t, 'a');
  const two = await firstSync(t, 'a');
  const other = await firstSync(t, 'b');
  const db = (text: string, key: string) =>
    Buffer.from(new RegExp(`"?${key}"?: "?([^"\\n]+)`).exec(text)![1]!, 'base64').toString();
  const api = await one.values(PATHS[0]!);
  const worker = await one.values(PATHS[1]!);
  t.is(db(api, 'DB').length, 40);
  t.is(db(api, 'DB'), db(worker, 'DB_PASSWORD'));
  t.regex(db(api, 'KEY'), /^[0-9a-f]{32}$/);
  t.is(await two.values(PATHS[0]!), api);
  t.not(await other.values(PATHS[0]!), api);
});

test('the PR step with the fake GitHub: one PR with labels and reviewers, then kept up to date; at most 5 API calls a run', async (t) => {
  const github = fakeGitHub();
  const p = plan({ config: CONFIG, job: 'sync', existing: new Map(), now: fixedClock().now() });
  const log: string[] = [];
  const ctx = { token: 'token', inActions: false, create: () => github };
  const input = {
    remoteUrl: 'https://github.test/owner/repo.git',
    config: CONFIG,
    job: 'sync' as const,
    branch: 'gitops-secrets/sync',
    base: 'main',
    rows: changeRows(p, new Map(), new Map()),
    plan: p,
    wrote: true,
    log: (line: string) => log.push(line),
  };
  const opened = await upsertPullRequest(ctx, input);
  t.like(opened, { number: 1, action: 'created' });
  t.true(github.calls <= 5, `${github.calls} calls`);
  const [pr] = github.prs;
  t.like(pr, { head: 'gitops-secrets/sync', base: 'main', state: 'open', labels: ['secrets'] });
  t.deepEqual(pr?.reviewers, ['alice', 'team:platform']);
  t.false(pr?.body.includes('setup-pending'), 'the final body is written once setup is done');
  t.true(pr?.title.startsWith('chore(secrets): generate 3 keys'));

  const before = github.calls;
  t.like(await upsertPullRequest(ctx, input), { number: 1, action: 'unchanged' });
  const rows = input.rows.filter((r) => r.path === PATHS[0]);
  t.like(await upsertPullRequest(ctx, { ...input, rows }), { number: 1, action: 'updated' });
  t.is(github.prs.length, 1, 'never a second PR');
  t.true(github.calls - before <= 4, `${github.calls - before} calls for two runs`);
  t.deepEqual(log.slice(0, 1), ['opened #1 https://github.test/owner/repo/pull/1']);
});
