/**
 * The aggregator's error catalogue (STYLE §3).
 *
 * Codes are stable strings: the CLI prints them and the publisher branches on
 * them (`lag_not_settled`, `reconcile_mismatch`), so renaming one is an API
 * break. Every error that wraps another passes it as `cause`.
 */

export const AGGREGATOR_ERROR_CODES = [
  /** A ClickHouse request failed (network, or the server refused the statement). */
  'clickhouse_failed',
  /** A Kafka admin or consumer call failed. */
  'kafka_failed',
  /** A migration statement failed; the message carries the statement and the server's reply. */
  'migration_failed',
  /** A topic the schema reads from does not exist yet (run `npm run stack -- up` / `npm start`). */
  'topic_missing',
  /** ClickHouse's consumer groups did not reach the end offsets in time. */
  'lag_not_settled',
  /** Kafka, `ballots_raw` and `tally` disagree for at least one region. */
  'reconcile_mismatch',
  /** A value that must be spliced into SQL (an election id, say) has characters we refuse. */
  'invalid_identifier',
  /** The command line is wrong. */
  'usage',
] as const;

export type AggregatorErrorCode = (typeof AGGREGATOR_ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<AggregatorErrorCode> = new Set([
  'clickhouse_failed',
  'kafka_failed',
  'lag_not_settled',
]);

export class AggregatorError extends Error {
  override readonly name = 'AggregatorError';
  readonly code: AggregatorErrorCode;
  /** Whether the same call may succeed later without any change (the server came back, the lag drained). */
  readonly retriable: boolean;

  constructor(code: AggregatorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE.has(code);
  }
}

/** Type guard; with `code`, also checks the code. */
export function isAggregatorError(value: unknown, code?: AggregatorErrorCode): value is AggregatorError {
  return value instanceof AggregatorError && (code === undefined || value.code === code);
}
