/**
 * The ledger follower: reads the election's `ballots`, `issuance` and `paper`
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
 *   a node lost) ─► reload the roll if gone (again every 500 ms while the region
 *   is lost or rebuilding, and once more before it is marked) ─► end offsets of that moment,
 *   log-start checked against the log ─► list a rebuild id in Redis ─► rewind
 *   the region's partitions to where the election's records begin ─► apply up
 *   to the end offsets ─► set the marker if the id is still listed (else Redis
 *   lost data again: start over) ─► writes resume.
 *
 * While a region has no marker, BEGIN refuses writes there (`rebuilding`),
 * APPLY writes only for a listed rebuild (so a reader not yet rewound leaves
 * nothing behind), and its verdicts are not trusted (earlier records may be
 * missing).
 */
import { randomUUID } from 'node:crypto';
import type { LogReader, PartitionBatch, PartitionOffsets } from '../../common/kafka/log-reader.js';
import { partitionKey, splitPartitionKey } from '../../common/kafka/log-reader.js';
import { type Logger, loggableError } from '../../common/log.js';
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

/** `paper` too: protocol versions and dissents are ledger keys (entries.ts); and reports' tracking numbers. */
export const LEDGER_TOPICS = [TOPICS.ballots, TOPICS.issuance, TOPICS.paper, TOPICS.reports] as const;

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
  /** Every `topic/partition` of the region → the end offset to reach before it counts as complete. */
  readonly targets: ReadonlyMap<string, number>;
}

const WATCH_MS = 500;
/** Verdicts are kept this long (two generations) for acks that arrive after the follower read the record. */
const RECENT_MS = 10_000;
/**
 * A generation holds at most this many verdicts (rotated early past it), so
 * a burst cannot grow the cache without bound; only records new to this
 * follower are kept, and an ack arrives within milliseconds of its record.
 */
const RECENT_MAX = 50_000;

export class LedgerFollower {
  readonly #o: FollowerOptions;
  readonly #regions: readonly string[];
  /** `topic/partition` → region (partitions belong to one region each). */
  readonly #regionOf = new Map<string, string>();
  /** region → its `topic/partition`s. */
  readonly #partitionsOf = new Map<string, string[]>();
  readonly #needle: Buffer;
  /** `topic/partition@offset` → waiting write. */
  readonly #waiters = new Map<string, Waiter>();
  #recent = new Map<string, Applied>();
  #older = new Map<string, Applied>();
  /**
   * `topic/partition` → the first offset this follower has not read yet (at
   * least the end when it started): only records from there on can be awaited
   * by a write of this process, so only their verdicts are kept. A rebuild's
   * replay stays below it.
   */
  #frontier: PartitionOffsets = new Map();
  readonly #rebuilds = new Map<string, Rebuild>();
  /** Regions known incomplete whose rebuild has not begun (or failed to) → found so at start. */
  readonly #lost = new Map<string, boolean>();
  /** Why a rebuild cannot begin: log-start is outside the log (records of the election are gone). */
  #logStartProblem: string | null = null;
  readonly #dirty = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #expiry: NodeJS.Timeout | null = null;
  #rollTimer: NodeJS.Timeout | null = null;
  /** The roll restore running now, shared by whoever asks meanwhile. */
  #restoring: Promise<void> | null = null;
  #rotated = Date.now();
  #watching = false;
  #closed = false;
  /** The last housekeeping failure logged (Redis down fails every round: log it once). */
  #lastFailure = '';

  constructor(options: FollowerOptions) {
    this.#o = options;
    this.#regions = options.election.config.regions.map((r) => r.code);
    for (const region of this.#regions) {
      const partitions: string[] = [];
      for (const partition of options.election.partitionsFor(region)) {
        for (const topic of LEDGER_TOPICS) {
          const tp = partitionKey(topic, partition);
          this.#regionOf.set(tp, region);
          partitions.push(tp);
        }
      }
      this.#partitionsOf.set(region, partitions);
    }
    this.#needle = Buffer.from(`"election":${JSON.stringify(options.election.id)}`);
  }

