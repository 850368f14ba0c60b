/**
 * What the ledger records and how a log record maps to its dedup key — the
 * one rule shared by the routes (before producing) and the follower (when it
 * applies the log to the Redis index), so both always name the same key.
 *
 *   ballots  record ─► cred:{<region>}:<election>:<ballotId>    hash = ballotHash[.<rev>] done = cast
 *   issuance record ─► voter:{<region>}:<election>:<voterHash>  hash = blindedHash   done = issued
 *   paper protocol  ─► protocol:{<region>}:<election>:<precinct>:v<version>
 *                                                       hash = protocolHash  done = reported
 *   paper dissent   ─► dissent:{<region>}:<election>:<id>     hash = id            done = noted
 *   report          ─► report:{<region>}:<election>:<tracking> hash = tracking     done = filed
 *
 * A ballot's revision (re-voting) is part of its dedup hash (`<ballotHash>.<rev>`,
 * rev 0 without the suffix, as before revisions existed): the key holds the
 * highest revision recorded, and a revision above it claims the key's
 * revision claim `<key>#<rev>` while it is written (scripts.ts BEGIN).
 *
 * So a precinct's protocol version is taken by the first protocol in the log
 * (a different one is `protocol_version_taken`, a resend is `repeated`), and
 * both kinds reach `paper` with acks=all and are read back like any ledger write.
 *
 * Keys are hash-tagged by region (`{KZ-75}`): in Redis Cluster a region's
 * keys, its roll and its index marker share a slot, so each ledger script
 * touches one node.
 */
import {
  type BallotRecord,
  type IssuanceRecord,
  PAPER_KINDS,
  type PaperDissentRecord,
  type PaperProtocol,
  type PaperProtocolRecord,
  protocolHash,
  REPORT_KINDS,
  type ReportRecord,
  TOPICS,
  type TopicName,
} from '../../common/records.js';

export type DoneMark = 'cast' | 'issued' | 'reported' | 'noted' | 'filed';

/** One record the ledger writes: where it goes and the key it claims. */
export interface LedgerEntry {
  readonly topic: TopicName;
  readonly partition: number;
  /** The record, serialised once (JSON). */
  readonly value: string;
  /** Kafka record timestamp (the record's bucket), ms. */
  readonly timestampMs: number;
  readonly region: string;
  /** The mix group whose batch the record waits for (ballots: their district, mix.ts); null: written as it comes. */
  readonly mix: string | null;
  /** The dedup key this record claims. */
  readonly key: string;
  /** The hash that tells an identical retry from a different record under the same key. */
  readonly hash: string;
  readonly done: DoneMark;
  /** A ballot's revision (re-voting); absent or 0 for the first ballot and every other kind. */
  readonly rev?: number;
}

export function voterKey(region: string, election: string, voterHash: string): string {
  return `voter:{${region}}:${election}:${voterHash}`;
}

export function credKey(region: string, election: string, ballotId: string): string {
  return `cred:{${region}}:${election}:${ballotId}`;
}

export function protocolKey(region: string, election: string, precinct: string, version: number): string {
  return `protocol:{${region}}:${election}:${precinct}:v${version}`;
}

export function dissentKey(region: string, election: string, id: string): string {
  return `dissent:{${region}}:${election}:${id}`;
}

/** A tracking number is taken by the first report in the log that drew it. */
export function reportKey(region: string, election: string, tracking: string): string {
  return `report:{${region}}:${election}:${tracking}`;
}

/**
 * `ledger:{<region>}:<election>` exists while the region's index is complete
 * (every record of the region up to the follower's position is applied).
 * Redis losing data loses it too, so a flushed or restarted Redis refuses
 * ledger writes until the follower has rebuilt the region from Kafka.
 */
export function indexMarkerKey(region: string, election: string): string {
  return `ledger:{${region}}:${election}`;
}

