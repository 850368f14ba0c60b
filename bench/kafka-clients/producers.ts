/**
 * The two clients behind `LedgerProducer`, each configured as the record log
 * configures kafkajs today (ingest/kafka/record-log.ts): acks=all on every
 * send, explicit partitions, no topic auto-creation, 5 retries backing off
 * 100 ms → 1 s, connect timeout 1 s, request timeout min(produce timeout,
 * 30 s), the produce timeout sent to the broker.
 *
 * - kafkajs 2.2.4: `producer.sendBatch({ topicMessages, acks: -1, timeout })`.
 * - @platformatic/kafka 1.35.0: `producer.send({ messages, acks: -1 })`. `acks`
 *   must be given to `send`: the constructor's `acks` is not read by `send`,
 *   whose default without idempotence is 1 (bench/README.md, observed
 *   behaviour). Values are strings serialised by the client, as kafkajs does.
 */
import { ProduceAcks, Producer, serializersFrom, stringSerializer } from '@platformatic/kafka';
import { Kafka, type Producer as KafkajsProducer, logLevel, type Message } from 'kafkajs';
import type { LedgerRecord } from './ballots.js';
import type { LedgerProducer } from './record-batcher.js';

/** `none`: the harness alone (record log loop, ticks, promises) with a fake 10 ms acknowledgement. */
export const CLIENTS = ['kafkajs', 'platformatic', 'none'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface ProducerSettings {
  readonly client: ClientName;
  readonly idempotent: boolean;
  readonly brokers: readonly string[];
  readonly topic: string;
  /** The record log's produce timeout (INGEST_PRODUCE_TIMEOUT_MS). */
  readonly timeoutMs: number;
}

const RETRIES = 5;
const backoffMs = (attempt: number): number => Math.min(1000, 100 * 2 ** Math.max(0, attempt - 1));

class Kafkajs implements LedgerProducer {
  readonly name: string;
  private readonly producer: KafkajsProducer;

  constructor(private readonly settings: ProducerSettings) {
    this.name = `kafkajs${settings.idempotent ? ' idempotent' : ''}`;
    const retry = { retries: RETRIES, initialRetryTime: 100, maxRetryTime: 1000 };
    const kafka = new Kafka({
      clientId: 'saylau-bench',
      brokers: [...settings.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: Math.min(settings.timeoutMs, 30_000),
      retry,
    });
    this.producer = kafka.producer({ idempotent: settings.idempotent, allowAutoTopicCreation: false, retry });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(records: readonly LedgerRecord[]): Promise<void> {
    const messages: Message[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      messages[i] = { partition: r.partition, value: r.value, timestamp: String(r.timestampMs) };
    }
    await this.producer.sendBatch({
      topicMessages: [{ topic: this.settings.topic, messages }],
      acks: -1,
      timeout: this.settings.timeoutMs,
    });
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

class Platformatic implements LedgerProducer {
  readonly name: string;
  private readonly producer: Producer<string, string, string, string>;

  constructor(private readonly settings: ProducerSettings) {
    this.name = `platformatic${settings.idempotent ? ' idempotent' : ''}`;
    this.producer = new Producer({
      clientId: 'saylau-bench',
      bootstrapBrokers: [...settings.brokers],
      idempotent: settings.idempotent,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      connectTimeout: 1000,
      requestTimeout: Math.min(settings.timeoutMs, 30_000),
      timeout: settings.timeoutMs,
      retries: RETRIES,
      retryDelay: (_client, _operation, attempt) => backoffMs(attempt),
      serializers: serializersFrom(stringSerializer),
    });
  }

  async connect(): Promise<void> {
    await this.producer.metadata({ topics: [this.settings.topic] });
    if (this.settings.idempotent) await this.producer.initIdempotentProducer({});
  }

  async send(records: readonly LedgerRecord[]): Promise<void> {
    const topic = this.settings.topic;
    const messages = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      messages[i] = { topic, partition: r.partition, value: r.value, timestamp: BigInt(r.timestampMs) };
    }
    await this.producer.send({ messages, acks: ProduceAcks.ALL });
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}

/**
 * No Kafka at all: each send is acknowledged 10 ms later (about an acks=all
 * round trip here). What this configuration costs is the benchmark's own
 * share of every other configuration's CPU.
 */
class HarnessOnly implements LedgerProducer {
  readonly name = 'harness only';

  connect(): Promise<void> {
    return Promise.resolve();
  }

  send(_records: readonly LedgerRecord[]): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 10));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function createProducer(settings: ProducerSettings): LedgerProducer {
  if (settings.client === 'kafkajs') return new Kafkajs(settings);
  if (settings.client === 'platformatic') return new Platformatic(settings);
  return new HarnessOnly();
}
