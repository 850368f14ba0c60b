/**
 * The ingest error catalogue: every refusal the API can give, with its HTTP
 * status, whether a client may retry, and a pre-serialised body (STYLE 3, 7).
 *
 * Codes are part of API v1 (docs/api.yaml): never rename one, only add.
 */

export const ERROR_CODES = [
  'bad_request',
  'payload_too_large',
  'unauthorized',
  'not_eligible',
  'invalid_credential',
  'invalid_selection',
  'credential_already_issued',
  'credential_already_used',
  'election_closed',
  'not_found',
  'not_acceptable',
  'overloaded',
  'unavailable',
  'rebuilding',
  'token_wrong_issuer',
  'token_wrong_audience',
  'token_too_old',
  'token_expired',
  'rate_limited',
  'token_wrong_role',
  'already_issued_online',
  'checked_in_on_paper',
  'already_checked_in',
  'precinct_closed',
  'protocol_invalid',
  'protocol_signature_invalid',
  'protocol_version_taken',
  'precinct_open',
  'report_invalid',
  'election_not_open',
  'election_paused',
  'candidate_removed',
  'candidate_withdrawn',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

interface ErrorSpec {
  /** The HTTP status line, as uWS writes it. */
  readonly status: string;
  /** True when the same request may succeed later (503s carry `Retry-After`). */
  readonly retriable: boolean;
  /** The default message; short, English, never carries request data. */
  readonly message: string;
}

/** The one table mapping codes to HTTP statuses. */
export const ERROR_TABLE: { readonly [C in ErrorCode]: ErrorSpec } = {
  bad_request: { status: '400 Bad Request', retriable: false, message: 'The request is malformed.' },
  payload_too_large: {
    status: '413 Payload Too Large',
    retriable: false,
    message: 'The request body exceeds 8 KiB.',
  },
  unauthorized: { status: '401 Unauthorized', retriable: false, message: 'The identity token is not valid.' },
  not_eligible: { status: '403 Forbidden', retriable: false, message: 'The voter is not on the roll.' },
  invalid_credential: {
    status: '403 Forbidden',
    retriable: false,
    message: 'The credential signature is not valid.',
  },
  invalid_selection: {
    status: '422 Unprocessable Entity',
    retriable: false,
    message: 'The selections do not fit the ballot.',
  },
  credential_already_issued: {
    status: '409 Conflict',
    retriable: false,
    message: 'A credential was already issued to this voter.',
  },
  credential_already_used: {
    status: '409 Conflict',
    retriable: false,
    message: 'This credential has already cast a different ballot.',
  },
  election_closed: { status: '403 Forbidden', retriable: false, message: 'The election is not open.' },
  not_found: { status: '404 Not Found', retriable: false, message: 'Not found.' },
  // RFC 9110 §12.5.3: the client refused identity and every coding held (common/static-files/).
  not_acceptable: {
    status: '406 Not Acceptable',
    retriable: false,
    message: 'No content coding the request accepts (Accept-Encoding).',
  },
  overloaded: { status: '503 Service Unavailable', retriable: true, message: 'Too busy; retry shortly.' },
  unavailable: {
    status: '503 Service Unavailable',
    retriable: true,
    message: 'Temporarily unavailable; retry shortly.',
  },
  rebuilding: {
    status: '503 Service Unavailable',
    retriable: true,
    message: 'Rebuilding the duplicate-vote index from the log; retry shortly.',
  },
  token_wrong_issuer: {
    status: '401 Unauthorized',
    retriable: false,
    message: 'The identity token is not from an issuer this election trusts.',
  },
  token_wrong_audience: {
    status: '401 Unauthorized',
    retriable: false,
    message: 'The identity token is for another election.',
  },
  token_too_old: {
    status: '401 Unauthorized',
    retriable: false,
    message: 'The identity token was issued too long ago; sign in again.',
  },
  token_expired: {
    status: '401 Unauthorized',
    retriable: false,
    message: 'The identity token has expired; sign in again.',
  },
  rate_limited: {
    status: '429 Too Many Requests',
    retriable: true,
    message: 'Too many credential requests from this voter or address; retry after the delay given.',
  },
  token_wrong_role: {
    status: '403 Forbidden',
    retriable: false,
    message: 'This sign-in may not do this (a voter, official or observer token in the wrong place).',
  },
  // The paper channel's one-member-one-ballot rule (ingest/routes/paper-check-ins.ts): each says
  // which channel holds the member, and nothing more.
  already_issued_online: {
    status: '409 Conflict',
    retriable: false,
    message: 'This member already received an online credential and votes online only.',
  },
  checked_in_on_paper: {
    status: '409 Conflict',
    retriable: false,
    message: 'This member was checked in at a paper polling station and votes on paper only.',
  },
  already_checked_in: {
    status: '409 Conflict',
    retriable: false,
    message: 'This member was already checked in at another polling station.',
  },
  precinct_closed: { status: '403 Forbidden', retriable: false, message: 'The polling station is not open.' },
  // Precinct protocols (ingest/routes/paper-protocols.ts): the message names the offending line.
  protocol_invalid: {
    status: '422 Unprocessable Entity',
    retriable: false,
    message: 'The protocol does not add up or does not fit the precinct.',
  },
  protocol_signature_invalid: {
    status: '403 Forbidden',
    retriable: false,
    message: "The protocol is not signed with its station's key.",
  },
  protocol_version_taken: {
    status: '409 Conflict',
    retriable: false,
    message:
      'A different protocol of this version was already submitted; a correction needs a higher version.',
  },
  precinct_open: {
    status: '403 Forbidden',
    retriable: false,
    message: 'The polling station has not closed yet: its protocol comes after it closes.',
  },
  // Violation reports (ingest/routes/reports.ts): the message says which field.
  report_invalid: {
    status: '422 Unprocessable Entity',
    retriable: false,
    message: 'The report names a region or district this election does not have.',
  },
  // The commission's live decisions (ingest/election-live.ts, the `election-events` stream): online
  // issuance and casting only; a pause's message carries its reason and until when.
  election_not_open: { status: '403 Forbidden', retriable: false, message: 'Voting has not opened yet.' },
  election_paused: {
    status: '503 Service Unavailable',
    retriable: true,
    message: 'Voting is paused by the election commission; retry later.',
  },
  candidate_removed: {
    status: '422 Unprocessable Entity',
    retriable: false,
    message: 'A candidate marked on the ballot was removed from the race by the election commission.',
  },
  candidate_withdrawn: {
    status: '422 Unprocessable Entity',
    retriable: false,
    message: 'A candidate marked on the ballot has withdrawn from the race.',
  },
};

/** An expected refusal. Anything else reaching the HTTP layer is logged and answered `unavailable`. */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly status: string;
  readonly retriable: boolean;
  /** Seconds until a retry can succeed, when the refusal knows it (`rate_limited`). */
  readonly retryAfterSec: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_TABLE[code].message,
    options?: { cause?: unknown; retryAfterSec?: number },
  ) {
    super(message, options);
    this.retryAfterSec = options?.retryAfterSec;
    this.status = ERROR_TABLE[code].status;
    this.retriable = ERROR_TABLE[code].retriable;
  }
}

export function isIngestError(value: unknown): value is IngestError {
  return value instanceof IngestError;
}

/** `{error:{code, message}}` with the catalogue message, serialised once per code. */
export const ERROR_BODIES: { readonly [C in ErrorCode]: Buffer } = Object.fromEntries(
  ERROR_CODES.map((code) => [code, errorBody(code, ERROR_TABLE[code].message)]),
) as { [C in ErrorCode]: Buffer };

export function errorBody(code: ErrorCode, message: string): Buffer {
  return Buffer.from(JSON.stringify({ error: { code, message } }));
}
