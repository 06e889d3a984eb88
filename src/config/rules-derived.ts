import { derivationFingerprint } from '../model/derive.js';
import { parseTemplate, type TemplatePart } from '../model/template.js';
import type { FieldPath, Report } from './report.js';
import { KEY_NAME_RE, type RawKey, SOURCE_FIELDS } from './schema.js';
import { BCRYPT_COSTS, DERIVED_FIELDS } from './schema-derived.js';
import type { KeySpec, SharedSpec } from './types.js';
import type { Derivation, DerivedSource, SshSource } from './types-derived.js';

/** Fields that shape another source's value, and what they go with (not a source of their own). */
const MODIFIERS = {
  rules: '`rules` is for random strings (length, charset or chars)',
  encoding: '`encoding` goes with `bytes: N`',
  pattern: 'pattern and minLength go with `provided: true`',
  minLength: 'pattern and minLength go with `provided: true`',
} as const;

/** The key declares one of the issue-23 fields (htpasswd, ssh, template, dockerconfigjson). */
export function hasDerivedField(key: RawKey): boolean {
  return DERIVED_FIELDS.some((f) => key[f] !== undefined);
}

/**
 * The source of a key with a derived field: exactly one such field, and no other source. Its
 * references are resolved once every key of the Secret is known (`resolveDerived`).
 */
export function derivedKeySource(
  key: RawKey,
  path: FieldPath,
  fail: Report,
): SshSource | DerivedSource | undefined {
  const fields = DERIVED_FIELDS.filter((f) => key[f] !== undefined);
  const others = [
    ...SOURCE_FIELDS.filter(
      (f) =>
        f !== 'description' && f !== 'rotateEvery' && f !== 'keepPrevious' && key[f] !== undefined,
    ),
    ...(key.from !== undefined ? ['from'] : []),
  ];
  const sources = others.filter((f) => !(f in MODIFIERS));
  if (fields.length > 1 || sources.length > 0) {
    const all = [...fields, ...sources];
    fail(path, `has more than one source (${all.join(' and ')}); a key takes exactly one`);
    return undefined;
  }
  const modifier = others.find((f): f is keyof typeof MODIFIERS => f in MODIFIERS);
  if (modifier) {
    fail([...path, modifier], `${MODIFIERS[modifier]}; a key with \`${fields[0]}\` takes none`);
    return undefined;
  }
  if (key.ssh) {
    const { type = 'ed25519', bits, comment = '' } = key.ssh;
    if (type !== 'rsa' && bits !== undefined) {
      fail([...path, 'ssh', 'bits'], '`bits` is for `type: rsa`; ed25519 keys have one size');
      return undefined;
    }
    const publicKey = key.ssh.publicKey ?? `${String(path[path.length - 1])}.pub`;
    return { kind: 'ssh', type, bits: bits ?? 4096, comment, publicKey };
  }
  for (const field of ['rotateEvery', 'keepPrevious'] as const)
    if (key[field] !== undefined) {
      fail(
        [...path, field],
        `a derived key (${fields[0]}) changes with the keys it is made from, never alone; set ${field} on them`,
      );
      return undefined;
    }
  const derive = derivation(key, path, fail);
  return derive && { kind: 'derived', derive, inputs: [], fingerprint: '' };
}

function derivation(key: RawKey, path: FieldPath, fail: Report): Derivation | undefined {
  if (key.htpasswd) {
    const { user, from, cost = BCRYPT_COSTS.default } = key.htpasswd;
    return { kind: 'htpasswd', user, from, cost };
  }
  if (key.dockerconfigjson) return { kind: 'dockerconfigjson', ...key.dockerconfigjson };
  const parsed = parseTemplate(key.template ?? '');
  if ('error' in parsed) {
    fail([...path, 'template'], parsed.error);
    return undefined;
  }
  return { kind: 'template', parts: parsed.parts };
}

/** Where a derivation names its inputs, for messages. */
function refField(derive: Derivation): string[] {
  if (derive.kind === 'htpasswd') return ['htpasswd', 'from'];
  if (derive.kind === 'dockerconfigjson') return ['dockerconfigjson', 'from'];
  return ['template'];
}

/**
 * The keys of one Secret with their derived parts complete: the public key of each SSH key
 * pair added, every reference resolved to a key of the Secret (`shared.NAME` to the key that
 * takes shared NAME), no cycle, and derived keys after the keys they are made from.
 */
export function resolveDerived(
  keys: KeySpec[],
  path: FieldPath,
  fail: Report,
  partial: boolean,
  shared: Map<string, SharedSpec> = new Map(),
): KeySpec[] {
  const all = [...keys, ...publicKeys(keys, path, fail)];
  const names = new Set(all.map((k) => k.name));
  for (const key of all) {
    if (key.source.kind !== 'derived') continue;
    const source = key.source;
    const where = [...path, key.name, ...refField(source.derive)];
    const inputs = new Set<string>();
    const resolve = (ref: string): string | undefined => {
      const name = ref.startsWith('shared.') ? sharedKey(all, ref.slice(7)) : ref;
      if (name !== undefined && names.has(name)) return name;
      if (partial) return undefined;
      fail(where, unknownRef(ref, all));
      return undefined;
    };
    if (source.derive.kind === 'template') {
      const parts: TemplatePart[] = [];
      for (const p of source.derive.parts) {
        const name = 'ref' in p ? resolve(p.ref) : undefined;
        if (name !== undefined && 'ref' in p) inputs.add(name);
        parts.push('ref' in p ? { ref: name ?? p.ref, filters: p.filters } : p);
      }
      source.derive = { kind: 'template', parts };
    } else {
      const name = resolve(source.derive.from);
      if (name !== undefined) inputs.add(name);
    }
    source.inputs = [...inputs];
    source.fingerprint = derivationFingerprint(source.derive);
  }
  const ordered = orderByInputs(all, path, fail);
  for (const key of ordered)
    if (key.source.kind === 'derived' && key.source.derive.kind === 'htpasswd')
      checkBcryptInput(ordered, shared, key.source.derive.from, [...path, key.name], fail);
  return ordered;
}

