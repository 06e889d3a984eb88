import { parse } from 'yaml';
import { ExternalError } from '../errors.js';
import { RECIPIENT_KINDS } from './recipients.js';

/**
 * The ciphertext guard: what sops returned, checked before it can reach git. Every value under
 * `data` and `stringData` must be sops ciphertext, the top-level `sops` block must be there with
 * at least one recipient, and every key the plan says the file holds must be under `data`.
 * Messages name the file and the key, never a value.
 */

/** `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, as sops writes each encrypted value. */
const CIPHERTEXT =
  /^ENC\[AES256_GCM,data:[A-Za-z0-9+/]*={0,2},iv:[A-Za-z0-9+/]+={0,2},tag:[A-Za-z0-9+/]+={0,2},type:[a-z]+\]$/;

/**
 * A value as sops leaves it under `data`/`stringData`: ciphertext, or empty (an empty value holds
 * no secret, and sops leaves it as it is). The one test of both the guard and readManifest.
 */
export function isCiphertext(value: unknown): boolean {
  return value === '' || (typeof value === 'string' && CIPHERTEXT.test(value));
}

/** Where sops records recipients in its block (also inside each of `key_groups`). */
const RECIPIENT_FIELDS = RECIPIENT_KINDS.map((k) => k.block);

const CAUSE_PLAINTEXT =
  'likely an encryptedRegex or .sops.yaml rule that does not match data, or an encrypted_regex ' +
  'of the file itself that misses it';
const CAUSE_NO_SOPS = 'sops returned a file without its sops block';
const CAUSE_NO_RECIPIENT =
  'sops returned a file that names no recipient (age, pgp, kms, gcp_kms, azure_kv, hc_vault)';
const CAUSE_MISSING = 'sops returned a file without a key it should hold';
const CAUSE_UNREADABLE = 'sops returned something that is not a YAML mapping';

export interface CiphertextProblem {
  /** The key it is about (`data.KEY`), when there is one. */
  key?: string;
  /** What is wrong; never a value. */
  problem: string;
  /** The likely cause, for the user. */
  cause: string;
}

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Any recipient in a `sops` block, or in one of its key groups. */
function hasRecipient(block: Mapping): boolean {
  const groups = Array.isArray(block.key_groups) ? block.key_groups : [];
  return [block, ...groups].some(
    (g) =>
      isMapping(g) &&
      RECIPIENT_FIELDS.some((f) => Array.isArray(g[f]) && (g[f] as unknown[]).length > 0),
  );
}

/** The first key under `data`/`stringData` whose value is not sops ciphertext, if any. */
function plaintextKey(doc: Mapping): CiphertextProblem | undefined {
  for (const section of ['data', 'stringData'] as const) {
    const values = doc[section];
    if (values === undefined || values === null) continue;
    if (!isMapping(values))
      return {
        key: section,
        problem: 'is not a mapping of keys to ciphertext',
        cause: CAUSE_PLAINTEXT,
      };
    for (const [key, value] of Object.entries(values)) {
      if (!isCiphertext(value))
        return {
          key: `${section}.${key}`,
          problem: 'is not sops ciphertext',
          cause: CAUSE_PLAINTEXT,
        };
    }
  }
  return undefined;
}

/**
 * What is wrong with an encrypted manifest sops returned, or undefined when it is fit to commit.
 * `keys`: the keys under `data` the file must hold after this run.
 */
export function findCiphertextProblem(
  text: string,
  keys: Iterable<string>,
): CiphertextProblem | undefined {
  return guarded(text, keys).problem;
}

/**
 * Throws an ExternalError (exit 1) naming the file and the key when the manifest is unfit;
 * returns the document, parsed once, for the caller to look further without parsing again.
 */
export function assertCiphertext(path: string, text: string, keys: Iterable<string>): Mapping {
  const { doc, problem: found } = guarded(text, keys);
  if (!found) return doc;
  const what = found.key ? `${path}: ${found.key} ${found.problem}` : `${path} ${found.problem}`;
  throw new ExternalError(
    'sops',
    `ciphertext guard: ${what} after sops (${found.cause}); nothing was committed`,
    found.cause === CAUSE_PLAINTEXT
      ? 'make the encryptedRegex of the config, the encrypted_regex of .sops.yaml and of the file match data and stringData'
      : 'check the sops binary in use (sops --version, GITOPS_SECRETS_SOPS) and run again',
  );
}

function guarded(
  text: string,
  keys: Iterable<string>,
): { doc: Mapping; problem?: undefined } | { doc?: undefined; problem: CiphertextProblem } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return { problem: { problem: 'is not valid YAML', cause: CAUSE_UNREADABLE } };
  }
  if (!isMapping(doc))
    return { problem: { problem: 'is not a YAML mapping', cause: CAUSE_UNREADABLE } };
  const problem = problemOf(doc, keys);
  return problem ? { problem } : { doc };
}

function problemOf(doc: Mapping, keys: Iterable<string>): CiphertextProblem | undefined {
  const plaintext = plaintextKey(doc);
  if (plaintext) return plaintext;
  if (!isMapping(doc.sops)) return { problem: 'has no sops block', cause: CAUSE_NO_SOPS };
  if (!hasRecipient(doc.sops))
    return { problem: 'has a sops block with no recipient', cause: CAUSE_NO_RECIPIENT };
  const data = isMapping(doc.data) ? doc.data : {};
  for (const key of keys)
    if (!Object.hasOwn(data, key))
      return { key: `data.${key}`, problem: 'is missing', cause: CAUSE_MISSING };
  return undefined;
}
