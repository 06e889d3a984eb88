import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Config, KeySpec, SecretSpec } from '../config/types.js';
import { type ExitCode, UsageError } from '../errors.js';
import { followInputs } from '../plan/derived.js';
import { groupOf } from '../plan/instances.js';
import type { Plan } from '../plan/plan.js';
import { holdTyped } from '../plan/typed.js';
import {
  type JobCommandOptions,
  type JobCommandPorts,
  loadRepoConfig,
  runJobCommand,
} from './common.js';

export interface SetOptions extends JobCommandOptions {
  /** NAMESPACE/NAME of the secret (with `key`). */
  secret: string | undefined;
  key: string | undefined;
  /** A shared value to replace in every secret that uses it (instead of secret and key). */
  shared: string | undefined;
  /** The environment to fill, when the config has environments. */
  env: string | undefined;
}

export interface SetPorts extends JobCommandPorts {
  /** The value, from stdin or a prompt that does not echo it. */
  readValue(label: string): Promise<string>;
}

/** `set`: fills a provided slot, or replaces a shared value, in a sync of its own. */
export async function set(options: SetOptions, ports: SetPorts): Promise<ExitCode> {
  const loaded = await loadRepoConfig(options);
  const { secret, key, shared, env } = options;
  if (shared && (secret || key))
    throw new UsageError('use either NS/NAME KEY or --shared NAME, not both');
  const target = { secret, key, shared, environment: env };
  const { slots, rules, label } = resolveSlots(loaded.config, target);
  const value = options.dryRun ? 'dry-run' : await ports.readValue(label);
  if (!options.dryRun) {
    checkValue(value, rules, label);
    checkBcryptLength(slots, value, label);
  }
  const reason = shared
    ? `shared value ${shared} replaced by a person`
    : 'value provided by a person';
  return runJobCommand('sync', options, loaded, ports, {
    prune: false,
    adjust: setInPlan(slots, value, reason),
  });
}

/** What `set` fills: one provided slot, or every consumer of one shared value. */
export interface SetTarget {
  secret: string | undefined;
  key: string | undefined;
  shared: string | undefined;
  environment: string | undefined;
}

interface Slot {
  secret: SecretSpec;
  key: KeySpec;
  environment: string | undefined;
}

/** Finds the slots a `set` fills, or refuses (exit 2) with the reason. */
export function resolveSlots(
  config: Config,
  target: SetTarget,
): { slots: Slot[]; rules: { pattern?: string; minLength?: number }; label: string } {
  const envNames = config.environments.map((e) => e.name);
  if (envNames.length > 0 && !target.environment) {
    throw new UsageError(`the config has environments; pass --env (one of ${envNames.join(', ')})`);
  }
  if (target.environment && !envNames.includes(target.environment)) {
    throw new UsageError(
      envNames.length > 0
        ? `unknown environment "${target.environment}"; declared: ${envNames.join(', ')}`
        : '--env is only for configs that declare `environments`',
    );
  }
  const env = target.environment;
  if (target.shared) {
    const spec = config.shared.get(target.shared);
    if (!spec)
      throw new UsageError(
        `no shared value "${target.shared}" in ${config.file}; declared: ${[...config.shared.keys()].join(', ') || '(none)'}`,
      );
    const slots: Slot[] = [];
    for (const secret of config.secrets) {
      if (!secret.environments.includes(env)) continue;
      for (const key of secret.keys)
        if (key.source.kind === 'shared' && key.source.from === target.shared)
          slots.push({ secret, key, environment: env });
    }
    if (slots.length === 0)
      throw new UsageError(
        `no secret uses shared value "${target.shared}"${env ? ` in ${env}` : ''}; nothing to set`,
      );
    const rules = spec.source.kind === 'provided' ? spec.source : {};
    return { slots, rules, label: `shared value ${target.shared}` };
  }
  if (!target.secret || !target.key)
    throw new UsageError('usage: gitops-secrets set NAMESPACE/NAME KEY, or set --shared NAME');
  const secret = config.secrets.find((s) => `${s.namespace}/${s.name}` === target.secret);
  if (!secret)
    throw new UsageError(
      `${target.secret} is not a secret in ${config.file}`,
      'use NAMESPACE/NAME of a declared secret',
    );
  if (!secret.environments.includes(env))
    throw new UsageError(`${target.secret} does not exist in environment ${env}`);
  const key = secret.keys.find((k) => k.name === target.key);
  if (!key)
    throw new UsageError(
      `${target.secret} has no key ${target.key}; declared: ${secret.keys.map((k) => k.name).join(', ')}`,
    );
  const src = key.source;
  if (src.kind === 'shared') {
    throw new UsageError(
      `${target.secret} ${target.key} takes its value from shared.${src.from}`,
      `use: gitops-secrets set --shared ${src.from}${env ? ` --env ${env}` : ''}`,
    );
  }
  if (src.kind === 'derived') {
    throw new UsageError(
      `${target.secret} ${target.key} is made from ${src.inputs.join(', ') || 'fixed text'} (${src.derive.kind}); it is never set alone`,
      'set the keys it is made from: it changes with them',
    );
  }
  if (src.kind !== 'provided') {
    throw new UsageError(
      `${target.secret} ${target.key} is generated by gitops-secrets (${src.kind === 'random' ? `random, ${src.length} characters` : src.kind}); only provided slots are set by hand`,
      'declare it `provided: true` with a description to fill it by hand, or use `rotate --force` for a new generated value',
    );
  }
  return {
    slots: [{ secret, key, environment: env }],
    rules: src,
    label: `${target.secret} ${target.key}`,
  };
}

