/**
 * The ledger follower: reads the election's `ballots` and `issuance`
 * partitions in log order and applies every record to the Redis index
 * (APPLY: the first record for a key wins), so the index says what the log
 * says. It is also how an acknowledgement is confirmed — a produce counts
 * only once the follower has found that very record at its acknowledged
 * offset — and how Redis is rebuilt after it lost data.
 *
 *   Kafka ballots/issuance ──LogReader──► parse ─► APPLY (pipelined, log order)
 *                                                   ├─► verdicts for waiting writes (topic/partition@offset)
 *                                                   └─► position per partition (ledger-log:{election})
 *
 *   every 500 ms: a region's marker missing (Redis flushed, restarted empty,
 *   a node lost) ─► reload the roll if gone ─► rewind the region's partitions
 *   to where the election's records begin ─► apply up to the end offsets of
 *   that moment ─► set the marker: writes resume.
 *
 * While a region has no marker, BEGIN refuses writes there (`rebuilding`),
 * and APPLY's verdicts are not trusted (earlier records may be missing).
 */
import { randomUUID } from 'node:crypto';
import type { LogReader, PartitionBatch, PartitionOffsets } from '../../common/kafka/log-reader.js';
import { partitionKey, splitPartitionKey } from '../../common/kafka/log-reader.js';
import type { Logger } from '../../common/log.js';
import { TOPICS } from '../../common/records.js';
import type { ElectionIndex } from '../../election/index.js';
import { type IndexedRecord, indexedRecordOf } from './entries.js';
import type { ApplyVerdict, IndexedVerdict, IndexStore } from './index-store.js';

/** What the follower can say about an acknowledged offset. */
export type Confirmation =
  /** The record at the offset is the one expected; the verdict of applying it. */
  | ApplyVerdict
  /** The offset holds another record, or none of this election: the ack was wrong. */
  | 'absent'
  /** The record is there but the region's index was being rebuilt: no verdict yet. */
  | 'unconfirmed'
  /** The follower did not reach the offset in time. */
  | 'timeout';

export const LEDGER_TOPICS = [TOPICS.ballots, TOPICS.issuance] as const;

export interface FollowerOptions {
  readonly reader: LogReader;
  readonly index: IndexStore;
  readonly election: ElectionIndex;
  /** Where the election's records begin, per `topic/partition` (missing: 0). */
  readonly logStart: PartitionOffsets;
  /** Reloads the roll into Redis if it is missing (the roll's own record). */
  readonly restoreRoll: () => Promise<void>;
  readonly log: Logger;
  /** A region's index was rebuilt after Redis lost it while running (not the build at start). */
  readonly onRebuilt?: (region: string, seconds: number) => void;
}

interface Waiter {
  readonly key: string;
  readonly hash: string;
  readonly deadline: number;
  readonly resolve: (c: Confirmation) => void;
}

interface Applied {
  readonly key: string;
  readonly hash: string;
  readonly verdict: IndexedVerdict;
}

interface Rebuild {
  readonly id: string;
  readonly started: number;
  /** Found incomplete when the follower started (a new election, or Redis emptied while ingest was down). */
  readonly atStart: boolean;
  /** `topic/partition` → the end offset to reach before the region counts as complete. */
  readonly targets: Map<string, number>;
}

const WATCH_MS = 500;
/** Verdicts are kept this long (two generations) for acks that arrive after the follower read the record. */
const RECENT_MS = 10_000;

export class LedgerFollower {
  readonly #o: FollowerOptions;
  readonly #regions: readonly string[];
  /** `topic/partition` → region (partitions belong to one region each). */
  readonly #regionOf = new Map<string, string>();
  readonly #needle: Buffer;
  /** `topic/partition@offset` → waiting write. */
  readonly #waiters = new Map<string, Waiter>();
  #recent = new Map<string, Applied>();
  #older = new Map<string, Applied>();
  readonly #rebuilds = new Map<string, Rebuild>();
  readonly #dirty = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #expiry: NodeJS.Timeout | null = null;
  #rotated = Date.now();
  #watching = false;
  #closed = false;
  /** The last housekeeping failure logged (Redis down fails every round: log it once). */
  #lastFailure = '';