  /** Regions whose index is incomplete (being rebuilt, or waiting to be); empty when all are complete. */
  get rebuilding(): readonly string[] {
    return [...this.#rebuilds.keys(), ...this.#lost.keys()];
  }

  /**
   * Why the follower does not keep the index up with the log, or null: the
   * reader stopped or stalled (`stopped: <code>`, `stalled: <code> <partitions>`),
   * or log-start lies outside the log (`log-start outside the log: …`).
   */
  get problem(): string | null {
    return this.#o.reader.problem ?? this.#logStartProblem;
  }

  /** Resumes from the stored positions, rebuilds what is missing, and starts following. */
  async start(): Promise<void> {
    const stored = await this.#o.index.positions();
    const missing = new Set(await this.#o.index.incomplete(this.#regions));
    this.#frontier = await this.#o.reader.endOffsets(LEDGER_TOPICS);
    for (const [tp, region] of this.#regionOf) {
      if (missing.has(region)) continue;
      const [topic, partition] = splitPartitionKey(tp);
      this.#o.reader.seek(topic, partition, stored.get(tp) ?? this.#o.logStart.get(tp) ?? 0);
    }
    if (missing.size > 0) {
      this.#o.log.info({ regions: [...missing] }, 'ledger index not in Redis: building it from Kafka');
      for (const region of missing) this.#lost.set(region, true);
      // A failure here is retried by the watch; the complete regions are served meanwhile.
      await this.#rebuildLost().catch((error: unknown) =>
        this.#logFailure(error, 'SAYLAU_ERR_LEDGER_REBUILD', 'ledger follower: rebuild failed; retrying'),
      );
    }
    this.#o.reader.start((batch) => this.#onBatch(batch));
    this.#timer = setInterval(() => void this.#watch(), WATCH_MS);
    this.#timer.unref();
    // Apart from housekeeping, which can take seconds (a roll restore): deadlines are kept regardless.
    this.#expiry = setInterval(() => this.#expireWaiters(), WATCH_MS);
    this.#expiry.unref();
    this.#rollTimer = setInterval(() => void this.#keepRoll(), WATCH_MS);
    this.#rollTimer.unref();
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
    if (this.#rollTimer !== null) clearInterval(this.#rollTimer);
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
    // The rebuilds under way when the batch arrived: a rebuild that begins later rewinds the
    // reader, and this batch (read before the rewind) must not write for it.
    const rebuildIds = new Map<string, string>();
    for (const [region, rebuild] of this.#rebuilds) rebuildIds.set(region, rebuild.id);
    const verdicts = records.length > 0 ? await this.#applyUntilDone(records, rebuildIds) : [];
    const frontier = this.#frontier.get(tp) ?? 0;
    for (let i = 0; i < records.length; i++) {
      const at = `${tp}@${offsets[i]}`;
      const applied: Applied = { key: records[i]!.key, hash: records[i]!.hash, verdict: verdicts[i]! };
      const waiter = this.#waiters.get(at);
      if (waiter !== undefined) {
        this.#waiters.delete(at);
        waiter.resolve(judge(applied, waiter.key, waiter.hash));
      } else if (offsets[i]! >= frontier) this.#remember(at, applied);
    }
    const next = batch.records[batch.records.length - 1]!.offset + 1;
    if (next > frontier) this.#frontier.set(tp, next);
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
    // A batch overtaken by a rewind while it was applied: its position is not where the reader is.
    if (this.#o.reader.isCurrent(batch)) this.#dirty.set(tp, next);
  }

  #remember(at: string, applied: Applied): void {
    if (this.#recent.size >= RECENT_MAX) this.#rotate(Date.now());
    this.#recent.set(at, applied);
  }

  #rotate(now: number): void {
    this.#older = this.#recent;
    this.#recent = new Map();
    this.#rotated = now;
  }

  /**
   * APPLY must not skip a record, and the reader stops on a handler error:
   * while Redis is unreachable, retry (holding back this broker's fetches).
   * Redis back empty is noticed by the watch, which rewinds for a rebuild.
   */
  async #applyUntilDone(
    records: readonly IndexedRecord[],
    rebuildIds: ReadonlyMap<string, string>,
  ): Promise<IndexedVerdict[]> {
    const rebuildOf = (region: string): string => rebuildIds.get(region) ?? '';
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
      try {
        return await this.#o.index.apply(records, rebuildOf);
      } catch (error) {
        if (this.#closed) throw error;
        this.#logFailure(
          error,
          'SAYLAU_ERR_LEDGER_FOLLOW',
          'ledger follower: applying records failed; retrying',
        );
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

  /** Logs a failure once until it changes (a Redis outage fails every round). */
  #logFailure(error: unknown, code: string, message: string): void {
    const text = error instanceof Error ? error.message : String(error);
    if (text === this.#lastFailure) return;
    this.#lastFailure = text;
    this.#o.log.warn({ err: loggableError(error), code }, message);
  }

  /** Every 500 ms: store positions, rotate verdicts, watch markers and rebuilds, finish rebuilds. */
  async #watch(): Promise<void> {
    if (this.#watching || this.#closed) return;
    this.#watching = true;
    try {
      const now = Date.now();
      if (now - this.#rotated >= RECENT_MS) this.#rotate(now);
      await this.#flushPositions();
      await this.#noticeLosses();
      if (this.#lost.size > 0) await this.#rebuildLost();
      await this.#finishRebuilds();
      this.#lastFailure = '';
    } catch (error) {
      this.#logFailure(error, 'SAYLAU_ERR_LEDGER_FOLLOW', 'ledger follower: housekeeping failed; retrying');
    } finally {
      this.#watching = false;
    }
  }

  /** The roll back in Redis if it is gone (one restore at a time). */
  #restoreRoll(): Promise<void> {
    this.#restoring ??= this.#o.restoreRoll().finally(() => {
      this.#restoring = null;
    });
    return this.#restoring;
  }

  /**
   * Every 500 ms while a region is lost or rebuilding: the roll restored, apart
   * from the watch. The watch may wait out a Kafka outage inside a rebuild
   * (offsets), and Redis may lose data again meanwhile: the roll is back
   * within a tick all the same, and eligibility is answered as soon as the
   * index is (chaos L2: no operator reloads the roll).
   */
  async #keepRoll(): Promise<void> {
    if (this.#closed || (this.#lost.size === 0 && this.#rebuilds.size === 0)) return;
    try {
      await this.#restoreRoll();
    } catch (error) {
      this.#logFailure(error, 'SAYLAU_ERR_LEDGER_FOLLOW', 'ledger follower: roll restore failed; retrying');
    }
  }

  /** Regions whose marker is gone, and rebuilds whose id Redis lost (data lost again): to rebuild. */
  async #noticeLosses(): Promise<void> {
    const missing = await this.#o.index.incomplete(this.#regions);
    const fresh = missing.filter((r) => !this.#rebuilds.has(r) && !this.#lost.has(r));
    if (fresh.length > 0) {
      this.#o.log.warn(
        { regions: fresh, code: 'SAYLAU_ERR_INDEX_LOST' },
        'Redis lost the ledger index: rebuilding it from Kafka',
      );
      for (const region of fresh) this.#lost.set(region, false);
    }
    const running = [...this.#rebuilds];
    const states = await Promise.all(running.map(([region, r]) => this.#o.index.rebuildState(region, r.id)));
    running.forEach(([region, rebuild], i) => {
      if (states[i] === 'lost') this.#restart(region, rebuild);
    });
  }

  #restart(region: string, rebuild: Rebuild): void {
    this.#rebuilds.delete(region);
    this.#lost.set(region, rebuild.atStart);
    this.#o.log.warn(
      { region, code: 'SAYLAU_ERR_INDEX_LOST' },
      'Redis lost data again while the ledger index was rebuilt: starting over',
    );
  }

  async #flushPositions(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const positions = new Map(this.#dirty);
    this.#dirty.clear();
    // A rewound partition must not have its old position written back over the rewind, nor
    // a lost region a position its index does not hold.
    for (const [tp] of positions) {
      const region = this.#regionOf.get(tp) ?? '';
      if (this.#rebuilds.has(region) || this.#lost.has(region)) positions.delete(tp);
    }
    await this.#o.index.storePositions(positions);
  }

  /**
   * Begins a rebuild of every lost region: the roll restored, the end offsets
   * read and log-start checked against the log first — a region enters
   * `#rebuilds` only with a target for each of its partitions, its id listed
   * in Redis, and its partitions rewound. On a failure the regions stay lost
   * and the next watch tries again; a region whose log-start is outside the
   * log stays lost (an alarm) without holding back the others.
   */
  async #rebuildLost(): Promise<void> {
    await this.#restoreRoll();
    const [firsts, ends] = await Promise.all([
      this.#o.reader.startOffsets(LEDGER_TOPICS),
      this.#o.reader.endOffsets(LEDGER_TOPICS),
    ]);
    const targets = new Map<string, Map<string, number>>();
    const outside: string[] = [];
    for (const region of this.#lost.keys()) {
      const ofRegion = new Map<string, number>();
      let whole = true;
      for (const tp of this.#partitionsOf.get(region) ?? []) {
        const first = firsts.get(tp);
        const end = ends.get(tp);
        if (first === undefined || end === undefined) throw new Error(`no offsets listed for ${tp}`);
        const from = this.#o.logStart.get(tp) ?? 0;
        if (from < first || from > end) {
          outside.push(`${tp} from ${from}, log ${first}..${end}`);
          whole = false;
        }
        ofRegion.set(tp, end);
      }
      if (whole) targets.set(region, ofRegion);
    }
    this.#reportLogStart(outside);
    const regions = [...targets.keys()];
    if (regions.length === 0) return;
    const id = randomUUID();
    const started = performance.now();
    const listed = await Promise.all(regions.map((region) => this.#o.index.beginRebuild(region, id)));
    // From here on without an await: the region becomes a rebuild and its reader rewinds at once,
    // so every batch applied under its id was read after the rewind.
    regions.forEach((region, i) => {
      const atStart = this.#lost.get(region) ?? false;
      this.#lost.delete(region);
      if (!listed[i]) return; // the marker is back: another host rebuilt the region
      const ofRegion = targets.get(region)!;
      this.#rebuilds.set(region, { id, started, atStart, targets: ofRegion });
      for (const tp of ofRegion.keys()) {
        const [topic, partition] = splitPartitionKey(tp);
        this.#dirty.delete(tp);
        this.#o.reader.seek(topic, partition, this.#o.logStart.get(tp) ?? 0);
      }
    });
  }

  /**
   * Records of the election are gone (retention, a lost log) or log-start is
   * not this cluster's: a replay would build an index that misses them and
   * answer as if whole, so those regions stay incomplete and this is an alarm.
   */
  #reportLogStart(outside: readonly string[]): void {
    const problem = outside.length > 0 ? `log-start outside the log: ${outside.join('; ')}` : null;
    if (problem !== null && problem !== this.#logStartProblem) {
      this.#o.log.error({ code: 'SAYLAU_ERR_LOG_TRUNCATED', problem }, 'ledger index cannot be rebuilt');
    }
    this.#logStartProblem = problem;
  }

  async #finishRebuilds(): Promise<void> {
    for (const [region, rebuild] of this.#rebuilds) {
      const positions = new Map<string, number>();
      for (const tp of this.#partitionsOf.get(region) ?? []) {
        const [topic, partition] = splitPartitionKey(tp);
        const position = this.#o.reader.position(topic, partition);
        const target = rebuild.targets.get(tp);
        if (position === null || target === undefined || position < target) break;
        positions.set(tp, position);
      }
      if (positions.size < (this.#partitionsOf.get(region)?.length ?? 0)) continue;
      // Redis may have lost the roll since the rebuild restored it, before its id was listed
      // (a loss after that unlists the id: finishRebuild says 'lost'). Restored here, the
      // region is never marked complete without its roll, or eligible voters would be refused.
      await this.#restoreRoll();
      await this.#o.index.storePositions(positions);
      const state = await this.#o.index.finishRebuild(region, rebuild.id);
      if (state === 'lost') {
        this.#restart(region, rebuild);
        continue;
      }
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
