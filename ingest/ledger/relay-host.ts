/**
 * The supervisor's side of the ledger relay: the host's one LedgerHost (one
 * producer, one follower) takes the writes every worker sends up, and each
 * worker gets its verdicts back, one message per event-loop turn. The
 * ledger's state (Kafka reachable, regions rebuilding, alarms) is pushed to
 * every worker when it changes and to each worker when it attaches.
 *
 * Kafka send and mix metrics: each send or mix batch is forwarded to one
 * worker only, so summing the workers' `/metrics` gives the host's once.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { loggableError } from '../../common/log.js';
import type { LedgerHost, LedgerState, Verdict } from './ledger-host.js';
import type { MixInfo } from './mix.js';
import type { SendInfo } from './record-log.js';
import { isWritesMessage, type StateMessage, type VerdictsMessage } from './relay-protocol.js';

interface Outgoing {
  verdicts: [number, Verdict][];
  sends: SendInfo[];
  mixes: MixInfo[];
}

export class RelayHost {
  readonly #workers = new Set<ChildProcess>();
  readonly #outgoing = new Map<ChildProcess, Outgoing>();
  #scheduled = false;
  #lastState = '';
  readonly #watcher: NodeJS.Timeout;

  constructor(
    private readonly host: LedgerHost,
    private readonly log: Logger,
  ) {
    this.#watcher = setInterval(() => {
      const state = JSON.stringify(this.host.state);
      if (state === this.#lastState) return;
      this.#lastState = state;
      for (const worker of this.#workers) this.#sendState(worker);
    }, 250);
    this.#watcher.unref();
  }

  attach(worker: ChildProcess): void {
    this.#workers.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isWritesMessage(message)) return;
      for (const [
        id,
        topic,
        partition,
        value,
        timestampMs,
        region,
        mix,
        key,
        hash,
        done,
        deadline,
      ] of message.writes) {
        const entry = { topic, partition, value, timestampMs, region, mix, key, hash, done };
        this.host.write(entry, deadline).then(
          (verdict) => this.#queue(worker).verdicts.push([id, verdict]),
          (error: unknown) => {
            this.log.error(
              { err: loggableError(error), code: 'SAYLAU_ERR_LEDGER' },
              'ledger write failed unexpectedly',
            );
            this.#queue(worker).verdicts.push([id, 'unknown']);
          },
        );
      }
    });
    worker.on('exit', () => {
      this.#workers.delete(worker);
      this.#outgoing.delete(worker);
    });
    this.#sendState(worker);
  }

  /** A Kafka send, for one worker's metrics. */
  countSend(info: SendInfo): void {
    const first = this.#workers.values().next();
    if (!first.done) this.#queue(first.value).sends.push(info);
  }

  /** A ballot mix batch, for one worker's metrics. */
  countMix(info: MixInfo): void {
    const first = this.#workers.values().next();
    if (!first.done) this.#queue(first.value).mixes.push(info);
  }

  /** Stops pushing state; the LedgerHost is the caller's to close. */
  stop(): void {
    clearInterval(this.#watcher);
  }

  #queue(worker: ChildProcess): Outgoing {
    let out = this.#outgoing.get(worker);
    if (out === undefined) {
      out = { verdicts: [], sends: [], mixes: [] };
      this.#outgoing.set(worker, out);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#post);
    }
    return out;
  }

  readonly #post = (): void => {
    this.#scheduled = false;
    for (const [worker, out] of this.#outgoing) {
      const message: VerdictsMessage = {
        type: 'verdicts',
        verdicts: out.verdicts,
        sends: out.sends,
        mixes: out.mixes,
      };
      this.#deliver(worker, message);
    }
    this.#outgoing.clear();
  };

  #sendState(worker: ChildProcess): void {
    const state: LedgerState = this.host.state;
    const message: StateMessage = { type: 'state', state };
    this.#deliver(worker, message);
  }

  #deliver(worker: ChildProcess, message: VerdictsMessage | StateMessage): void {
    if (!worker.connected) return;
    // With a callback, a closed channel is reported here instead of as an 'error' event.
    worker.send(message, (error) => {
      if (error)
        this.log.warn(
          { err: loggableError(error), code: 'SAYLAU_ERR_RELAY' },
          'could not answer an ingest worker',
        );
    });
  }
}