/**
 * bcrypt reads 72 bytes of a password: an input whose value can be longer is refused at the
 * htpasswd's `from`. The most bytes a key can hold: a random string or bytes by their size, a shared
 * value by the shared entry's source, a template by its text and references (through their
 * filters); an SSH key (or anything made from one) is always longer. A provided slot has no
 * known size (`set` checks the value it is given).
 */
function checkBcryptInput(
  keys: KeySpec[],
  shared: Map<string, SharedSpec>,
  from: string,
  where: FieldPath,
  fail: Report,
): void {
  const most = mostBytes(keys, shared, from, []);
  if (most === undefined || most <= 72) return;
  const size = Number.isFinite(most) ? `up to ${most} bytes long` : 'longer than 72 bytes';
  fail(
    [...where, 'htpasswd', 'from'],
    `${from} is ${size}; bcrypt (htpasswd) reads only the first 72 bytes of a password: make it at most 72`,
  );
}

/** The most bytes the value of key `name` can have; undefined when unknown (provided). */
function mostBytes(
  keys: KeySpec[],
  shared: Map<string, SharedSpec>,
  name: string,
  trail: string[],
): number | undefined {
  if (trail.includes(name)) return undefined; // a cycle, reported elsewhere
  const found = keys.find((k) => k.name === name)?.source;
  const src = found?.kind === 'shared' ? shared.get(found.from)?.source : found;
  if (src === undefined) return undefined;
  switch (src.kind) {
    case 'random':
      return src.length * Math.max(...Array.from(src.alphabet, (c) => Buffer.byteLength(c)));
    case 'bytes':
      return src.encoding === 'hex' ? 2 * src.bytes : 4 * Math.ceil(src.bytes / 3);
    case 'uuid':
      return 36;
    case 'ssh':
      return Number.POSITIVE_INFINITY;
    case 'provided':
      return undefined;
    case 'derived':
      return derivedBytes(keys, shared, src.derive, [...trail, name]);
  }
}

function derivedBytes(
  keys: KeySpec[],
  shared: Map<string, SharedSpec>,
  derive: Derivation,
  trail: string[],
): number | undefined {
  if (derive.kind !== 'template') return Number.POSITIVE_INFINITY; // 60+ bytes and more
  let total = 0;
  for (const part of derive.parts) {
    if ('text' in part) {
      total += Buffer.byteLength(part.text);
      continue;
    }
    let n = mostBytes(keys, shared, part.ref, trail);
    if (n === undefined) return undefined;
    for (const f of part.filters)
      n = f === 'urlencode' ? 3 * n : f === 'base64' ? 4 * Math.ceil(n / 3) : 6 * n + 2;
    total += n;
  }
  return total;
}

function sharedKey(keys: KeySpec[], shared: string): string | undefined {
  return keys.find((k) => k.source.kind === 'shared' && k.source.from === shared)?.name;
}

function unknownRef(ref: string, keys: KeySpec[]): string {
  if (ref.startsWith('shared.'))
    return `${ref}: no key of this Secret takes shared value ${ref.slice(7)}; declare one with \`from: ${ref.slice(7)}\``;
  return `no key "${ref}" in this Secret; declared: ${keys.map((k) => k.name).join(', ')}`;
}

/** The public key of each SSH key pair, as a key derived from its private key. */
function publicKeys(keys: KeySpec[], path: FieldPath, fail: Report): KeySpec[] {
  const out: KeySpec[] = [];
  const taken = new Set(keys.map((k) => k.name));
  for (const key of keys) {
    if (key.source.kind !== 'ssh') continue;
    const name = key.source.publicKey;
    if (!KEY_NAME_RE.test(name) || taken.has(name)) {
      const why = taken.has(name) ? 'is declared as a key too' : 'is not a valid key name';
      fail([...path, key.name, 'ssh'], `the public key's name ${name} ${why}; set ssh.publicKey`);
      continue;
    }
    taken.add(name);
    const derive: Derivation = { kind: 'ssh-public', from: key.name, comment: key.source.comment };
    out.push({
      name,
      source: { kind: 'derived', derive, inputs: [key.name], fingerprint: '' },
      rotateEvery: undefined,
      keepPrevious: false,
      description: `public key of ${key.name}`,
    });
  }
  return out;
}

/** Keys in an order where each derived key follows its inputs; a cycle is reported. */
function orderByInputs(keys: KeySpec[], path: FieldPath, fail: Report): KeySpec[] {
  const byName = new Map(keys.map((k) => [k.name, k]));
  const done = new Set<string>();
  const out: KeySpec[] = [];
  const visit = (key: KeySpec, trail: string[]): void => {
    if (done.has(key.name)) return;
    if (trail.includes(key.name)) {
      const cycle = [...trail.slice(trail.indexOf(key.name)), key.name].join(' → ');
      const src = key.source.kind === 'derived' ? refField(key.source.derive) : [];
      fail([...path, key.name, ...src], `derived keys form a cycle: ${cycle}`);
      return;
    }
    if (key.source.kind === 'derived')
      for (const input of key.source.inputs) {
        const k = byName.get(input);
        if (k) visit(k, [...trail, key.name]);
      }
    if (!done.has(key.name)) {
      done.add(key.name);
      out.push(key);
    }
  };
  for (const key of keys) visit(key, []);
  return out;
}