/**
 * `ledger-rebuild:{<region>}:<election>`: the ids of the region's rebuilds
 * under way (a set). In the marker's slot, so the loss that takes the marker
 * takes these too: a rebuild whose id is gone lost data again and starts over.
 */
export function rebuildsKey(region: string, election: string): string {
  return `ledger-rebuild:{${region}}:${election}`;
}

/** `ledger-log:{<election>}`: the follower's applied position per `topic/partition`. */
export function positionsKey(election: string): string {
  return `ledger-log:{${election}}`;
}

/**
 * A ballot's dedup hash: its ballotHash (a function of its content), and its
 * revision when above 0. Two records of one credential are the same record
 * only with the same content at the same revision.
 */
export function ballotDedupHash(ballotHash: string, rev: number): string {
  return rev > 0 ? `${ballotHash}.${rev}` : ballotHash;
}

/**
 * Where a write claims its key while it is produced: the key itself, or for
 * a ballot revision above 0 `<key>#<rev>` (same slot), so the key keeps the
 * recorded revision's done mark until the follower replaces it.
 */
export function claimKeyOf(entry: Pick<LedgerEntry, 'key' | 'rev'>): string {
  return entry.rev !== undefined && entry.rev > 0 ? `${entry.key}#${entry.rev}` : entry.key;
}

/** A ballot as the ledger writes it: to its region's partition chosen by ballotId. */
export function ballotEntry(record: BallotRecord, partitions: readonly number[]): LedgerEntry {
  return {
    topic: TOPICS.ballots,
    partition: pickPartition(partitions, record.ballotId),
    value: JSON.stringify(record),
    timestampMs: record.bucket * 1000,
    region: record.region,
    mix: record.district,
    key: credKey(record.region, record.election, record.ballotId),
    hash: ballotDedupHash(record.ballotHash, record.rev),
    done: 'cast',
    rev: record.rev,
  };
}

/** An issuance as the ledger writes it: to its region's partition chosen by voterHash. */
export function issuanceEntry(record: IssuanceRecord, partitions: readonly number[]): LedgerEntry {
  return {
    topic: TOPICS.issuance,
    partition: pickPartition(partitions, record.voterHash),
    value: JSON.stringify(record),
    timestampMs: record.bucket * 1000,
    region: record.region,
    // Issuance order is not secret (the roll's turnout per minute is published): not mixed.
    mix: null,
    key: voterKey(record.region, record.election, record.voterHash),
    hash: record.blindedHash,
    done: 'issued',
  };
}

/** A precinct protocol as the ledger writes it: to its region's partition chosen by precinct. */
export function protocolEntry(record: PaperProtocolRecord, partitions: readonly number[]): LedgerEntry {
  return {
    topic: TOPICS.paper,
    partition: pickPartition(partitions, record.precinct),
    value: JSON.stringify(record),
    timestampMs: record.at,
    region: record.region,
    mix: null,
    key: protocolKey(record.region, record.election, record.precinct, record.version),
    hash: protocolHash(record),
    done: 'reported',
  };
}

/** An observer's dissent, to the partition of the protocol it is about. */
export function dissentEntry(record: PaperDissentRecord, partitions: readonly number[]): LedgerEntry {
  return {
    topic: TOPICS.paper,
    partition: pickPartition(partitions, record.precinct),
    value: JSON.stringify(record),
    timestampMs: record.at,
    region: record.region,
    mix: null,
    key: dissentKey(record.region, record.election, record.id),
    hash: record.id,
    done: 'noted',
  };
}

/**
 * A violation report, to its region's partition chosen by its tracking
 * number (the committee's triage of it goes to the same one), written as it
 * comes: its time is already coarse (the cast bucket), and not mixed.
 */
export function reportEntry(record: ReportRecord, partitions: readonly number[]): LedgerEntry {
  return {
    topic: TOPICS.reports,
    partition: pickPartition(partitions, record.id),
    value: JSON.stringify(record),
    timestampMs: record.bucket * 1000,
    region: record.region,
    mix: null,
    key: reportKey(record.region, record.election, record.id),
    hash: record.id,
    done: 'filed',
  };
}

