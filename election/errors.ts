/**
 * The election service's error catalogue (STYLE §3).
 *
 * Codes are stable strings: ingest maps them to HTTP statuses in its own
 * table and sends them as `{error:{code}}`, so renaming one is an API break.
 * Every error that wraps another passes it as `cause`.
 */

export const ELECTION_ERROR_CODES = [
  /** The election config breaks the schema or a referential rule. */
  'config_invalid',
  /** No config file under that name or path. */
  'config_not_found',
  /** A roll CSV has bad rows, or a roll source is missing. */
  'roll_invalid',
  /** Keys for the election (or one of its districts) have not been made. */
  'keys_missing',
  /** A key file exists but is unreadable, the wrong type or too weak. */
  'keys_invalid',
  /** An identity token is malformed, badly signed or from an unknown key of a trusted issuer. */
  'unauthorized',
  /** An identity token's `iss` is not an issuer this election trusts (e.g. a dev token in production). */
  'token_wrong_issuer',
  /** An identity token's `aud` is not this election. */
  'token_wrong_audience',
  /** An identity token was issued (`iat`) longer ago than the maximum age allows. */
  'token_too_old',
  /** An identity token's `exp` has passed. */
  'token_expired',
  /** A voter token where a staff one is needed, or the reverse, or an official's token for another precinct. */
  'token_wrong_role',
  /** The configured identity issuer's keys (a JWKS file or URL) cannot be read or are not a key set. */
  'issuer_keys_invalid',
  /** A member id is not on the synthetic sample roll. */
  'unknown_member',
  /** The election has no synthetic sample roll (its roll comes from CSV). */
  'no_sample_roll',
  /** Redis failed while loading or reading the roll; worth retrying. */
  'roll_store_failed',
] as const;

export type ElectionErrorCode = (typeof ELECTION_ERROR_CODES)[number];

/** One located problem, printed as `path: message` (or `line N: message` for CSV rows). */
export interface ElectionIssue {
  readonly path: string;
  readonly message: string;
}

const RETRIABLE: ReadonlySet<ElectionErrorCode> = new Set(['roll_store_failed']);

export class ElectionError extends Error {
  override readonly name = 'ElectionError';
  readonly code: ElectionErrorCode;
  /** Whether the same call may succeed later without any change (e.g. Redis came back). */
  readonly retriable: boolean;
  /** Every located problem, in file order; empty when the error is not about a location. */
  readonly issues: readonly ElectionIssue[];

  constructor(
    code: ElectionErrorCode,
    message: string,
    options: { issues?: readonly ElectionIssue[]; cause?: unknown } = {},
  ) {
    const issues = options.issues ?? [];
    // The message carries the issues too, so a plain `console.error(err.message)` is enough to act on.
    const full = issues.length === 0 ? message : `${message}\n${issues.map(formatIssue).join('\n')}`;
    super(full, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    this.issues = Object.freeze([...issues]);
  }
}

export function formatIssue(issue: ElectionIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/** Type guard; with `code`, also checks the code. */
export function isElectionError(value: unknown, code?: ElectionErrorCode): value is ElectionError {
  return value instanceof ElectionError && (code === undefined || value.code === code);
}
