import type { PasswordRules } from '../model/password.js';
import type { Charset, Encoding } from './schema.js';
import type { DerivedSource, SshSource } from './types-derived.js';

/** Where a key's value comes from, after defaults are applied. */
export type KeySource =
  | {
      kind: 'random';
      length: number;
      /** With `rules`, the alphabet after their symbols and exclusions. */
      alphabet: string;
      charset: Charset | 'custom';
      rules?: PasswordRules;
    }
  | { kind: 'bytes'; bytes: number; encoding: Encoding }
  | { kind: 'uuid' }
  | { kind: 'provided'; description: string; pattern?: string; minLength?: number }
  | { kind: 'shared'; from: string }
  // Issue 23: an SSH key pair's private key; a key derived from others of its Secret.
  | SshSource
  | DerivedSource;

export type OwnSource = Exclude<KeySource, { kind: 'shared' } | DerivedSource>;

export interface Rotation {
  /** As written, e.g. `90d`. */
  text: string;
  ms: number;
}

export interface KeySpec {
  name: string;
  source: KeySource;
  rotateEvery: Rotation | undefined;
  keepPrevious: boolean;
  description: string | undefined;
}

export interface SharedSpec {
  name: string;
  source: OwnSource;
  rotateEvery: Rotation | undefined;
  keepPrevious: boolean;
  description: string | undefined;
}

/** sops settings as the sops command line takes them. */
export interface SopsSettings {
  age: string[];
  pgp: string[];
  kms: string[];
  gcpKms: string[];
  azureKv: string[];
  hcVaultTransit: string[];
  /**
   * Passed as `--encrypted-regex`; empty (sops reads that as unset) when the `.sops.yaml`
   * creation rule of the file sets a selector of its own and the config sets none: the job
   * decides, once it has read `.sops.yaml` (src/model/sops-yaml-check.ts).
   */
  encryptedRegex: string;
  /** The config sets `encryptedRegex` itself (not the default). */
  ownEncryptedRegex: boolean;
  /** False when the config names no recipients: `.sops.yaml` creation rules decide. */
  hasRecipients: boolean;
}

export interface EnvironmentSpec {
  name: string;
  sops: SopsSettings;
}

export interface SecretSpec {
  name: string;
  namespace: string;
  type: string;
  restart: string | undefined;
  rollout: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Environment names this secret exists in; `[undefined]` when the config has none. */
  environments: (string | undefined)[];
  keys: KeySpec[];
}

/** `kustomize:` in the config. */
export type KustomizeMode = 'resources' | 'ksops' | 'off';

export interface Config {
  /** The config file as given (for messages). */
  file: string;
  output: string;
  /**
   * How `sync` keeps the nearest kustomization listing the manifests (`kustomize:`); undefined:
   * detected per kustomization (ksops when it lists a ksops generator, else resources).
   */
  kustomize?: KustomizeMode;
  sops: SopsSettings;
  environments: EnvironmentSpec[];
  pullRequest: { labels: string[]; reviewers: string[]; teamReviewers: string[] };
  shared: Map<string, SharedSpec>;
  secrets: SecretSpec[];
}

export const DEFAULT_OUTPUT = 'secrets/{namespace}/{name}.yaml';
export const DEFAULT_ENCRYPTED_REGEX = '^(data|stringData)$';