/** Checks a value against the slot's rules; messages never repeat the value. */
export function checkValue(
  value: string,
  rules: { pattern?: string; minLength?: number },
  label: string,
): void {
  if (value.length === 0)
    throw new UsageError(
      `no value for ${label}: the input was empty`,
      'pipe the value on stdin, or run in a terminal to be prompted',
    );
  if (rules.minLength !== undefined && value.length < rules.minLength) {
    throw new UsageError(
      `the value for ${label} is shorter than minLength ${rules.minLength} (the value is not shown)`,
    );
  }
  if (rules.pattern !== undefined && !new RegExp(rules.pattern, 'u').test(value)) {
    throw new UsageError(
      `the value for ${label} does not match pattern ${rules.pattern} (the value is not shown)`,
    );
  }
}

/**
 * A value an htpasswd line is made from must fit bcrypt's 72 bytes (it ignores the rest), also
 * through templates (they only add to a value).
 */
function checkBcryptLength(slots: Slot[], value: string, label: string): void {
  if (Buffer.byteLength(value, 'utf8') <= 72) return;
  for (const { secret, key } of slots) {
    const line = htpasswdMadeFrom(secret, key.name, []);
    if (line)
      throw new UsageError(
        `the value for ${label} is longer than 72 bytes; the htpasswd line ${secret.namespace}/${secret.name} ${line} is made from it and bcrypt reads only 72 (the value is not shown)`,
      );
  }
}

/** The htpasswd key made from `name`, directly or through templates, if any. */
function htpasswdMadeFrom(secret: SecretSpec, name: string, trail: string[]): string | undefined {
  if (trail.includes(name)) return undefined;
  for (const k of secret.keys) {
    if (k.source.kind !== 'derived') continue;
    const { derive, inputs } = k.source;
    if (derive.kind === 'htpasswd' && derive.from === name) return k.name;
    if (derive.kind === 'template' && inputs.includes(name)) {
      const line = htpasswdMadeFrom(secret, k.name, [...trail, name]);
      if (line) return line;
    }
  }
  return undefined;
}

/** Puts the value into the plan: every slot is set in the same commit. */
export function setInPlan(slots: Slot[], value: string, reason: string) {
  return (plan: Plan): void => {
    for (const slot of slots) {
      const file = plan.files.find(
        (f) => f.secret === slot.secret && f.environment === slot.environment,
      );
      if (!file) continue;
      // A write held back for a typed Secret's required key counts again (plan/typed.ts).
      file.changes = file.changes.map((c) => c.held ?? c).filter((c) => c.key !== slot.key.name);
      file.changes.push({
        key: slot.key.name,
        action: 'set',
        reason,
        value: { kind: 'given', value },
      });
      if (slot.key.source.kind === 'shared') {
        const group = groupOf(slot.key.source.from, slot.environment);
        plan.shared = plan.shared.filter((s) => s.group !== group);
      }
      // The keys made from the slot change with it (issue 23).
      file.changes = holdTyped(
        file.secret,
        followInputs(file.secret, file.changes, 'sync', undefined),
        file.exists,
      );
    }
  };
}

/** The value, from stdin when piped, or a prompt that does not echo on a terminal. */
export async function readValue(
  label: string,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  let muted = true;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: stdin, output, terminal: true });
  // The prompt only once the terminal no longer echoes, so nothing typed after it shows.
  process.stderr.write(`value for ${label} (input hidden): `);
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    muted = false;
    rl.close();
    process.stderr.write('\n');
  }
}
