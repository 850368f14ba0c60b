/**
 * Reads the `ballots` topic from the beginning with a Kafka client and counts
 * what was acknowledged, de-duplicated by ballotId, for `reconcile`.
 *
 * Memory: one Set of ballot ids per (election, region) and a few counters;
 * records are parsed and dropped as they stream past. The validity rule is
 * the views' (migrations/001-initial.ts): `v` 1 and non-empty election,
 * region and ballotId; anything else is counted as refused, not as a ballot.
 *
 * The scan uses a throwaway consumer group (deleted on close) and can be
 * resumed: `scanTo` a later set of end offsets continues where it stopped.
 * `repair.ts` reads with the same {@link TopicReader}.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { AggregatorError } from './errors.js';
import type { EndOffsets } from './lag.js';

/** What Kafka holds for one region of one election. */
export interface RegionCount {
  readonly ids: Set<string>;
  /** race → ballots that marked it (first delivery of each ballotId only). */
  readonly raceBallots: Map<string, number>;
  /** race → marks (candidates chosen) on those ballots. */
  readonly raceMarks: Map<string, number>;
}

/**
 * Reads one topic from its start with a throwaway consumer group (no
 * commits; deleted on close), handing every record to `onRecord` (awaited,
 * so a slow handler holds the reader back). Resumable: `scanTo` a later set
 * of end offsets continues where it stopped.
 */
export class TopicReader {
  readonly #kafka: Kafka;
  readonly #topic: string;
  readonly #onRecord: (value: Buffer | null) => void | Promise<void>;
  readonly #log: Logger;
  readonly #group = `saylau-scan-${randomUUID()}`;
  readonly #next = new Map<number, number>();
  #consumer: Consumer | null = null;
  #failure: unknown = null;

  constructor(
    kafka: Kafka,
    topic: string,
    onRecord: (value: Buffer | null) => void | Promise<void>,
    log: Logger,
  ) {
    this.#kafka = kafka;
    this.#topic = topic;
    this.#onRecord = onRecord;
    this.#log = log;
  }

  /** Reads until every partition of the topic has reached its offset in `ends`. */
  async scanTo(ends: EndOffsets, lows: EndOffsets, timeoutMs: number): Promise<void> {
    const prefix = `${this.#topic}/`;
    const wanted = [...ends.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, end]) => ({ partition: Number(key.slice(prefix.length)), end, key }))
      .filter(({ end, key }) => end > (lows.get(key) ?? 0));
    if (wanted.length === 0) return;
    await this.#start();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#failure !== null) {
        throw new AggregatorError('kafka_failed', `reading ${this.#topic}: ${String(this.#failure)}`, {
          cause: this.#failure,
        });
      }
      if (wanted.every(({ partition, end }) => (this.#next.get(partition) ?? 0) >= end)) return;
      if (Date.now() > deadline) {
        throw new AggregatorError(
          'kafka_failed',
          `reading ${this.#topic} did not reach the end offsets in time`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #start(): Promise<void> {
    if (this.#consumer !== null) return;
    // Large fetches: the scan is throughput-bound, and kafkajs's 1 MiB per
    // partition default means many small round trips over a 500k-record topic.
    const consumer = this.#kafka.consumer({
      groupId: this.#group,
      maxBytes: 64 << 20,
      maxBytesPerPartition: 8 << 20,
      // The group is ours alone; do not wait for other members to join.
      rebalanceTimeout: 10_000,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      this.#failure = event.payload.error;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.#topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) await this.#onRecord(message.value);
        const last = batch.messages.at(-1);
        if (last !== undefined) this.#next.set(batch.partition, Number(last.offset) + 1);
      },
    });
  }

  async close(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = null;
    if (consumer === null) return;
    await consumer.disconnect();
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.#group]);
    } catch (error) {
      // The group holds no offsets (autoCommit off) and expires by itself.
      this.#log.debug({ err: error, group: this.#group }, 'could not delete the scan group');
    } finally {
      await admin.disconnect();
    }
  }
}

/** Counts what `ballots` acknowledged, per election and region, for `reconcile`. */
export class BallotScan {
  /** election → region → counts. */
  readonly elections = new Map<string, Map<string, RegionCount>>();
  /** Records that are not valid v1 ballots. */
  refused = 0;
  /** Records read, duplicates and refused ones included. */
  scanned = 0;

  readonly #election: string | null;
  /** `"<election>"` as bytes: records without it cannot be the election's, and are not parsed. */
  readonly #needle: Buffer | null;
  readonly #reader: TopicReader;

  constructor(kafka: Kafka, election: string | null, log: Logger) {
    this.#election = election;
    this.#needle = election === null ? null : Buffer.from(JSON.stringify(election));
    this.#reader = new TopicReader(kafka, TOPICS.ballots, (value) => this.#count(value), log);
  }

  scanTo(ends: EndOffsets, lows: EndOffsets, timeoutMs: number): Promise<void> {
    return this.#reader.scanTo(ends, lows, timeoutMs);
  }

  #count(value: Buffer | null): void {
    this.scanned++;
    // With one election asked for, `refused` counts only the records that mention it.
    if (this.#needle !== null && value !== null && value.indexOf(this.#needle) === -1) return;
    const record = parseBallot(value);
    if (record === null) {
      this.refused++;
      return;
    }
    if (this.#election !== null && record.election !== this.#election) return;
    let regions = this.elections.get(record.election);
    if (regions === undefined) {
      regions = new Map();
      this.elections.set(record.election, regions);
    }
    let count = regions.get(record.region);
    if (count === undefined) {
      count = { ids: new Set(), raceBallots: new Map(), raceMarks: new Map() };
      regions.set(record.region, count);
    }
    if (count.ids.has(record.ballotId)) return;
    count.ids.add(record.ballotId);
    const selections = Array.isArray(record.selections) ? record.selections : [];
    for (const row of selections) {
      if (!Array.isArray(row) || typeof row[0] !== 'string') continue;
      // The tally view explodes candidates with arrayJoin, so a race with no
      // candidate leaves no trace there; count it the same way here.
      const marks = row.length - 1;
      if (marks <= 0) continue;
      count.raceBallots.set(row[0], (count.raceBallots.get(row[0]) ?? 0) + 1);
      count.raceMarks.set(row[0], (count.raceMarks.get(row[0]) ?? 0) + marks);
    }
  }

  close(): Promise<void> {
    return this.#reader.close();
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
  return isBallot(record) ? record : null;
}

export interface ScannedBallot {
  readonly v: number;
  readonly election: string;
  readonly region: string;
  readonly ballotId: string;
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
