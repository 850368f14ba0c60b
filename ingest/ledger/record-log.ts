/**
 * The record log: the ledger's only producer, on @platformatic/kafka (the
 * maintained client line that runs on Node 20; docs/reports/kafka-clients.json
 * has the measurement that chose it over kafkajs).
 *
 *   append() ─► pending[] ──(linger timer | maxBatch)──► shuffle ─► send (acks=all)
 *      ▲                                                              │
 *      └── each caller gets its record's outcome: acked at offset N, ◄─┘
 *          unsent (never left this process) or unknown (may be in the log)
 *
 * - One send in flight at a time, so no batch is ever sent while an earlier
 *   one is unsettled on the same partition; records arriving meanwhile form
 *   the next, larger batch (a send per round trip + linger at most).
 * - Not idempotent. Exactly-once comes from the ledger (deterministic keys,
 *   first record wins, acks confirmed by reading the log back), not from the
 *   client's sequence numbers — which have acknowledged batches that were
 *   never written, in kafkajs, in this client (#326) and in librdkafka (#4134).
 *   Duplicates a retry may cause share their key and count once.
 * - An ack is believed only if its offset is new for its partition: an
 *   offset at or below one already acknowledged here means the broker took
 *   the batch for a duplicate, and the records are reported unknown.
 * - "Unsent" is proven, not guessed: the client publishes every request it
 *   writes on the `plt:kafka:connections:api` diagnostics channel; a send
 *   during which no Produce request was written to a connected socket never
 *   left the process, whatever error it ended with. Anything else that fails
 *   is unknown.
 * - Each batch is shuffled, so a partition's order does not reveal arrival
 *   order within a batch (DESIGN §1.3, §4).
 */
import { subscribe } from 'node:diagnostics_channel';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import { partitionKey, splitPartitionKey } from '../../common/kafka/log-reader.js';
import { loggableError } from '../../common/log.js';
import type { TopicName } from '../../common/records.js';
import { shuffle } from './shuffle.js';

/** One settled Kafka send: records per topic and its latency (for metrics). */
export interface SendInfo {
  readonly sizes: readonly (readonly [TopicName, number])[];
  readonly latencySec: number;
  readonly ok: boolean;
}

/** What became of one appended record. */
export interface SendOutcome {
  /** acked: at `offset`; unsent: never left this process; unknown: may be in the log. */
  readonly kind: 'acked' | 'unsent' | 'unknown';
  /** The acknowledged offset; -1 unless acked. */
  readonly offset: number;
}

export interface RecordLogOptions {
  readonly brokers: readonly string[];
  readonly lingerMs: number;
  readonly maxBatch: number;
  /** Kafka request timeout: a send with no answer by then is unknown. */
  readonly requestTimeoutMs: number;
  readonly log: Logger;
  /** Called after every send (metrics). */
  readonly onSend: (info: SendInfo) => void;
  /** Called when an acknowledgement was not believed: its base offset was below `expected`. */
  readonly onStaleAck: (topic: string, partition: number, base: number, expected: number) => void;
}

export function recordLogOptions(
  config: Config,
  log: Logger,
  hooks: Pick<RecordLogOptions, 'onSend' | 'onStaleAck'>,
): RecordLogOptions {
  return {
    brokers: config.kafka.brokers,
    lingerMs: config.ingest.produceLingerMs,
    maxBatch: config.ingest.produceMaxBatch,
    // Half the request's budget: the rest is for reading the record back.
    requestTimeoutMs: Math.max(1_000, Math.floor(config.ingest.produceTimeoutMs / 2)),
    log,
    ...hooks,
  };
}

interface Entry {
  readonly topic: TopicName;
  readonly partition: number;
  readonly value: Buffer;
  readonly timestamp: bigint;
  /** Not sent after this (epoch ms): its request has been answered already. */
  readonly deadline: number;
  readonly resolve: (outcome: SendOutcome) => void;
}

/** Produce requests (API key 0) written to a connected socket by any client in this process. */
let producesWritten = 0;
subscribe('tracing:plt:kafka:connections:api:start', (message) => {
  const event = message as { apiKey?: number; connection?: { isConnected(): boolean } };
  if (event.apiKey === 0 && event.connection?.isConnected() === true) producesWritten++;
});

