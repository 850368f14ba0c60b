/**
 * The supervisor's side of the record relay: one RecordLog (one kafkajs
 * producer) appends the records every worker sends up, and each worker gets
 * its acks back, one message per event-loop turn. Readiness (Kafka reachable)
 * is pushed to workers when it changes, and to each worker when it attaches.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { RecordLog, SendInfo } from './record-log.js';
import { type AcksMessage, isRecordsMessage, type KafkaStateMessage } from './relay-protocol.js';

interface Outgoing {
  ok: number[];
  failed: [number, string][];
  sends: Set<SendInfo>;
}

export class RelayHost {
  private readonly workers = new Set<ChildProcess>();
  private readonly outgoing = new Map<ChildProcess, Outgoing>();
  private scheduled = false;
  private lastReady: boolean;
  private readonly watcher: NodeJS.Timeout;

  constructor(
    private readonly records: RecordLog,
    private readonly log: Logger,
  ) {
    this.lastReady = records.ready;
    this.watcher = setInterval(() => {
      if (this.records.ready !== this.lastReady) {
        this.lastReady = this.records.ready;
        for (const worker of this.workers) this.sendState(worker);
      }
    }, 500);
    this.watcher.unref();
  }

  attach(worker: ChildProcess): void {
    this.workers.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isRecordsMessage(message)) return;
      for (const [id, topic, partition, value, timestampMs] of message.records) {
        this.records.appendWithInfo(topic, partition, value, timestampMs).then(
          (info) => {
            const out = this.queue(worker);
            out.ok.push(id);
            out.sends.add(info);
          },
          (error: unknown) => {
            this.queue(worker).failed.push([id, error instanceof Error ? error.message : String(error)]);
          },
        );
      }
    });
    worker.on('exit', () => {
      this.workers.delete(worker);
      this.outgoing.delete(worker);
    });
    this.sendState(worker);
  }

  /** Stops pushing state; the RecordLog is the caller's to close. */
  stop(): void {
    clearInterval(this.watcher);
  }

  private queue(worker: ChildProcess): Outgoing {
    let out = this.outgoing.get(worker);
    if (out === undefined) {
      out = { ok: [], failed: [], sends: new Set() };
      this.outgoing.set(worker, out);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.post);
    }
    return out;
  }

  private readonly post = (): void => {
    this.scheduled = false;
    for (const [worker, out] of this.outgoing) {
      const message: AcksMessage = { type: 'acks', ok: out.ok, failed: out.failed, sends: [...out.sends] };
      this.deliver(worker, message);
    }
    this.outgoing.clear();
  };

  private sendState(worker: ChildProcess): void {
    const message: KafkaStateMessage = { type: 'kafka', ready: this.records.ready };
    this.deliver(worker, message);
  }

  private deliver(worker: ChildProcess, message: AcksMessage | KafkaStateMessage): void {
    if (!worker.connected) return;
    // With a callback, a closed channel is reported here instead of as an 'error' event.
    worker.send(message, (error) => {
      if (error) this.log.warn({ err: error, code: 'SAYLAU_ERR_RELAY' }, 'could not answer an ingest worker');
    });
  }
}
