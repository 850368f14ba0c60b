/**
 * A worker's record sink when the supervisor owns the Kafka producer: records
 * go up the fork channel, acknowledgements come back. One producer per host
 * instead of one per worker means far fewer, larger produce requests — with
 * 8 workers (100k sessions) and one producer each, the three Kafka brokers
 * spent about a core on small requests at 1,050 ballots/s (docs/capacity.md).
 *
 *   append() ─► outbox ──(one message per event-loop turn)──► supervisor
 *      ▲                                                          │
 *      └──────── ack / failure by id ◄────── acks message ◄───────┘
 *
 * A record is answered only from an ack the supervisor got from Kafka. If the
 * channel closes, or an ack is overdue by the produce timeout plus a margin,
 * the waiting callers fail (the route answers 503; the record may or may not
 * have been written, which the dedup keys allow for).
 */
import type { Logger } from 'pino';
import type { TopicName } from '../../common/records.js';
import { ProduceError, type ProduceMetrics, type RecordSink } from './record-log.js';
import { type AcksMessage, type HostMessage, isHostMessage, type RelayedRecord } from './relay-protocol.js';

/** The fork channel (the `process` object in a worker). */
export interface RelayChannel {
  send?(message: unknown, callback: (error: Error | null) => void): boolean;
  readonly connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

export interface RelayClientOptions {
  readonly timeoutMs: number;
  readonly metrics: ProduceMetrics;
  readonly log: Logger;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly since: number;
}

/** An ack may lag Kafka's own timeout by IPC and the supervisor's batching. */
const ACK_MARGIN_MS = 2_000;

export class RelayClient implements RecordSink {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private outbox: RelayedRecord[] = [];
  private scheduled = false;
  private kafkaReady = false;
  private readonly sweeper: NodeJS.Timeout;
  private drained: (() => void) | null = null;

  constructor(
    private readonly channel: RelayChannel,
    private readonly options: RelayClientOptions,
  ) {
    channel.on('message', (message) => {
      if (isHostMessage(message)) this.receive(message);
    });
    channel.on('disconnect', () => this.failAll('the supervisor is gone'));
    // One timer for every waiter: fail records whose ack is overdue.
    this.sweeper = setInterval(() => this.sweep(), 1_000);
    this.sweeper.unref();
  }

  get ready(): boolean {
    return this.kafkaReady && this.channel.connected === true;
  }

  append(topic: TopicName, partition: number, value: string, timestampMs: number): Promise<void> {
    if (this.channel.connected !== true) {
      return Promise.reject(new ProduceError('kafka produce failed: the supervisor is gone'));
    }
    const id = this.nextId++;
    this.outbox.push([id, topic, partition, value, timestampMs]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.post);
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, since: performance.now() });
    });
  }

  async close(): Promise<void> {
    if (this.waiting.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    clearInterval(this.sweeper);
  }

  private readonly post = (): void => {
    this.scheduled = false;
    const records = this.outbox;
    this.outbox = [];
    if (records.length === 0) return;
    if (this.channel.connected !== true || this.channel.send === undefined) {
      this.failAll('the supervisor is gone');
      return;
    }
    // With a callback, a closed channel is reported here instead of as an 'error' event.
    this.channel.send({ type: 'records', records }, (error) => {
      if (error === null) return;
      this.options.log.warn(
        { err: error, code: 'SAYLAU_ERR_RELAY' },
        'could not hand records to the supervisor',
      );
      for (const [id] of records)
        this.take(id)?.reject(new ProduceError('kafka produce failed: relay closed'));
      this.checkDrained();
    });
  };

  private receive(message: HostMessage): void {
    if (message.type === 'kafka') {
      this.kafkaReady = message.ready;
      return;
    }
    this.observe(message);
    for (const id of message.ok) this.take(id)?.resolve();
    for (const [id, reason] of message.failed) this.take(id)?.reject(new ProduceError(reason));
    this.checkDrained();
  }

  private observe(message: AcksMessage): void {
    const { metrics } = this.options;
    for (const send of message.sends) {
      metrics.produceLatency.observe(send.latencySec);
      for (const [topic, size] of send.sizes) metrics.produceBatch.observe({ topic }, size);
    }
    if (message.failed.length > 0) metrics.produceErrors.inc();
  }

  private take(id: number): Waiter | undefined {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    return waiter;
  }

  private sweep(): void {
    const overdue = performance.now() - this.options.timeoutMs - ACK_MARGIN_MS;
    for (const [id, waiter] of this.waiting) {
      if (waiter.since > overdue) break; // insertion order: the rest are younger
      this.waiting.delete(id);
      waiter.reject(new ProduceError(`produce not acknowledged within ${this.options.timeoutMs} ms`));
    }
    this.checkDrained();
  }

  private failAll(reason: string): void {
    const error = new ProduceError(`kafka produce failed: ${reason}`);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    this.kafkaReady = false;
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.waiting.size === 0 && this.drained !== null) {
      this.drained();
      this.drained = null;
    }
  }
}
