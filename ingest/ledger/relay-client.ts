/**
 * A worker's ledger sink when the supervisor hosts the ledger: writes go up
 * the fork channel, verdicts come back. One producer and one follower per
 * host instead of one per worker means far fewer, larger produce requests —
 * with 8 workers (100k sessions) and a producer each, the three brokers
 * spent about a core on small requests at 1,050 ballots/s (docs/capacity.md).
 *
 *   write() ─► outbox ──(one message per event-loop turn)──► supervisor
 *      ▲                                                          │
 *      └──────────── verdict by id ◄──── verdicts message ◄───────┘
 *
 * A write is answered only from a verdict the supervisor's ledger gave. If
 * the channel closes, or a verdict is overdue (its deadline plus a margin),
 * the write is `unknown`: it may have been written, which the dedup key
 * (held for that record) allows for.
 */
import type { Logger } from 'pino';
import { loggableError } from '../../common/log.js';
import type { LedgerEntry } from './entries.js';
import type { LedgerSink, LedgerState, Verdict } from './ledger-host.js';
import type { MixInfo } from './mix.js';
import type { SendInfo } from './record-log.js';
import { type HostMessage, isHostMessage, type RelayedWrite } from './relay-protocol.js';

/** The fork channel (the `process` object in a worker). */
export interface RelayChannel {
  send?(message: unknown, callback: (error: Error | null) => void): boolean;
  readonly connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

export interface RelayClientOptions {
  readonly log: Logger;
  /** Kafka sends the supervisor made, for this worker's metrics. */
  readonly onSend: (info: SendInfo) => void;
  /** Ballot mix batches the supervisor released, likewise. */
  readonly onMix: (info: MixInfo) => void;
}

interface Waiter {
  readonly resolve: (verdict: Verdict) => void;
  readonly deadline: number;
}

/** A verdict may lag its deadline by IPC and the supervisor's own turn. */
const VERDICT_MARGIN_MS = 2_000;

const NO_STATE: LedgerState = {
  kafka: false,
  rebuilding: [],
  follower: 'not started',
  alarms: { unverifiedAcks: 0, unconfirmed: 0, rebuilds: 0 },
};

export class RelayClient implements LedgerSink {
  #nextId = 1;
  readonly #waiting = new Map<number, Waiter>();
  #outbox: RelayedWrite[] = [];
  #scheduled = false;
  #state: LedgerState = NO_STATE;
  readonly #sweeper: NodeJS.Timeout;
  #drained: (() => void) | null = null;

  constructor(
    private readonly channel: RelayChannel,
    private readonly options: RelayClientOptions,
  ) {
    channel.on('message', (message) => {
      if (isHostMessage(message)) this.#receive(message);
    });
    channel.on('disconnect', () => this.#failAll());
    // One timer for every waiter: a verdict overdue past its deadline is unknown.
    this.#sweeper = setInterval(() => this.#sweep(), 1_000);
    this.#sweeper.unref();
  }

  get state(): LedgerState {
    return this.channel.connected === true ? this.#state : NO_STATE;
  }

  write(entry: LedgerEntry, deadline: number): Promise<Verdict> {
    if (this.channel.connected !== true) return Promise.resolve('unsent');
    const id = this.#nextId++;
    const { topic, partition, value, timestampMs, region, mix, key, hash, done } = entry;
    this.#outbox.push([id, topic, partition, value, timestampMs, region, mix, key, hash, done, deadline]);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#post);
    }
    return new Promise<Verdict>((resolve) => {
      this.#waiting.set(id, { resolve, deadline });
    });
  }

  releaseMix(): void {
    // Nothing held here: the mix is the supervisor's, released as it starts stopping (main.ts).
  }

  async close(): Promise<void> {
    if (this.#waiting.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    clearInterval(this.#sweeper);
  }

  readonly #post = (): void => {
    this.#scheduled = false;
    const writes = this.#outbox;
    this.#outbox = [];
    if (writes.length === 0) return;
    if (this.channel.connected !== true || this.channel.send === undefined) {
      // Nothing left this process: the supervisor never saw these writes.
      for (const [id] of writes) this.#take(id)?.resolve('unsent');
      this.#checkDrained();
      return;
    }
    // With a callback, a closed channel is reported here instead of as an 'error' event.
    this.channel.send({ type: 'writes', writes }, (error) => {
      if (error === null) return;
      this.options.log.warn(
        { err: loggableError(error), code: 'SAYLAU_ERR_RELAY' },
        'could not hand writes to the supervisor',
      );
      // The channel may have carried part of the message before it failed.
      for (const [id] of writes) this.#take(id)?.resolve('unknown');
      this.#checkDrained();
    });
  };

  #receive(message: HostMessage): void {
    if (message.type === 'state') {
      this.#state = message.state;
      return;
    }
    for (const send of message.sends) this.options.onSend(send);
    for (const mix of message.mixes) this.options.onMix(mix);
    for (const [id, verdict] of message.verdicts) this.#take(id)?.resolve(verdict);
    this.#checkDrained();
  }

  #take(id: number): Waiter | undefined {
    const waiter = this.#waiting.get(id);
    this.#waiting.delete(id);
    return waiter;
  }

  #sweep(): void {
    const overdue = Date.now() - VERDICT_MARGIN_MS;
    for (const [id, waiter] of this.#waiting) {
      if (waiter.deadline > overdue) continue;
      this.#waiting.delete(id);
      waiter.resolve('unknown');
    }
    this.#checkDrained();
  }

  /** The supervisor is gone: whatever it had not answered may or may not be in the log. */
  #failAll(): void {
    for (const waiter of this.#waiting.values()) waiter.resolve('unknown');
    this.#waiting.clear();
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#waiting.size === 0 && this.#drained !== null) {
      this.#drained();
      this.#drained = null;
    }
  }
}
