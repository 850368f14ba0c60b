/**
 * Record formats of the `paper` and `election-events` topics, which the
 * aggregator is the first to read (`ballots` and `issuance` are defined in
 * `common/records.ts`). Both are JSON, one object per record, shaped so that
 * ClickHouse 18.16's JSONEachRow reader takes them without per-field settings:
 *
 *   paper            {v, election, region, district, precinct, version, issued, spoiled, results}
 *                    results = [[race, candidate, votes], …] — all three strings, votes in decimal
 *   election-events  {v, id, election, type, at, race, candidate, region, district, precinct, detail}
 *
 * Why `votes` is a string: 18.16 reads `[["r","c",12]]` into Array(Array(String))
 * only if every element is quoted (a bare number fails with "expected opening
 * quote"), and it flattens Array(Tuple(…)) into Nested columns that JSONEachRow
 * cannot fill. Use {@link paperProtocolRecord} rather than building it by hand.
 *
 * Tolerance: fields the tables do not know are skipped (the Kafka engine
 * forces `input_format_skip_unknown_fields`), missing fields read as '' or 0,
 * and numbers may also arrive quoted. A record whose `v` is not 1 is read but
 * not stored, like a ballot of an unknown version.
 */
import { RECORD_VERSION } from '../common/records.js';

/** One precinct's count for one candidate. */
export interface PaperResult {
  readonly race: string;
  readonly candidate: string;
  readonly votes: number;
}

export interface PaperProtocolRecord {
  readonly v: typeof RECORD_VERSION;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  readonly precinct: string;
  /** Higher replaces lower for the same precinct (a corrected protocol); ClickHouse keeps the latest. */
  readonly version: number;
  /** Ballot papers handed to voters at the precinct. */
  readonly issued: number;
  /** Of those, papers found invalid. */
  readonly spoiled: number;
  readonly results: readonly (readonly [race: string, candidate: string, votes: string])[];
}

/** Builds a paper protocol record in the wire shape (votes as decimal strings). */
export function paperProtocolRecord(protocol: {
  election: string;
  region: string;
  district: string;
  precinct: string;
  version: number;
  issued: number;
  spoiled: number;
  results: readonly PaperResult[];
}): PaperProtocolRecord {
  return {
    v: RECORD_VERSION,
    election: protocol.election,
    region: protocol.region,
    district: protocol.district,
    precinct: protocol.precinct,
    version: protocol.version,
    issued: protocol.issued,
    spoiled: protocol.spoiled,
    results: protocol.results.map((r) => [r.race, r.candidate, String(r.votes)] as const),
  };
}

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