export class RecordLog {
  #producer: Producer;
  /** Rotates the bootstrap list each time the producer is replaced. */
  #generation = 0;
  readonly #options: RecordLogOptions;
  #pending: Entry[] = [];
  #timer: NodeJS.Timeout | null = null;
  #sending: Promise<void> | null = null;
  /** `topic/partition` → the offset after the last record acknowledged there. */
  readonly #nextOffset = new Map<string, number>();
  #reachable = false;
  #topics: readonly string[] = [];
  #probe: NodeJS.Timeout | null = null;
  #probing = false;
  #closed = false;

  constructor(options: RecordLogOptions) {
    this.#options = options;
    this.#producer = this.#makeProducer();
  }

  /**
   * A producer whose metadata requests go first to the next broker in turn.
   * @platformatic/kafka asks the first bootstrap broker it can connect to, and
   * a frozen broker still accepts connections: without rotation every metadata
   * request would wait on it, stalling all partitions, not only its own.
   */
  #makeProducer(): Producer {
    const { brokers, requestTimeoutMs } = this.#options;
    const shift = this.#generation++ % brokers.length;
    return new Producer({
      clientId: 'saylau-ingest',
      bootstrapBrokers: [...brokers.slice(shift), ...brokers.slice(0, shift)],
      idempotent: false,
      // The ledger decides about retries: a send fails once, with what it knows.
      retries: 0,
      connectTimeout: 1_000,
      // `timeout` is how long the broker waits for the in-sync replicas; `requestTimeout`
      // how long this client waits for any answer (30 s unless set).
      timeout: Math.max(500, requestTimeoutMs - 500),
      requestTimeout: requestTimeoutMs,
      autocreateTopics: false,
      metadataMaxAge: 5_000,
    });
  }

  /** The last send (or metadata probe) reached the cluster (for `/readyz`). */
  get ready(): boolean {
    return this.#reachable;
  }

  /**
   * Fetches metadata once: proves the cluster answers before traffic is taken,
   * and that every topic has the partitions the election writes to (a record
   * for a missing partition would fail at every send).
   */
  async connect(topics: readonly string[], partitionCount: number): Promise<void> {
    const metadata = await this.#producer.metadata({ topics: [...topics] });
    for (const topic of topics) {
      const have = metadata.topics.get(topic)?.partitionsCount ?? 0;
      if (have < partitionCount) {
        throw new Error(`topic ${topic} has ${have} partitions; the election writes to ${partitionCount}`);
      }
    }
    this.#topics = topics;
    this.#reachable = true;
  }

  /**
   * While the cluster is unreachable, ask for metadata every few seconds:
   * `/readyz` reports `ready`, and a load balancer that stopped sending
   * traffic on it would otherwise never see Kafka come back.
   */
  #probeUntilReachable(): void {
    if (this.#probe !== null || this.#closed) return;
    this.#probe = setInterval(() => {
      // A send under way answers the same question, and must keep its producer.
      if (this.#probing || this.#sending !== null) return;
      this.#probing = true;
      this.#producer.metadata({ topics: [...this.#topics] }).then(
        () => {
          this.#probing = false;
          this.#reachable = true;
          this.#stopProbe();
        },
        () => {
          this.#probing = false;
          // Next time from another broker: the one asked may be the frozen one.
          if (this.#sending === null) this.#replaceProducer();
        },
      );
    }, PROBE_INTERVAL_MS);
    this.#probe.unref();
  }

  #stopProbe(): void {
    if (this.#probe === null) return;
    clearInterval(this.#probe);
    this.#probe = null;
  }

  /** Fresh connections and metadata from the next broker. Nothing is in flight on the old one. */
  #replaceProducer(): void {
    const old = this.#producer;
    this.#producer = this.#makeProducer();
    old.close(true, () => undefined);
  }

  /**
   * Appends one record; resolves (never rejects) with what became of it. A
   * record still queued at `deadline` is not sent (unsent): behind a stalled
   * send the queue would otherwise fill with records nobody waits for.
   */
  append(
    topic: TopicName,
    partition: number,
    value: string,
    timestampMs: number,
    deadline: number,
  ): Promise<SendOutcome> {
    return new Promise<SendOutcome>((resolve) => {
      this.#pending.push({
        topic,
        partition,
        value: Buffer.from(value),
        timestamp: BigInt(timestampMs),
        deadline,
        resolve,
      });
      if (this.#pending.length >= this.#options.maxBatch) this.#kick();
      else if (this.#timer === null) this.#timer = setTimeout(this.#kick, this.#options.lingerMs);
    });
  }

  /** Sends everything pending and waits for every send in flight. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#sending !== null) {
      if (this.#sending === null) this.#kick();
      await this.#sending;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopProbe();
    await this.flush();
    await this.#producer.close().catch((err: unknown) => {
      this.#options.log.debug({ err: loggableError(err) }, 'producer close');
    });
  }

  readonly #kick = (): void => {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#sending !== null) return;
    this.#dropExpired();
    if (this.#pending.length === 0) return;
    let batch: Entry[];
    if (this.#pending.length <= this.#options.maxBatch) {
      batch = this.#pending;
      this.#pending = [];
    } else {
      batch = this.#pending.slice(0, this.#options.maxBatch);
      this.#pending = this.#pending.slice(this.#options.maxBatch);
    }
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = null;
      // What arrived meanwhile lingers too, unless it already fills a batch.
      if (this.#pending.length >= this.#options.maxBatch) this.#kick();
      else if (this.#pending.length > 0 && this.#timer === null) {
        this.#timer = setTimeout(this.#kick, this.#options.lingerMs);
      }
    });
  };

  #dropExpired(): void {
    const now = Date.now();
    if (this.#pending.every((e) => e.deadline > now)) return;
    const live: Entry[] = [];
    for (const entry of this.#pending) {
      if (entry.deadline > now) live.push(entry);
      else entry.resolve(UNSENT);
    }
    this.#pending = live;
  }

  async #send(batch: Entry[]): Promise<void> {
    shuffle(batch);
    const started = performance.now();
    const writtenBefore = producesWritten;
    let acked: Map<string, number>;
    let failure: unknown = null;
    try {
      const result = await this.#producer.send({
        // Per send: the producer's own `acks` option is not read by send() (bench/README.md).
        acks: ProduceAcks.ALL,
        messages: batch.map((e) => ({
          topic: e.topic,
          partition: e.partition,
          value: e.value,
          timestamp: e.timestamp,
        })),
      });
      acked = baseOffsets(result.offsets);
    } catch (error) {
      failure = error;
      // A send to several brokers can succeed on some: those partitions are acknowledged.
      acked = baseOffsets((error as { produced?: { offsets?: OffsetRow[] } }).produced?.offsets);
      // A frozen or dead broker is not asked first again. Sends are one at a time, and the probe
      // runs only while no send has reached the cluster.
      this.#replaceProducer();
    }
    const left = producesWritten !== writtenBefore;
    this.#reachable = failure === null || left;
    if (this.#reachable) this.#stopProbe();
    else this.#probeUntilReachable();
    const sizes = new Map<TopicName, number>();
    for (const e of batch) sizes.set(e.topic, (sizes.get(e.topic) ?? 0) + 1);
    this.#options.onSend({
      sizes: [...sizes],
      latencySec: (performance.now() - started) / 1000,
      ok: failure === null,
    });
    const notAcked = left ? UNKNOWN : UNSENT;
    const staleParts = new Set<string>();
    for (const [tp, base] of acked) if (base < (this.#nextOffset.get(tp) ?? 0)) staleParts.add(tp);
    // Offsets within a partition follow the order of the batch's messages.
    const index = new Map<string, number>();
    for (const entry of batch) {
      const tp = partitionKey(entry.topic, entry.partition);
      const base = acked.get(tp);
      if (base === undefined) {
        entry.resolve(notAcked);
        continue;
      }
      const i = index.get(tp) ?? 0;
      index.set(tp, i + 1);
      entry.resolve(staleParts.has(tp) ? UNKNOWN : { kind: 'acked', offset: base + i });
    }
    for (const [tp, count] of index) {
      if (!staleParts.has(tp)) this.#nextOffset.set(tp, acked.get(tp)! + count);
      else {
        const [topic, partition] = splitPartitionKey(tp);
        this.#options.onStaleAck(topic, partition, acked.get(tp)!, this.#nextOffset.get(tp) ?? 0);
      }
    }
    if (failure !== null) {
      this.#options.log.warn(
        {
          err: loggableError(failure),
          code: 'SAYLAU_ERR_PRODUCE',
          records: batch.length,
          acknowledgedPartitions: acked.size,
          left,
        },
        left ? 'kafka produce failed after the request left: outcome unknown' : 'kafka produce not sent',
      );
    }
  }
}

/** How often an unreachable cluster is asked for metadata (see #probeUntilReachable). */
const PROBE_INTERVAL_MS = 2_000;

const UNSENT: SendOutcome = { kind: 'unsent', offset: -1 };
const UNKNOWN: SendOutcome = { kind: 'unknown', offset: -1 };

interface OffsetRow {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

function baseOffsets(rows: readonly OffsetRow[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows ?? []) out.set(partitionKey(row.topic, row.partition), Number(row.offset));
  return out;
}
