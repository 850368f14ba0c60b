/**
 * Reads `ballots` in log order and keeps what reconcile compares with
 * ClickHouse: per election, the first-record winner of every ballotId
 * (first-record.ts) and, per region, the winners' counts.
 *
 *   LogReader (from the checkpoint, or where the election's records begin)
 *     │ batches in offset order, per partition
 *     ▼
 *   record mentions the election? ──no──► skipped unparsed (other elections share the topic)
 *     │ yes
 *   valid v1 ballot? ──no──► refused
 *     │ yes
 *   FirstRecordIndex.observe ─► first / displaces (a higher revision): counted in its region
 *                               duplicate / conflict: counts nothing
 *
 * The validity rule is the views' (migrations/001-initial.ts): `v` 1 and
 * non-empty election, region and ballotId. The running state
 * ({@link ElectionBallots}) is what the checkpoint saves
 * (reconcile-checkpoint.ts), so a later run reads only the new records.
 * `repair.ts` reads with the same LogReader.
 */
import {
  type LogReader,
  type PartitionBatch,
  type PartitionOffsets,
  partitionKey,
} from '../common/kafka/log-reader.js';
import { TOPICS } from '../common/records.js';
import { AggregatorError } from './errors.js';
import { FirstRecordIndex, type LogPosition } from './first-record.js';

/** What the log holds for one race in one region: winners that marked it, and their marks. */
export interface RaceCount {
  ballots: number;
  marks: number;
}

/** What the log holds for one region of one election, counting each ballotId's winner only. */
export interface RegionCount {
  ballots: number;
  readonly races: Map<string, RaceCount>;
}

/** The running state of one election's `ballots` records. */
export class ElectionBallots {
  readonly election: string;
  readonly index = new FirstRecordIndex();
  /** region → counts of winners. */
  readonly regions = new Map<string, RegionCount>();
  /** Valid ballot records read (duplicates and conflicts included). */
  records = 0;
  /** Records that mention the election but are not valid v1 ballots (ClickHouse drops them too). */
  refused = 0;
  /** `ballots/<partition>` → the next offset to read. */
  readonly offsets: PartitionOffsets = new Map();
  /** Winners that lost their place (to a higher revision, or an earlier record in another partition): their counts must go. */
  readonly displaced: LogPosition[] = [];

  constructor(election: string) {
    this.election = election;
  }

  /** BallotIds with more than one ballot in the log. */
  get conflicts(): number {
    return this.index.conflicted.size;
  }

  apply(record: ScannedBallot, partition: number, offset: number): void {
    this.records++;
    const seen = this.index.observe(record.ballotId, record.ballotHash, record.rev, partition, offset);
    if (seen === 'first') this.count(record, 1);
    else if (seen === 'displaces') {
      this.count(record, 1);
      this.displaced.push(this.index.displaced);
    }
  }

  /** Adds (`sign` 1) or takes back (`sign` -1) one winner's ballot in its region and races. */
  count(record: ScannedBallot, sign: 1 | -1): void {
    let region = this.regions.get(record.region);
    if (region === undefined) {
      region = { ballots: 0, races: new Map() };
      this.regions.set(record.region, region);
    }
    region.ballots += sign;
    const selections = Array.isArray(record.selections) ? record.selections : [];
    for (const row of selections) {
      if (!Array.isArray(row) || typeof row[0] !== 'string') continue;
      // The tally view explodes candidates with arrayJoin, so a race with no
      // candidate leaves no trace there; count it the same way here.
      const marks = row.length - 1;
      if (marks <= 0) continue;
      let race = region.races.get(row[0]);
      if (race === undefined) {
        race = { ballots: 0, marks: 0 };
        region.races.set(row[0], race);
      }
      race.ballots += sign;
      race.marks += sign * marks;
    }
  }
}

/**
 * One pass of a LogReader over `ballots`, feeding {@link ElectionBallots}:
 * the one election asked for, or every election on the topic (then nothing
 * is checkpointed).
 */
export class BallotScan {
  /** election → state; the one election when scoped. */
  readonly elections = new Map<string, ElectionBallots>();
  /** Records read by this scan, every election's and broken ones included. */
  scanned = 0;
  /** Unscoped: records that are not valid v1 ballots. (Scoped: see ElectionBallots.refused.) */
  refused = 0;
  /** `ballots/<partition>` → the next offset to read (scoped: the election's own, checkpointed). */
  readonly offsets: PartitionOffsets;
  readonly #scoped: ElectionBallots | null;
  /** `"<election>"` as bytes: a record without it cannot be the election's and is not parsed. */
  readonly #needle: Buffer | null;
  readonly #reader: LogReader;

