/**
 * The publisher's error catalogue (STYLE §3).
 *
 * Codes are stable strings: the verify CLI prints them and tests match them,
 * so renaming one is a break. Every error that wraps another passes `cause`.
 * `retriable` says whether the scheduler may simply try the same step again.
 */

export const PUBLISHER_ERROR_CODES = [
  /** Consumers still lag behind the topics after the settle timeout. */
  'lag_not_settled',
  /** Reconciliation found a mismatch (acknowledged ≠ stored ≠ tallied): nothing is published. */
  'reconcile_failed',
  /** ClickHouse (or Redis) could not be queried. */
  'source_unavailable',
  /** The results refer to a race, district or candidate the election does not have, or do not add up. */
  'results_inconsistent',
  /** Writing a snapshot file failed, or a file that must never be rewritten already exists. */
  'store_failed',
  /** Verification: a snapshot file is missing. */
  'snapshot_missing',
  /** Verification: a file is not valid JSON or lacks required fields. */
  'snapshot_malformed',
  /** Verification: the Ed25519 signature does not verify. */
  'bad_signature',
  /** Verification: `prevHash` or `seq` breaks the chain. */
  'broken_chain',
  /** Verification: a total does not equal the sum of its parts. */
  'totals_mismatch',
  /** Verification: the codes file does not match the count or Merkle root. */
  'merkle_mismatch',
  /** Verification: the CSV is not the one the JSON implies. */
  'csv_mismatch',
  /** Verification: no key to verify with, or the key is not Ed25519. */
  'key_invalid',
  /** Verification: the key given or published differs from the key pinned in the state file. */
  'key_mismatch',
  /** The served chain's head is older than the head seen before, which the chain still holds. */
  'rolled_back_head',
  /** The served chain ends before the head seen before: that snapshot is gone. */
  'truncated_chain',
  /** The snapshot at the seq of the head seen before is a different one. */
  'forked_chain',
  /** A code counted in one snapshot is not counted in a later one. */
  'code_disappeared',
  /** District key fingerprints differ between snapshots, `keys.json` or the manifest (keys never change mid-election). */
  'district_keys_changed',
  /** The verifier's state file cannot be read or written. */
  'state_invalid',
  /** Verification: a final snapshot's winners, round or changes are not what its counts and the previous final imply. */
  'final_mismatch',
  /** Verification: a final's district protocol is missing, unsigned by the snapshot key, or not the one the snapshot implies. */
  'protocol_mismatch',
  /** Verification: `snapshots/index.json` is missing (v5 on) or an entry is not what its snapshot file says. */
  'index_mismatch',
] as const;

export type PublisherErrorCode = (typeof PUBLISHER_ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<PublisherErrorCode> = new Set([
  'lag_not_settled',
  'reconcile_failed',
  'source_unavailable',
  'store_failed',
]);

export class PublisherError extends Error {
  override readonly name = 'PublisherError';
  readonly code: PublisherErrorCode;
  /** Whether the same step may succeed later without any change (lag drains, ClickHouse returns). */
  readonly retriable: boolean;

  constructor(code: PublisherErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retriable = RETRIABLE.has(code);
  }
}

export function isPublisherError(value: unknown, code?: PublisherErrorCode): value is PublisherError {
  return value instanceof PublisherError && (code === undefined || value.code === code);
}
