/**
 * The admin service's error catalogue (STYLE §3): every refusal the admin API
 * answers, with its HTTP status. New codes are prefixed `admin_`; the token
 * codes keep the names ingest answers with (`election/identity.ts`), so a
 * client handles a bad token the same way on every port. The body is always
 * `{error: {code, message}}`, as on the voting port.
 */
import type { TransitionRefusalCode } from '../election-state.js';

/** `admin_<refusal>` for each transition the state fold refuses (election-state.ts). */
const TRANSITION_CODES = [
  'admin_election_already_closed',
  'admin_not_open',
  'admin_already_paused',
  'admin_not_paused',
  'admin_not_later',
  'admin_unknown_candidate',
  'admin_status_unchanged',
  'admin_not_closed',
] as const satisfies readonly `admin_${Exclude<TransitionRefusalCode, 'invalid_event' | 'event_repeated'>}`[];

export const ADMIN_ERROR_STATUS = {
  /** No token, or a token that is malformed, badly signed or from an unknown key. */
  unauthorized: 401,
  token_expired: 401,
  token_too_old: 401,
  token_wrong_issuer: 401,
  token_wrong_audience: 401,
  /** A voter token, or a staff token whose role may not use this endpoint. */
  token_wrong_role: 403,
  /** The body is not JSON, or not an object. */
  admin_bad_request: 400,
  admin_payload_too_large: 413,
  /** The event's shape is wrong (type, id, reason, the type's own fields). */
  admin_event_invalid: 400,
  /** The operator's token is not the operator who signed the event (`by`). */
  admin_not_signer: 403,
  /** The signature is not `by`'s key over the event. */
  admin_signature_invalid: 400,
  /** `at` is more than 5 minutes from the service's clock. */
  admin_stale_event: 422,
  /** The event's id is already in the log with other content. */
  admin_event_id_taken: 409,
  ...(Object.fromEntries(TRANSITION_CODES.map((c) => [c, 409])) as Record<
    (typeof TRANSITION_CODES)[number],
    409
  >),
  /** Violation reports (reports.ts REPORT_REFUSALS): no such tracking number. */
  admin_report_not_found: 404,
  /** The triage does not follow from the report's status (or a bad request body). */
  admin_triage_invalid: 422,
  /** Another committee member triaged the report meanwhile. */
  admin_triage_conflict: 409,
  /** The triage could not be confirmed in the log; send it again. */
  admin_triage_unconfirmed: 503,
  /** No such route. */
  admin_not_found: 404,
  /** Kafka did not take or confirm the event in time: it may or may not be in the log; send it again (same id). */
  admin_unavailable: 503,
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERROR_STATUS;

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly code: AdminErrorCode;
  readonly status: number;

  constructor(code: AdminErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = ADMIN_ERROR_STATUS[code];
  }
}

export function isAdminErrorCode(code: string): code is AdminErrorCode {
  return Object.hasOwn(ADMIN_ERROR_STATUS, code);
}
