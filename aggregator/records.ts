/**
 * Record format of the `election-events` topic, which the aggregator is the
 * first to read (`ballots`, `issuance` and `paper` — written by ingest — are
 * defined in `common/records.ts`). JSON, one object per record, shaped so
 * that ClickHouse 18.16's JSONEachRow reader takes it without per-field settings:
 *
 *   election-events  {v, id, election, type, at, race, candidate, region, district, precinct, detail}
 *
 * Tolerance: fields the tables do not know are skipped (the Kafka engine
 * forces `input_format_skip_unknown_fields`), missing fields read as '' or 0,
 * and numbers may also arrive quoted. A record whose `v` is not 1 is read but
 * not stored, like a ballot of an unknown version.
 */
import type { RECORD_VERSION } from '../common/records.js';

/** Known event types; others are stored as they come, so new ones need no migration. */
export type ElectionEventType =
  | 'opened'
  | 'closed'
  | 'candidate-withdrawn'
  | 'candidate-removed'
  | 'candidate-reinstated'
  | 'precinct-reported'
  | (string & {});

/**
 * An administrative event. Not a ballot: it may carry a precise time (`at`,
 * Unix milliseconds). `id` makes a redelivered event collapse with itself.
 * Fields that do not apply to a type are '' (or absent).
 */
export interface ElectionEventRecord {
  readonly v: typeof RECORD_VERSION;
  readonly id: string;
  readonly election: string;
  readonly type: ElectionEventType;
  readonly at: number;
  readonly race?: string;
  readonly candidate?: string;
  readonly region?: string;
  readonly district?: string;
  readonly precinct?: string;
  /** Free text for people (a reason, a reference); never parsed. */
  readonly detail?: string;
}