  constructor(options: FollowerOptions) {
    this.#o = options;
    this.#regions = options.election.config.regions.map((r) => r.code);
    for (const region of this.#regions) {
      for (const partition of options.election.partitionsFor(region)) {
        for (const topic of LEDGER_TOPICS) this.#regionOf.set(partitionKey(topic, partition), region);
      }
    }
    this.#needle = Buffer.from(`"election":${JSON.stringify(options.election.id)}`);
  }

  /** Regions whose index is being rebuilt (empty when every region is complete). */
  get rebuilding(): readonly string[] {
    return [...this.#rebuilds.keys()];
  }

  /** Resumes from the stored positions, rebuilds what is missing, and starts following. */
  async start(): Promise<void> {
    const stored = await this.#o.index.positions();
    const missing = new Set(await this.#o.index.incomplete(this.#regions));
    for (const [tp, region] of this.#regionOf) {
      if (missing.has(region)) continue;
      const [topic, partition] = splitPartitionKey(tp);
      this.#o.reader.seek(topic, partition, stored.get(tp) ?? this.#o.logStart.get(tp) ?? 0);
    }
    if (missing.size > 0) await this.#rebuild([...missing], true);
    this.#o.reader.start((batch) => this.#onBatch(batch));
    this.#timer = setInterval(() => void this.#watch(), WATCH_MS);
    this.#timer.unref();
    // Apart from housekeeping, which can take seconds (a roll restore): deadlines are kept regardless.
    this.#expiry = setInterval(() => this.#expireWaiters(), WATCH_MS);
    this.#expiry.unref();
  }

  /**
   * Resolves with what the log holds at `topic/partition@offset`, compared
   * with the record the caller wrote (`key`, `hash`), or `timeout` at `deadline`.
   */
  confirm(topic: string, partition: number, offset: number, key: string, hash: string, deadline: number) {
    const at = `${partitionKey(topic, partition)}@${offset}`;
    const seen = this.#recent.get(at) ?? this.#older.get(at);
    if (seen !== undefined) return Promise.resolve(judge(seen, key, hash));
    const position = this.#o.reader.position(topic, partition);
    if (position !== null && position > offset) return Promise.resolve<Confirmation>('absent');
    return new Promise<Confirmation>((resolve) => {
      this.#waiters.set(at, { key, hash, deadline, resolve });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#expiry !== null) clearInterval(this.#expiry);
    for (const waiter of this.#waiters.values()) waiter.resolve('timeout');
    this.#waiters.clear();
    await this.#o.reader.close();
    await this.#flushPositions();
  }

  async #onBatch(batch: PartitionBatch): Promise<void> {
    const tp = partitionKey(batch.topic, batch.partition);
    const records: IndexedRecord[] = [];
    const offsets: number[] = [];
    for (const record of batch.records) {
      if (record.value === null || record.value.indexOf(this.#needle) === -1) continue;
      const indexed = indexedRecordOf(batch.topic, this.#o.election.id, record.value);
      if (indexed === null) continue;
      records.push(indexed);
      offsets.push(record.offset);
    }
    const verdicts = records.length > 0 ? await this.#applyUntilDone(records) : [];
    for (let i = 0; i < records.length; i++) {
      const at = `${tp}@${offsets[i]}`;
      const applied: Applied = { key: records[i]!.key, hash: records[i]!.hash, verdict: verdicts[i]! };
      this.#recent.set(at, applied);
      const waiter = this.#waiters.get(at);
      if (waiter !== undefined) {
        this.#waiters.delete(at);
        waiter.resolve(judge(applied, waiter.key, waiter.hash));
      }
    }
    const next = batch.records[batch.records.length - 1]!.offset + 1;
    // Waiters on offsets this batch passed without a record of ours: the ack was wrong.
    if (this.#waiters.size > 0) {
      const prefix = `${tp}@`;
      for (const [at, waiter] of this.#waiters) {
        if (at.startsWith(prefix) && Number(at.slice(prefix.length)) < next) {
          this.#waiters.delete(at);
          waiter.resolve('absent');
        }
      }
    }
    this.#dirty.set(tp, next);
  }

  /**
   * APPLY must not skip a record, and the reader stops on a handler error:
   * while Redis is unreachable, retry (holding back this broker's fetches).
   * Redis back empty is noticed by the watch, which rewinds for a rebuild.
   */
  async #applyUntilDone(records: readonly IndexedRecord[]): Promise<IndexedVerdict[]> {
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
      try {
        return await this.#o.index.apply(records);
      } catch (error) {
        if (this.#closed) throw error;
        this.#logFailure(error, 'ledger follower: applying records failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  #expireWaiters(): void {
    const now = Date.now();
    for (const [at, waiter] of this.#waiters) {
      if (waiter.deadline <= now) {
        this.#waiters.delete(at);
        waiter.resolve('timeout');
      }
    }
  }

  #logFailure(error: unknown, message: string): void {
    const text = error instanceof Error ? error.message : String(error);
    if (text === this.#lastFailure) return;
    this.#lastFailure = text;
    this.#o.log.warn({ err: error, code: 'SAYLAU_ERR_LEDGER_FOLLOW' }, message);
  }

  /** Every 500 ms: store positions, rotate verdicts, watch markers, finish rebuilds. */
  async #watch(): Promise<void> {
    if (this.#watching || this.#closed) return;
    this.#watching = true;
    try {
      const now = Date.now();
      if (now - this.#rotated >= RECENT_MS) {
        this.#older = this.#recent;
        this.#recent = new Map();
        this.#rotated = now;
      }
      await this.#flushPositions();
      const missing = (await this.#o.index.incomplete(this.#regions)).filter((r) => !this.#rebuilds.has(r));
      if (missing.length > 0) await this.#rebuild(missing, false);
      await this.#finishRebuilds();
      this.#lastFailure = '';
    } catch (error) {
      this.#logFailure(error, 'ledger follower: housekeeping failed; retrying');
    } finally {
      this.#watching = false;
    }
  }

  async #flushPositions(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const positions = new Map(this.#dirty);
    this.#dirty.clear();
    // A rewound partition must not have its old position written back over the rewind.
    for (const [tp] of positions) if (this.#rebuilds.has(this.#regionOf.get(tp) ?? '')) positions.delete(tp);
    await this.#o.index.storePositions(positions);
  }

  /** Rewinds the regions' partitions to the election's first record and sets targets to today's ends. */
  async #rebuild(regions: readonly string[], atStart: boolean): Promise<void> {
    if (atStart) this.#o.log.info({ regions }, 'ledger index not in Redis: building it from Kafka');
    else {
      this.#o.log.warn(
        { regions, code: 'SAYLAU_ERR_INDEX_LOST' },
        'Redis lost the ledger index: rebuilding it from Kafka',
      );
    }
    const id = randomUUID();
    const started = performance.now();
    for (const region of regions) this.#rebuilds.set(region, { id, started, atStart, targets: new Map() });
    await this.#o.restoreRoll();
    const ends = await this.#o.reader.endOffsets(LEDGER_TOPICS);
    for (const [tp, region] of this.#regionOf) {
      const rebuild = this.#rebuilds.get(region);
      if (rebuild === undefined || rebuild.id !== id) continue;
      const [topic, partition] = splitPartitionKey(tp);
      const from = this.#o.logStart.get(tp) ?? 0;
      rebuild.targets.set(tp, ends.get(tp) ?? 0);
      this.#dirty.delete(tp);
      this.#o.reader.seek(topic, partition, from);
    }
  }

  async #finishRebuilds(): Promise<void> {
    for (const [region, rebuild] of this.#rebuilds) {
      let done = true;
      for (const [tp, target] of rebuild.targets) {
        const [topic, partition] = splitPartitionKey(tp);
        if ((this.#o.reader.position(topic, partition) ?? 0) < target) done = false;
      }
      if (!done) continue;
      const positions = new Map<string, number>();
      for (const tp of rebuild.targets.keys()) {
        const [topic, partition] = splitPartitionKey(tp);
        positions.set(tp, this.#o.reader.position(topic, partition) ?? 0);
      }
      await this.#o.index.storePositions(positions);
      await this.#o.index.markComplete(region, rebuild.id);
      this.#rebuilds.delete(region);
      const seconds = (performance.now() - rebuild.started) / 1000;
      if (!rebuild.atStart) this.#o.onRebuilt?.(region, seconds);
      this.#o.log.info({ region, seconds, atStart: rebuild.atStart }, 'ledger index rebuilt');
    }
  }
}

function judge(applied: Applied, key: string, hash: string): Confirmation {
  if (applied.key !== key || applied.hash !== hash) return 'absent';
  return applied.verdict ?? 'unconfirmed';
}