  constructor(reader: LogReader, scoped: ElectionBallots | null) {
    this.#reader = reader;
    this.#scoped = scoped;
    this.#needle = scoped === null ? null : Buffer.from(JSON.stringify(scoped.election));
    this.offsets = scoped?.offsets ?? new Map();
    if (scoped !== null) this.elections.set(scoped.election, scoped);
  }

  /**
   * Reads every partition of `ends` from where this scan stands (or, for a
   * partition it never read, from `start`: where the election's records
   * begin) up to `ends`. Never below `lows`: records the log no longer holds
   * cannot be read (the count then misses them, and reconcile says so).
   */
  async scanTo(
    ends: PartitionOffsets,
    lows: PartitionOffsets,
    start: PartitionOffsets,
    timeoutMs: number,
  ): Promise<void> {
    const from: PartitionOffsets = new Map();
    for (const key of ends.keys()) {
      from.set(key, Math.max(this.offsets.get(key) ?? start.get(key) ?? 0, lows.get(key) ?? 0));
    }
    await this.#reader.readRange(from, ends, (batch) => this.#onBatch(batch), timeoutMs);
    for (const [key, end] of ends) this.offsets.set(key, Math.max(end, from.get(key) ?? 0));
  }

  #onBatch(batch: PartitionBatch): void {
    const scoped = this.#scoped;
    const needle = this.#needle;
    for (const { offset, value } of batch.records) {
      this.scanned++;
      if (needle !== null && (value === null || value.indexOf(needle) === -1)) continue;
      const record = parseBallot(value);
      if (record === null) {
        if (scoped !== null) scoped.refused++;
        else this.refused++;
        continue;
      }
      let state = scoped;
      if (state === null) {
        state = this.elections.get(record.election) ?? new ElectionBallots(record.election);
        this.elections.set(record.election, state);
      } else if (record.election !== state.election) continue;
      state.apply(record, batch.partition, offset);
    }
  }
}

/**
 * Takes back the counts of displaced winners (a re-vote that changed the
 * choices; without re-voting rare: a ballotId in two partitions), reading
 * each from the log again. `reader` may be the scan's
 * once its range is drained (readRange replaces the handler).
 */
export async function takeBackDisplaced(
  state: ElectionBallots,
  reader: LogReader,
  timeoutMs: number,
): Promise<void> {
  for (const at of state.displaced.splice(0)) {
    const key = partitionKey(TOPICS.ballots, at.partition);
    let found: ScannedBallot | null = null;
    await reader.readRange(
      new Map([[key, at.offset]]),
      new Map([[key, at.offset + 1]]),
      (batch) => {
        for (const r of batch.records) if (r.offset === at.offset) found = parseBallot(r.value);
      },
      timeoutMs,
    );
    if (found === null) {
      throw new AggregatorError(
        'kafka_failed',
        `ballots ${key}@${at.offset} is no longer a ballot in the log`,
      );
    }
    state.count(found, -1);
  }
}

/** Parses a `ballots` record; null when it is not JSON or not a valid v1 ballot. */
export function parseBallot(value: Buffer | null): ScannedBallot | null {
  if (value === null) return null;
  let record: unknown;
  try {
    record = JSON.parse(value.toString('utf8'));
  } catch {
    // Unparseable: ClickHouse skips it too (or is stuck on it; see README).
    return null;
  }
  if (!isBallot(record)) return null;
  // A missing hash reads as '' in ClickHouse, a missing or odd rev as 0 (revisions came later);
  // the same here, so both sides see the same ballots.
  const raw = record as unknown as Record<string, unknown>;
  const rev = Number.isSafeInteger(raw.rev) && (raw.rev as number) > 0 ? (raw.rev as number) : 0;
  const ballotHash = typeof record.ballotHash === 'string' ? record.ballotHash : '';
  return { ...record, ballotHash, rev };
}

export interface ScannedBallot {
  readonly v: number;
  readonly election: string;
  readonly region: string;
  readonly ballotId: string;
  readonly ballotHash: string;
  /** The ballot's revision (re-voting): the highest counts (first-record.ts). */
  readonly rev: number;
  readonly selections?: unknown;
}

function isBallot(value: unknown): value is ScannedBallot {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  return (
    r.v === 1 &&
    typeof r.election === 'string' &&
    r.election !== '' &&
    typeof r.region === 'string' &&
    r.region !== '' &&
    typeof r.ballotId === 'string' &&
    r.ballotId !== ''
  );
}
