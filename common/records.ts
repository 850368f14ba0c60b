/**
 * The record formats written to Kafka, the system of record (DESIGN §4).
 * Everything downstream (ClickHouse, Redis rebuild, reconcile) reads these.
 *
 * JSON, one object per record, chosen so that ClickHouse 18.16's Kafka
 * engine can read it with JSONEachRow without per-field settings:
 *
 *   ballots   {v, election, region, district, ballotId, ballotHash, rev, bucket, selections}
 *             selections = [[race, candidate, candidate…], …]  (race first, then the choices;
 *             positional so ClickHouse reads it as Array(Array(String)))
 *   issuance  {v, election, region, district, voterHash, blindedHash, channel, bucket}
 *
 * `bucket` is the arrival time truncated to the minute, in Unix seconds; the
 * record's Kafka timestamp is set to the same minute. No record carries a
 * precise time, an address, a user agent or (in `ballots`) anything that
 * identifies a voter.
 */

export const TOPICS = {
  ballots: 'ballots',
  issuance: 'issuance',
  paper: 'paper',
  electionEvents: 'election-events',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];
export const ALL_TOPICS: readonly TopicName[] = Object.values(TOPICS);

/** Record format version; a reader refuses versions it does not know. */
export const RECORD_VERSION = 1;

/** One race's marks: the race id, then the chosen candidate ids. */
export type SelectionRow = readonly [race: string, ...candidates: string[]];

export interface BallotRecord {
  readonly v: typeof RECORD_VERSION;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  /** base32(SHA-256(credential message))[0..26]: the receipt; deterministic per credential. */
  readonly ballotId: string;
  /** SHA-256 (hex) of the canonical ballot, to tell an identical retry from a different ballot. */
  readonly ballotHash: string;
  /** Revision for planned re-voting; always 0 until then (DESIGN §3). */
  readonly rev: number;
  /** Arrival minute, Unix seconds. */
  readonly bucket: number;
  readonly selections: readonly SelectionRow[];
}

export type IssuanceChannel = 'online' | 'paper';

export interface IssuanceRecord {
  readonly v: typeof RECORD_VERSION;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  /** HMAC-SHA256(election pepper, member id), hex. Never appears in `ballots`. */
  readonly voterHash: string;
  /**
   * SHA-256 (hex) of the blinded message the credential was signed over: tells
   * an identical retry (same credential) from a second credential when the
   * ledger's index is rebuilt. Unlinkable to the ballot: the blinding factor
   * never leaves the voter's device (RFC 9474 §5).
   */
  readonly blindedHash: string;
  readonly channel: IssuanceChannel;
  readonly bucket: number;
}

/** Truncates a time to its minute bucket (Unix seconds). */
export function minuteBucket(nowMs: number): number {
  return Math.floor(nowMs / 60_000) * 60;
}