/**
 * The region's partition for a record: explicit (DESIGN §4), and the same for
 * every record of one key, so "first in the partition's log" is one order.
 * A region's partition set must therefore not change during an election.
 */
export function pickPartition(partitions: readonly number[], spreadKey: string): number {
  if (partitions.length === 1) return partitions[0]!;
  let h = 0;
  for (let i = 0; i < 8 && i < spreadKey.length; i++) h = (h * 31 + spreadKey.charCodeAt(i)) >>> 0;
  return partitions[h % partitions.length]!;
}

/** The done value a record leaves in the index. */
export function doneValue(done: DoneMark, hash: string): string {
  return `${done}:${hash}`;
}

/** The part of a log record the follower needs. */
export interface IndexedRecord {
  readonly region: string;
  readonly key: string;
  readonly hash: string;
  readonly done: DoneMark;
  /** A ballot's revision (absent: 0, and for every other kind). */
  readonly rev?: number;
}

/**
 * Parses a `ballots`, `issuance`, `paper` or `reports` record of `election` into its index entry;
 * null for other elections, other versions and records without their key
 * fields (those never claim a key).
 */
export function indexedRecordOf(topic: string, election: string, value: Buffer | null): IndexedRecord | null {
  if (value === null) return null;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (record === null || typeof record !== 'object' || record.v !== 1 || record.election !== election) {
    return null;
  }
  const region = record.region;
  if (typeof region !== 'string' || region === '') return null;
  if (topic === TOPICS.ballots) {
    const { ballotId, ballotHash } = record;
    if (typeof ballotId !== 'string' || ballotId === '' || typeof ballotHash !== 'string') return null;
    // A record without a valid rev is the first ballot (revisions came later; ClickHouse reads it as 0).
    const rev = Number.isSafeInteger(record.rev) && (record.rev as number) > 0 ? (record.rev as number) : 0;
    const hash = ballotDedupHash(ballotHash, rev);
    return { region, key: credKey(region, election, ballotId), hash, done: 'cast', rev };
  }
  if (topic === TOPICS.issuance) {
    const { voterHash, blindedHash } = record;
    if (typeof voterHash !== 'string' || voterHash === '') return null;
    // A record without the blinded hash (written before it was recorded) still bars a second
    // credential: its empty hash matches no request, so every new one is a conflict.
    const hash = typeof blindedHash === 'string' ? blindedHash : '';
    return { region, key: voterKey(region, election, voterHash), hash, done: 'issued' };
  }
  if (topic === TOPICS.paper) return indexedPaperRecord(record, region, election);
  if (topic === TOPICS.reports) {
    // Triage records claim nothing in ingest's index: the admin service writes them.
    const { kind, id } = record;
    if (kind !== REPORT_KINDS.report || typeof id !== 'string' || id === '') return null;
    return { region, key: reportKey(region, election, id), hash: id, done: 'filed' };
  }
  return null;
}

/** A paper record's index entry; records without a kind (written before there were kinds) claim nothing. */
function indexedPaperRecord(
  record: Record<string, unknown>,
  region: string,
  election: string,
): IndexedRecord | null {
  const { kind, precinct, version, id } = record;
  if (kind === PAPER_KINDS.protocol) {
    if (typeof precinct !== 'string' || precinct === '' || !Number.isSafeInteger(version)) return null;
    let hash: string;
    try {
      hash = protocolHash(record as unknown as PaperProtocol);
    } catch {
      return null; // no canonical form: no ingest wrote it, and it can match no request
    }
    return {
      region,
      key: protocolKey(region, election, precinct, version as number),
      hash,
      done: 'reported',
    };
  }
  if (kind === PAPER_KINDS.dissent) {
    if (typeof id !== 'string' || id === '') return null;
    return { region, key: dissentKey(region, election, id), hash: id, done: 'noted' };
  }
  return null;
}
