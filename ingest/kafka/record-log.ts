/**
 * The record log: ingest's only door to Kafka, the system of record. Owns
 * the kafkajs client so it can be swapped for another without touching routes.
 *
 *   append() ─► pending[] ──(linger timer | maxBatch)──► shuffle ─► sendBatch(acks=all)
 *      ▲                                                             │
 *      └──────────── each caller awaits its own record's ack ◄───────┘
 *
 * - One timer for the whole batch, never one per request (STYLE 8); one send
 *   in flight at a time, so records arriving meanwhile form the next, larger
 *   batch — the batch grows with load and callers are held back naturally.
 * - Each batch is shuffled before sending, so the order inside a partition
 *   does not reveal arrival order (DESIGN §1.3, §4).
 * - Idempotent producer, `acks=-1`; the partition and the (minute) timestamp
 *   are chosen by the caller (DESIGN §4: partition by region, explicitly).
 * - Retries are bounded so a dead cluster fails a produce within the produce
 *   timeout (the route answers 503 and releases the dedup key) instead of
 *   hanging; kafkajs warns that limited retries weaken idempotence, which we
 *   accept: duplicates share a ballotId and tallies count distinct ballotIds.
 */

import { randomFillSync } from 'node:crypto';
import { type Admin, Kafka, logLevel, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import type { TopicName } from '../../common/records.js';
import { loggableError } from '../errors.js';
import type { IngestMetrics } from '../metrics.js';

/** What routes need from Kafka: this log itself, or a relay to the supervisor's (relay-client.ts). */
export interface RecordSink {
  /** Appends one record; resolves when Kafka has acknowledged it with acks=all. */
  append(topic: TopicName, partition: number, value: string, timestampMs: number): Promise<void>;
  /** Kafka is reachable (for `/readyz`). */
  readonly ready: boolean;
  /** Waits until every record appended so far is settled; then releases the client. */
  close(): Promise<void>;
}

/** One acknowledged Kafka send: records per topic and its acks=all latency. */
export interface SendInfo {
  readonly sizes: readonly (readonly [TopicName, number])[];
  readonly latencySec: number;
}

export type ProduceMetrics = Pick<IngestMetrics, 'produceBatch' | 'produceLatency' | 'produceErrors'>;

export interface RecordLogOptions {
  readonly brokers: readonly string[];
  readonly lingerMs: number;
  readonly maxBatch: number;
  /** A record not acknowledged within this time fails its caller. */
  readonly timeoutMs: number;
  /** Absent in the supervisor, whose workers observe the sends they took part in. */
  readonly metrics?: ProduceMetrics;
  readonly log: Logger;
}

/** The record log's settings from the config (supervisor and standalone server alike). */
export function recordLogOptions(config: Config, log: Logger): RecordLogOptions {
  return {
    brokers: config.kafka.brokers,
    lingerMs: config.ingest.produceLingerMs,
    maxBatch: config.ingest.produceMaxBatch,
    timeoutMs: config.ingest.produceTimeoutMs,
    log,
  };
}

export class ProduceError extends Error {
  readonly code = 'SAYLAU_ERR_PRODUCE';
}

class Entry {
  settled = false;
  constructor(
    readonly topic: TopicName,
    readonly message: Message,
    readonly resolve: (info: SendInfo) => void,
    readonly reject: (error: Error) => void,
  ) {}
}

export class RecordLog implements RecordSink {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private pending: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private connected = false;
  private reachable = false;
  private probe: NodeJS.Timeout | null = null;
  private readonly shuffleBits = new Uint32Array(1);

  constructor(private readonly options: RecordLogOptions) {
    const retry = { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 };
    this.kafka = new Kafka({
      clientId: 'saylau-ingest',
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: Math.min(options.timeoutMs, 30_000),
      retry,
    });
    this.producer = this.kafka.producer({ idempotent: true, allowAutoTopicCreation: false, retry });
    this.admin = this.kafka.admin({ retry: { retries: 0 } });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    await this.admin.connect();
    this.reachable = true;
    // One timer for the readiness probe: a cheap metadata request every 5 s.
    this.probe = setInterval(() => {
      this.admin.describeCluster().then(
        () => {
          this.reachable = true;
        },
        () => {
          this.reachable = false;
        },
      );
    }, 5_000);
    this.probe.unref();
  }

  /** Connected and the cluster answered the last probe (for `/readyz`). */
  get ready(): boolean {
    return this.connected && this.reachable;
  }

  append(topic: TopicName, partition: number, value: string, timestampMs: number): Promise<void> {
    return this.appendWithInfo(topic, partition, value, timestampMs).then(() => undefined);
  }

  /** `append`, resolving with the send that carried the record (for the relay's metrics). */
  appendWithInfo(topic: TopicName, partition: number, value: string, timestampMs: number): Promise<SendInfo> {
    return new Promise<SendInfo>((resolve, reject) => {
      const message: Message = { partition, value, timestamp: String(timestampMs) };
      this.pending.push(new Entry(topic, message, resolve, reject));
      if (this.pending.length >= this.options.maxBatch) this.kick();
      else if (this.timer === null) this.timer = setTimeout(this.kick, this.options.lingerMs);
    });
  }

  /** Sends everything pending and waits for every send in flight. */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.sending !== null) {
      if (this.sending === null) this.kick();
      await this.sending;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.probe !== null) clearInterval(this.probe);
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  private readonly kick = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sending !== null || this.pending.length === 0) return;
    let batch: Entry[];
    if (this.pending.length <= this.options.maxBatch) {
      batch = this.pending;
      this.pending = [];
    } else {
      batch = this.pending.slice(0, this.options.maxBatch);
      this.pending = this.pending.slice(this.options.maxBatch);
    }
    this.sending = this.send(batch).finally(() => {
      this.sending = null;
      // What arrived meanwhile lingers too, unless it already fills a batch: a
      // send every (round trip + linger) at most, so the brokers see a few
      // large requests a second instead of one per round trip.
      if (this.pending.length >= this.options.maxBatch) this.kick();
      else if (this.pending.length > 0 && this.timer === null) {
        this.timer = setTimeout(this.kick, this.options.lingerMs);
      }
    });
  };

  private async send(batch: Entry[]): Promise<void> {
    this.shuffle(batch);
    const byTopic = new Map<TopicName, Message[]>();
    for (const entry of batch) {
      let messages = byTopic.get(entry.topic);
      if (messages === undefined) {
        messages = [];
        byTopic.set(entry.topic, messages);
      }
      messages.push(entry.message);
    }
    const topicMessages: TopicMessages[] = [];
    const sizes: [TopicName, number][] = [];
    for (const [topic, messages] of byTopic) {
      topicMessages.push({ topic, messages });
      sizes.push([topic, messages.length]);
      this.options.metrics?.produceBatch.observe({ topic }, messages.length);
    }
    const started = performance.now();
    // One guard timer per batch: a send that outlives the produce timeout fails its callers.
    let guard: NodeJS.Timeout | null = null;
    const timedOut = new Promise<never>((_, reject) => {
      guard = setTimeout(
        () => reject(new ProduceError(`produce not acknowledged within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    try {
      await Promise.race([
        this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.timeoutMs }),
        timedOut,
      ]);
      const info: SendInfo = { sizes, latencySec: (performance.now() - started) / 1000 };
      this.options.metrics?.produceLatency.observe(info.latencySec);
      for (const entry of batch) settle(entry, info);
    } catch (cause) {
      this.options.metrics?.produceErrors.inc();
      this.options.log.warn(
        { err: loggableError(cause), code: 'SAYLAU_ERR_PRODUCE', records: batch.length },
        'kafka produce failed',
      );
      const error = new ProduceError('kafka produce failed', { cause });
      for (const entry of batch) settle(entry, error);
    } finally {
      if (guard !== null) clearTimeout(guard);
    }
  }

  /** Fisher–Yates with crypto-random indices: arrival order must not be guessable. */
  private shuffle(batch: Entry[]): void {
    for (let i = batch.length - 1; i > 0; i--) {
      randomFillSync(this.shuffleBits);
      const j = this.shuffleBits[0]! % (i + 1);
      const swap = batch[i]!;
      batch[i] = batch[j]!;
      batch[j] = swap;
    }
  }
}

function settle(entry: Entry, outcome: SendInfo | Error): void {
  if (entry.settled) return;
  entry.settled = true;
  if (outcome instanceof Error) entry.reject(outcome);
  else entry.resolve(outcome);
}
