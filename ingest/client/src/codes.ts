/** The API's error codes (ingest/errors.ts) plus the client's own; no DOM, so node tests import it too. */

/** Codes the page shows a message for; anything else is shown as `unknown`. */
export const API_CODES = [
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
  'network',
  'timeout',
  'district_key_mismatch',
  'manifest_mismatch',
  'unknown',
] as const;
export type ApiCode = (typeof API_CODES)[number];

/** Codes where the very same request may succeed later: retried, with a waiting message. */
export const RETRIED_CODES: readonly ApiCode[] = [
  'overloaded',
  'unavailable',
  'rebuilding',
  'rate_limited',
  // Until the commission resumes voting: the same request, every Retry-After (30 s).
  'election_paused',
  'network',
  'timeout',
];
