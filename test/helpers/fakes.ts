/**
 * Small hand-written fakes of the ports, for fast unit tests of config, model and plan (issue 19):
 * sops (well-formed fake ciphertext, calls recorded), GitHub (pull requests in memory), a clock
 * that moves only when told, and a seeded random source. No process, no network, no disk.
 */
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import type { RandomSource } from '../../src/model/random.js';
import type {
  PullRequest,
  PullRequestPort,
  PullRequestState,
} from '../../src/ports/github-port.js';
import type { SopsPort } from '../../src/ports/sops.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const enc = (s: string) =>
  `ENC[AES256_GCM,data:${b64(s)},iv:${b64('iv')},tag:${b64('tag')},type:str]`;
const dec = (s: string) => Buffer.from(/data:([^,]*)/.exec(s)![1]!, 'base64').toString();
const mapValues = (text: string, f: (v: string) => string) => {
  const doc = parseDocument(text);
  for (const section of ['data', 'stringData'])
    for (const [k, v] of Object.entries(doc.toJS()[section] ?? {}))
      doc.setIn([section, k], f(String(v)));
  return doc;
};

/** sops: encrypt wraps each data/stringData value in a fake `ENC[...]` (decrypt reverses it)
 * and adds a sops block for the settings' age recipients; every call is recorded. */
export function fakeSops(recipient = 'age1fake') {
  const calls: { op: string; file: string }[] = [];
  const record = async (op: string, file: string) => {
    calls.push({ op, file });
  };
  const port: SopsPort = {
    ensureReady: async () => {},
    async encrypt(plaintext, { filename, settings }) {
      await record('encrypt', filename);
      const doc = mapValues(plaintext, enc);
      const age = settings.age.length > 0 ? settings.age : [recipient];
      const block = { age: age.map((r) => ({ recipient: r, enc: 'x' })), mac: enc('mac') };
      doc.set('sops', { ...block, lastmodified: '2026-01-01T00:00:00Z', version: '3.13.2' });
      return doc.toString();
    },
    async decrypt(file, { ciphertext }) {
      await record('decrypt', file);
      return mapValues(ciphertext ?? '', dec).toString();
    },
    set: (file) => record('set', file),
    unset: (file) => record('unset', file),
    updateKeys: (file) => record('updateKeys', file),
    get started() {
      return calls.length;
    },
    jobs: 1,
  };
  return Object.assign(port, { calls });
}

type FakePr = PullRequest & { state: PullRequestState; head: string; base: string };

/** GitHub: pull requests in memory; every method is one API call. */
export function fakeGitHub(repo = 'owner/repo') {
  const prs: (FakePr & { reviewers: string[] })[] = [];
  let calls = 0;
  const api = <T>(value: T) => {
    calls++;
    return Promise.resolve(value);
  };
  const pr = (n: number) => prs.find((p) => p.number === n)!;
  const port: PullRequestPort = {
    repo,
    defaultBranch: () => api('main'),
    findOpen: (head, base) =>
      api(prs.find((p) => p.head === head && p.base === base && p.state === 'open')),
    listForHead: (head) => api(prs.filter((p) => p.head === head).reverse()),
    create(fields) {
      const number = prs.length + 1;
      const url = `https://github.test/${repo}/pull/${number}`;
      prs.push({ ...fields, number, url, labels: [], state: 'open', reviewers: [] });
      return api(pr(number));
    },
    update: (number, fields) => api(Object.assign(pr(number), fields)),
    addLabels: (number, labels) => api(void pr(number).labels.push(...labels)),
    requestReviewers: (number, users, teams) =>
      api(void pr(number).reviewers.push(...users, ...teams.map((t) => `team:${t}`))),
    get calls() {
      return calls;
    },
  };
  return Object.assign(port, { prs });
}

/** A clock that stands still until told to move. */
export function fixedClock(iso = '2026-01-01T00:00:00Z') {
  let at = Date.parse(iso);
  return {
    now: () => new Date(at),
    advance(ms: number) {
      at += ms;
    },
    days: (n: number) => n * 86_400_000,
  };
}

/** Random bytes from SHA-256 in counter mode over a seed: the same seed, the same values. */
export function seededRandom(seed = 'seed'): RandomSource {
  let counter = 0;
  const bytes = (n: number) => {
    const out: Buffer[] = [];
    for (let got = 0; got < n; got += 32)
      out.push(createHash('sha256').update(`${seed}:${counter++}`).digest());
    return Buffer.concat(out).subarray(0, n);
  };
  const uuid = () => {
    const b = bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  return { bytes, uuid };
}
