import { parse } from 'yaml';
import { ExternalError } from '../errors.js';

/** Where a user who meets a bug of this tool reports it. */
const REPORT_BUG =
  'report this as a bug at https://github.com/gitops-secrets/gitops-secrets/issues, with the sops version and this message';
const RECIPIENTS = 'check the recipients in the config or .sops.yaml';
const PRIVATE_KEY = 'check the private key (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)';

/** Stable sops exit codes (getsops/sops cmd/sops/codes/codes.go) and what to tell the user. */
const EXIT_CODES: Record<number, { what: string; remedy: string }> = {
  2: { what: 'could not read the input file', remedy: 'check the file exists and is readable' },
  3: { what: 'could not write the output file', remedy: 'check the disk and its permissions' },
  5: { what: 'could not read .sops.yaml', remedy: 'fix the syntax of .sops.yaml' },
  7: { what: 'invalid value for sops set', remedy: REPORT_BUG },
  21: { what: 'could not encrypt the MAC', remedy: RECIPIENTS },
  23: { what: 'could not encrypt the document', remedy: RECIPIENTS },
  24: { what: 'could not decrypt the MAC', remedy: PRIVATE_KEY },
  25: { what: 'could not decrypt the document', remedy: PRIVATE_KEY },
  49: { what: 'cannot change keys of a file that does not exist', remedy: 'run sync again' },
  51: {
    what: 'MAC mismatch: the file was changed after it was encrypted (e.g. an annotation edited by hand)',
    remedy: 'restore the file from git history, or re-create it with sops',
  },
  52: { what: 'the file has no MAC', remedy: 'restore the file from git history' },
  61: {
    what: 'no recipients: the config names none and no .sops.yaml creation rule matches',
    remedy: 'add `sops: { age: [age1...] }` to the config, or a creation rule to .sops.yaml',
  },
  91: { what: 'invalid tree path', remedy: REPORT_BUG },
  100: { what: 'no file given', remedy: REPORT_BUG },
  111: { what: 'no encryption key found', remedy: 'name recipients in the config or .sops.yaml' },
  128: {
    what: 'could not retrieve the data key: no private key here can open this file',
    remedy: 'provide the private key of one of its recipients (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)',
  },
  203: { what: 'the file is already encrypted', remedy: REPORT_BUG },
};

/** How a sops process ended: the fields of execa's result the message is built from. */
export interface SopsOutcome {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  isMaxBuffer: boolean;
  /** Node's error code when the process could not start (ENOENT, EACCES). */
  code: string | undefined;
  stderr: string;
}

/**
 * The user's message for a failed sops process, from its exit code and its stderr (scrubbed);
 * never from its stdout or its input, and never execa's `message`, which embeds stdout.
 */
export function sopsError(
  bin: string,
  outcome: SopsOutcome,
  file: string | undefined,
  input: string | undefined,
): ExternalError {
  if (outcome.code === 'ENOENT' || outcome.code === 'EACCES') return missing(bin, outcome.code);
  const where = file ? ` on ${file}` : '';
  if (outcome.timedOut) {
    return new ExternalError(
      'sops',
      `sops timed out${where}`,
      'check that sops can reach its key service; GITOPS_SECRETS_SOPS_TIMEOUT_MS raises the limit',
    );
  }
  if (outcome.isMaxBuffer) return new ExternalError('sops', `sops printed too much${where}`);
  if (outcome.signal)
    return new ExternalError('sops', `sops was stopped by ${outcome.signal}${where}`);
  const stderr = scrub(outcome.stderr.trim(), input);
  const known = outcome.exitCode !== undefined ? EXIT_CODES[outcome.exitCode] : undefined;
  const detail = stderr ? `\n  sops said: ${tail(stderr).split('\n').join('\n  ')}` : '';
  return new ExternalError(
    'sops',
    `sops failed${where} (exit ${outcome.exitCode ?? '?'}${known ? `: ${known.what}` : ''})${detail}`,
    known?.remedy,
  );
}

function missing(bin: string, code: string): ExternalError {
  return new ExternalError(
    'sops',
    code === 'ENOENT'
      ? `sops not found (looked for "${bin}" on PATH)`
      : `could not start sops (${code})`,
    `${INSTALL_SOPS}, or set GITOPS_SECRETS_SOPS to the path of the sops binary`,
  );
}

/** Where an installed user gets sops: never a script of this source tree. */
export const INSTALL_SOPS =
  'install sops 3.11 or newer (https://github.com/getsops/sops/releases) on PATH';

/** sops's stderr is shown whole up to this many bytes; past it, only its end (the cause is last). */
export const MAX_STDERR = 4096;

/** The end of `text` that fits in MAX_STDERR bytes, cut at a line start, saying what was cut. */
export function tail(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= MAX_STDERR) return text;
  const bytes = Buffer.from(text, 'utf8');
  let kept = bytes.subarray(bytes.length - MAX_STDERR).toString('utf8');
  const nl = kept.indexOf('\n');
  if (nl >= 0 && nl < kept.length - 1) kept = kept.slice(nl + 1);
  // A character cut in half decodes as U+FFFD: drop it.
  kept = kept.replace(/^\uFFFD+/, '');
  const cut = bytes.length - Buffer.byteLength(kept, 'utf8');
  return `[${cut} earlier bytes not shown]\n${kept}`;
}

/**
 * sops's stderr, safe to show: every value it was given on stdin (and its base64) of 4 or more
 * characters, wherever it occurs, and any run of 8+ characters that occurs in one of them (a
 * part of a value) are withheld, and so are long hex strings (a MAC mismatch prints digests of
 * the plaintext values). Shorter values are left: withholding every `ab` would leave nothing to
 * read, and a value that short is no secret worth the name.
 */
export function scrub(stderr: string, input: string | undefined): string {
  let out = stderr.replace(/[0-9a-fA-F]{32,}/g, '[digest withheld]');
  const values = secretsIn(input);
  if (values.length > 0) {
    for (const v of values.filter((x) => x.length >= 4).sort((a, b) => b.length - a.length))
      out = out.split(v).join('[withheld]');
    out = out.replace(/[^\s"'`,;:()[\]{}<>=]{8,}/g, (token) =>
      values.some((v) => v.includes(token)) ? '[withheld]' : token,
    );
  }
  return out;
}

/** The secret parts of what sops was given: a `set` value, or the values under `data:` / `stringData:`. */
function secretsIn(input: string | undefined): string[] {
  if (!input) return [];
  if (input.startsWith('"')) {
    try {
      const v = JSON.parse(input) as unknown;
      return typeof v === 'string' ? [v, Buffer.from(v, 'base64').toString('utf8')] : [input];
    } catch {
      return [input];
    }
  }
  let doc: unknown;
  try {
    doc = parse(input);
  } catch {
    return [input];
  }
  const out: string[] = [];
  for (const section of ['data', 'stringData']) {
    const values = (doc as Record<string, unknown> | null)?.[section];
    if (!values || typeof values !== 'object') continue;
    for (const v of Object.values(values))
      if (typeof v === 'string' && v !== '') out.push(v, Buffer.from(v, 'base64').toString('utf8'));
  }
  return out;
}
