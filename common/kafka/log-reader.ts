/**
 * Reads Kafka partitions in log order, without a consumer group: the one
 * reader of the system of record for everything that must see the log as it
 * is — ingest's ledger follower (which applies every record to the Redis
 * index and confirms acknowledged records), the Redis rebuild, reconcile and
 * the fault checker.
 *
 *   cursors: topic/partition → next offset [→ end]
 *      │  grouped by leader (metadata, ≤ 5 s old)
 *      ▼
 *   one Fetch in flight per broker ──► records ≥ cursor, in offset order
 *      ▲                                  │ onBatch (awaited: the handler holds the reader back)
 *      └──────── cursor = last offset + 1 ◄┘
 *
 * No group means no rebalances, no coordinator and no commits: a frozen or
 * dead broker stalls only the partitions it leads until metadata names a new
 * leader (errors clear the metadata; the next fetch asks again). A partition
 * whose offset is outside the log (OFFSET_OUT_OF_RANGE: truncated by
 * retention, or a leader that lost records) is set aside and asked again every
 * few seconds while the others go on; `problem` says so. Offsets are
 * JavaScript numbers (exact up to 2^53).
 *
 * Built on @platformatic/kafka's low-level `Consumer.fetch`, because its
 * message stream joins a group and ends on the first fetch error.
 */
import { type ClusterMetadata, Consumer } from '@platformatic/kafka';
import { kafkaErrorNames, type Logger, loggableError } from '../log.js';

/** One record as the log holds it. */
export interface LogRecord {
  readonly offset: number;
  readonly value: Buffer | null;
}

/** The records one fetch returned for one partition, in offset order (never empty). */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly LogRecord[];
  /** The partition's high watermark when the fetch was answered. */
  readonly highWatermark: number;
  /** The cursor's seek count when the fetch was sent (see {@link LogReader.isCurrent}). */
  readonly epoch: number;
}

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

export type BatchHandler = (batch: PartitionBatch) => void | Promise<void>;

/** `topic/partition` → offset. */
export type PartitionOffsets = Map<string, number>;

