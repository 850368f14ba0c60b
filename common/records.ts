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
 *   issuance  {v, election, region, district, voterHash, blindedHash, channel, bucket, precinct?}
 *             channel online: a credential was issued; channel paper: an official checked
 *             the member in at `precinct` (a special polling station) and handed a paper ballot
 *
 * `bucket` is the arrival time truncated, in Unix seconds: to the minute for
 * issuance (the live turnout feed), to the election's coarse cast bucket for
 * ballots (`castBucketSec`, 30 min unless configured), so that a ballot's
 * time says no more than "one of its district's ballots of this half hour".
 * The record's Kafka timestamp is set to the same bucket. No record carries
 * a precise time, an address, a user agent or (in `ballots`) anything that
 * identifies a voter; and the ballots' log order is not arrival order
 * (ingest/ledger/mix.ts).
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
  /** Arrival time truncated to the election's cast bucket, Unix seconds. */
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
   * Online: SHA-256 (hex) of the blinded message the credential was signed
   * over: tells an identical retry (same credential) from a second credential
   * when the ledger's index is rebuilt. Unlinkable to the ballot: the blinding
   * factor never leaves the voter's device (RFC 9474 §5). Paper: `paper:<precinct>`
   * ({@link paperCheckInHash}), so a repeated check-in at the same station is a
   * retry and any other is a second issuance.
   */
  readonly blindedHash: string;
  readonly channel: IssuanceChannel;
  /** Arrival minute, Unix seconds. */
  readonly bucket: number;
  /** Paper only: the polling station (`paperPrecincts[].id`) that checked the member in. */
  readonly precinct?: string;
}

/** The dedup hash of a paper check-in at `precinct`: never a hex digest, so never an online one. */
export function paperCheckInHash(precinct: string): string {
  return `paper:${precinct}`;
}

/** Whether an issuance's dedup hash is a paper check-in's (the channel of the member's first issuance). */
export function isPaperCheckInHash(hash: string): boolean {
  return hash.startsWith('paper:');
}

/** Truncates a time to its minute bucket (Unix seconds). */
export function minuteBucket(nowMs: number): number {
  return Math.floor(nowMs / 60_000) * 60;
}

/**
 * The default width of a ballot's time bucket: at the 2020 primary's peak
 * (~9 ballots per district-minute) a district's half hour holds ~270
 * ballots, ~90 at the average rate; and results are published every 30 min.
 */
export const DEFAULT_CAST_BUCKET_SEC = 1800;

/** Truncates a time to its cast bucket of `widthSec` seconds (Unix seconds). */
export function castBucket(nowMs: number, widthSec: number): number {
  return Math.floor(nowMs / (widthSec * 1000)) * widthSec;
}