export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`;

/** The inverse of {@link partitionKey}. */
export function splitPartitionKey(key: string): [topic: string, partition: number] {
  const slash = key.lastIndexOf('/');
  return [key.slice(0, slash), Number(key.slice(slash + 1))];
}

export interface LogReaderOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log: Logger;
  /** How long a broker holds a fetch that finds nothing new. @default 500 */
  readonly maxWaitMs?: number;
  /** @default 1 MiB */
  readonly maxBytesPerPartition?: number;
  /**
   * Per fetch. Modest on purpose: the client parses a whole answer at once, and
   * on a busy box a 32 MiB answer outlived the request timeout. @default 8 MiB
   */
  readonly maxBytes?: number;
}

interface Cursor {
  readonly topic: string;
  readonly partition: number;
  next: number;
  /** Stop before this offset; null: follow the tail. */
  end: number | null;
  /** Counts seeks: an answer to a fetch sent before the last seek is dropped. */
  epoch: number;
  /** Set aside after Kafka said the offset is outside the log: why, and when to ask again. */
  stalled: { readonly code: string; retryAt: number } | null;
}

/** After a failed fetch or metadata request, wait this long before asking that broker again. */
const RETRY_DELAY_MS = 250;
/** How long listing offsets is retried before the caller sees the failure. */
const LIST_OFFSETS_PATIENCE_MS = 20_000;
/** A partition whose offset is outside the log is asked again this often (a new leader may catch up). */
const STALL_RETRY_MS = 5_000;

export class LogReader {
  #consumer: Consumer;
  readonly #brokers: readonly string[];
  readonly #clientId: string;
  /** Rotates the bootstrap list each time the consumer is replaced. */
  #generation = 0;
  #replacedAt = 0;
  readonly #log: Logger;
  readonly #options: Required<Omit<LogReaderOptions, 'brokers' | 'clientId' | 'log'>>;
  readonly #cursors = new Map<string, Cursor>();
  /** Broker node ids with a fetch (or its handler) under way. */
  readonly #busy = new Set<number>();
  #handler: BatchHandler | null = null;
  #running = false;
  #pumping = false;
  #pumpAgain = false;
  #failure: Error | null = null;
  #idle: (() => void) | null = null;
  #progress: (() => void) | null = null;
  #closing: Promise<void> | null = null;

  constructor(options: LogReaderOptions) {
    this.#log = options.log;
    this.#options = {
      maxWaitMs: options.maxWaitMs ?? 500,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1 << 20,
      maxBytes: options.maxBytes ?? 8 << 20,
    };
    this.#brokers = options.brokers;
    this.#clientId = options.clientId;
    this.#consumer = this.#makeConsumer();
  }

  /**
   * A consumer whose metadata requests go first to the next broker in turn:
   * @platformatic/kafka asks the first bootstrap broker it can connect to, and
   * a frozen broker still accepts connections, so without rotation every
   * metadata request would wait on it and stall all partitions.
   */
  #makeConsumer(): Consumer {
    const shift = this.#generation++ % this.#brokers.length;
    const timeout = Math.max(5_000, this.#options.maxWaitMs + 3_000);
    return new Consumer({
      clientId: this.#clientId,
      bootstrapBrokers: [...this.#brokers.slice(shift), ...this.#brokers.slice(0, shift)],
      // Never joins: fetches are addressed to a broker by node id.
      groupId: `${this.#clientId}-reader`,
      // Our loop retries; the client's own retries would hide a dead broker for seconds.
      retries: 0,
      connectTimeout: 2_000,
      timeout,
      // A fetch to a frozen broker must fail soon (30 s unless set): its partitions wait for a new leader.
      requestTimeout: timeout,
      metadataMaxAge: 5_000,
    });
  }

  /** After a failure: new connections and metadata from the next broker (at most once a second). */
  #replaceConsumer(): void {
    const now = Date.now();
    if (now - this.#replacedAt < 1_000) {
      this.#consumer.clearMetadata();
      return;
    }
    this.#replacedAt = now;
    const old = this.#consumer;
    this.#consumer = this.#makeConsumer();
    // Fetches under way on the old one end by their request timeout; close it after that.
    setTimeout(
      () => old.close(true, () => undefined),
      Math.max(5_000, this.#options.maxWaitMs + 3_000) + 1_000,
    ).unref();
  }

  /** Low watermark (first offset still in the log) of every partition of `topics`. */
  startOffsets(topics: readonly string[]): Promise<PartitionOffsets> {
    return this.#listOffsets(topics, -2n);
  }

  /** High watermark (next offset to be written) of every partition of `topics`. */
  endOffsets(topics: readonly string[]): Promise<PartitionOffsets> {
    return this.#listOffsets(topics, -1n);
  }

  /** Reads `topic/partition` from `from`, up to (not including) `end`, or the tail when `end` is null. */
  seek(topic: string, partition: number, from: number, end: number | null = null): void {
    const key = partitionKey(topic, partition);
    const cursor = this.#cursors.get(key);
    if (cursor === undefined) {
      this.#cursors.set(key, { topic, partition, next: from, end, epoch: 0, stalled: null });
    } else {
      cursor.next = from;
      cursor.end = end;
      cursor.epoch++;
      cursor.stalled = null;
    }
    if (this.#running) this.#pump();
  }

  /** Whether no seek moved the batch's partition since the batch was fetched. */
  isCurrent(batch: PartitionBatch): boolean {
    return this.#cursors.get(partitionKey(batch.topic, batch.partition))?.epoch === batch.epoch;
  }

  /**
   * Why the reader is not reading all it should, or null: `stopped: <code>`
   * (a handler failed; nothing more is read) or `stalled: <code> <topic/partition@offset …>`
   * (offsets outside the log; asked again every few seconds).
   */
  get problem(): string | null {
    if (this.#failure !== null) return `stopped: ${errorName(this.#failure)}`;
    const stalled: string[] = [];
    let code = '';
    for (const [key, c] of this.#cursors) {
      if (c.stalled === null) continue;
      code = c.stalled.code;
      stalled.push(`${key}@${c.next}`);
    }
    return stalled.length > 0 ? `stalled: ${code} ${stalled.join(' ')}` : null;
  }

  /** The next offset this reader will hand over for `topic/partition`, or null if it does not read it. */
  position(topic: string, partition: number): number | null {
    return this.#cursors.get(partitionKey(topic, partition))?.next ?? null;
  }

  /** Every cursor's next offset. */
  positions(): PartitionOffsets {
    const out: PartitionOffsets = new Map();
    for (const [key, cursor] of this.#cursors) out.set(key, cursor.next);
    return out;
  }

  /** Starts fetching; `handler` gets every batch, one at a time per broker. */
  start(handler: BatchHandler): void {
    this.#handler = handler;
    this.#running = true;
    this.#pump();
  }

  /** Resolves when every cursor with an end has reached it (rejects if the reader failed). */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#failure !== null) throw this.#failure;
      // A bounded read cannot skip what is not in the log: no waiting for it.
      for (const c of this.#cursors.values()) {
        if (c.end !== null && c.stalled !== null) throw new Error(`log reader: ${this.problem}`);
      }
      let pending = 0;
      for (const c of this.#cursors.values()) if (c.end !== null && c.next < c.end) pending++;
      if (pending === 0) return;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`log reader: ${pending} partition(s) short of their end after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.#progress = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * Reads `[from, to)` of each partition in `to` (missing `from` entries start
   * at 0), handing batches to `handler`, then stops. For one-off scans.
   */
  async readRange(
    from: PartitionOffsets,
    to: PartitionOffsets,
    handler: BatchHandler,
    timeoutMs: number,
  ): Promise<void> {
    for (const [key, end] of to) {
      const [topic, partition] = splitPartitionKey(key);
      const start = from.get(key) ?? 0;
      if (end > start) this.seek(topic, partition, start, end);
    }
    this.start(handler);
    await this.drained(timeoutMs);
  }

  /**
   * Stops fetching, waits for batches being handled and the metadata request
   * under way, releases the connections. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#running = false;
    if (this.#busy.size > 0 || this.#pumping) await new Promise<void>((resolve) => (this.#idle = resolve));
    await this.#consumer.close().catch((err: unknown) => {
      this.#log.debug({ err: loggableError(err) }, 'log reader close');
    });
  }

  /** Wakes close() once no fetch, handler or metadata request is under way. */
  #settled(): void {
    if (this.#busy.size === 0 && !this.#pumping && this.#idle !== null) {
      this.#idle();
      this.#idle = null;
    }
  }

  /**
   * Retried with new metadata for up to {@link LIST_OFFSETS_PATIENCE_MS}: a
   * cluster just started, or electing a leader after a broker died, answers
   * NOT_LEADER / LEADER_NOT_AVAILABLE for seconds, and the callers (a rebuild,
   * an election's log start) have no better moment to try again.
   */
  async #listOffsets(topics: readonly string[], timestamp: bigint): Promise<PartitionOffsets> {
    const giveUpAt = Date.now() + LIST_OFFSETS_PATIENCE_MS;
    let listed: Map<string, bigint[]>;
    for (let wait = RETRY_DELAY_MS; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        listed = await this.#consumer.listOffsets({ topics: [...topics], timestamp });
        break;
      } catch (error) {
        if (this.#closing !== null || Date.now() + wait >= giveUpAt) throw error;
        this.#replaceConsumer();
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    const out: PartitionOffsets = new Map();
    for (const [topic, offsets] of listed) {
      for (let partition = 0; partition < offsets.length; partition++) {
        out.set(partitionKey(topic, partition), Number(offsets[partition]));
      }
    }
    return out;
  }

  /** Issues one fetch to every broker that leads a wanted partition and has none under way. */
  #pump(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    const topics = new Set<string>();
    for (const c of this.#cursors.values()) if (c.end === null || c.next < c.end) topics.add(c.topic);
    if (topics.size === 0) return;
    this.#pumping = true;
    this.#consumer.metadata({ topics: [...topics] }).then(
      (metadata) => {
        this.#pumping = false;
        // close() may have been called meanwhile: it waits for this answer, nothing more is sent.
        if (!this.#running) return this.#settled();
        this.#dispatch(metadata);
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      },
      (error: unknown) => {
        this.#pumping = false;
        this.#pumpAgain = false;
        if (!this.#running) return this.#settled();
        this.#log.warn(
          { err: loggableError(error), code: 'SAYLAU_ERR_KAFKA_READ' },
          'log reader: metadata failed',
        );
        this.#replaceConsumer();
        setTimeout(() => this.#pump(), RETRY_DELAY_MS).unref();
      },
    );
  }

  #dispatch(metadata: ClusterMetadata): void {
    const byLeader = new Map<number, Cursor[]>();
    const now = Date.now();
    for (const c of this.#cursors.values()) {
      if (c.end !== null && c.next >= c.end) continue;
      if (c.stalled !== null && now < c.stalled.retryAt) continue;
      const leader = metadata.topics.get(c.topic)?.partitions[c.partition]?.leader;
      if (leader === undefined || leader < 0 || this.#busy.has(leader)) continue;
      let list = byLeader.get(leader);
      if (list === undefined) {
        list = [];
        byLeader.set(leader, list);
      }
      list.push(c);
    }
    for (const [node, cursors] of byLeader) this.#fetch(node, cursors, metadata);
  }

  #fetch(node: number, cursors: readonly Cursor[], metadata: ClusterMetadata): void {
    this.#busy.add(node);
    const byTopic = new Map<string, Cursor[]>();
    for (const c of cursors) {
      const list = byTopic.get(c.topic) ?? [];
      list.push(c);
      byTopic.set(c.topic, list);
    }
    const ids = new Map<string, string>();
    const topics = [...byTopic].map(([topic, list]) => {
      const topicId = metadata.topics.get(topic)!.id;
      ids.set(topicId, topic);
      return {
        topicId,
        partitions: list.map((c) => ({
          partition: c.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(c.next),
          lastFetchedEpoch: -1,
          partitionMaxBytes: this.#options.maxBytesPerPartition,
        })),
      };
    });
    // The epochs asked at: a cursor moved by seek() meanwhile gets nothing from this answer.
    const asked = new Map(cursors.map((c) => [c, c.epoch]));
    this.#consumer
      .fetch({
        node,
        topics,
        maxWaitTime: this.#options.maxWaitMs,
        minBytes: 1,
        maxBytes: this.#options.maxBytes,
      })
      .then(
        (response) => this.#deliver(response, ids, asked),
        (error: unknown) => {
          if (!this.#running) return;
          const outside = outOfRange(error, ids);
          if (outside.size > 0) return this.#stall(outside, asked);
          this.#log.warn(
            { err: loggableError(error), node, code: 'SAYLAU_ERR_KAFKA_READ' },
            'log reader: fetch failed',
          );
          this.#replaceConsumer();
          return new Promise<void>((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        },
      )
      .catch((error: unknown) => {
        // The handler threw: the reader cannot skip a batch, so it stops and says why.
        this.#failure = error instanceof Error ? error : new Error(String(error));
        this.#running = false;
        this.#log.error(
          { err: loggableError(error), code: 'SAYLAU_ERR_KAFKA_READ' },
          'log reader: handler failed; reading stopped',
        );
      })
      .finally(() => {
        this.#busy.delete(node);
        this.#progress?.();
        this.#progress = null;
        this.#settled();
        this.#pump();
      });
  }

  /**
   * Sets aside the partitions Kafka said are asked outside the log; the rest
   * of the fetch is asked again at once. Logged when a partition first stalls.
   */
  #stall(outside: ReadonlySet<string>, asked: ReadonlyMap<Cursor, number>): void {
    const retryAt = Date.now() + STALL_RETRY_MS;
    for (const [cursor, epoch] of asked) {
      if (cursor.epoch !== epoch || !outside.has(partitionKey(cursor.topic, cursor.partition))) continue;
      if (cursor.stalled === null) {
        this.#log.error(
          {
            topic: cursor.topic,
            partition: cursor.partition,
            offset: cursor.next,
            kafka: OFFSET_OUT_OF_RANGE,
            code: 'SAYLAU_ERR_KAFKA_OFFSET',
          },
          'log reader: offset outside the log; asking again every few seconds',
        );
      }
      cursor.stalled = { code: OFFSET_OUT_OF_RANGE, retryAt };
    }
    setTimeout(() => this.#pump(), STALL_RETRY_MS).unref();
  }

  async #deliver(
    response: FetchResponse,
    ids: Map<string, string>,
    asked: Map<Cursor, number>,
  ): Promise<void> {
    for (const topicResponse of response.responses) {
      const topic = ids.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const p of topicResponse.partitions) {
        // Checked before each handler call: close() or seek() may come while an earlier one runs.
        if (!this.#running) return;
        const cursor = this.#cursors.get(partitionKey(topic, p.partitionIndex));
        const epoch = cursor === undefined ? undefined : asked.get(cursor);
        if (cursor === undefined || epoch !== cursor.epoch || p.records === undefined) continue;
        if (cursor.stalled !== null) {
          cursor.stalled = null;
          this.#log.info({ topic, partition: p.partitionIndex }, 'log reader: partition readable again');
        }
        const records: LogRecord[] = [];
        let next = cursor.next;
        for (const batch of p.records) {
          const base = Number(batch.firstOffset);
          // Control batches (transaction markers) hold no records of ours but take offsets.
          next = Math.max(next, base + batch.lastOffsetDelta + 1);
          if ((batch.attributes & 0x20) !== 0) continue;
          for (const record of batch.records) {
            const offset = base + record.offsetDelta;
            if (offset < cursor.next) continue; // a batch may start before the offset asked for
            if (cursor.end !== null && offset >= cursor.end) break;
            records.push({ offset, value: record.value });
          }
        }
        if (cursor.end !== null) next = Math.min(next, cursor.end);
        if (records.length > 0 && this.#handler !== null) {
          await this.#handler({
            topic,
            partition: p.partitionIndex,
            records,
            highWatermark: Number(p.highWatermark),
            epoch,
          });
        }
        if (cursor.epoch === epoch) cursor.next = Math.max(cursor.next, next);
      }
    }
  }
}

const OFFSET_OUT_OF_RANGE = 'OFFSET_OUT_OF_RANGE';

/** The `topic/partition`s of a failed fetch that Kafka answered OFFSET_OUT_OF_RANGE (error code 1). */
function outOfRange(error: unknown, ids: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  const responses = (error as { response?: FetchResponse } | null)?.response?.responses ?? [];
  for (const t of responses) {
    const topic = ids.get(t.topicId);
    if (topic === undefined) continue;
    for (const p of t.partitions) if (p.errorCode === 1) out.add(partitionKey(topic, p.partitionIndex));
  }
  return out;
}

/** The most telling name of an error: a Kafka error id, else its code, else its type. */
function errorName(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return kafkaErrorNames(error)[0] ?? (typeof code === 'string' ? code : error.name);
}
