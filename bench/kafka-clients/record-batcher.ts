/**
 * The record log's batching loop (ingest/kafka/record-log.ts), with the
 * Kafka client behind a `LedgerProducer` so both clients run the very same
 * loop:
 *
 *   append() ─► pending[] ──(linger timer | maxBatch)──► shuffle ─► producer.send(acks=all)
 *      ▲                                                                  │
 *      └────────────── each caller awaits its own record's ack ◄──────────┘
 *
 * One timer, one send in flight, lingering after a send too, a batch
 * shuffled with crypto-random indices before it is sent: the same steps, in
 * the same order, as `RecordLog.kick`/`send`. The produce timeout guard is
 * left out (a benchmark run that fails a send is reported as failed).
 */
import { randomFillSync } from 'node:crypto';
import type { LedgerRecord } from './ballots.js';

/** What a Kafka client must do for the record log: one acks=all send of records to explicit partitions. */
export interface LedgerProducer {
  readonly name: string;
  connect(): Promise<void>;
  send(records: readonly LedgerRecord[]): Promise<void>;
  close(): Promise<void>;
}

class Entry {
  constructor(
    readonly record: LedgerRecord,
    readonly resolve: () => void,
    readonly reject: (error: Error) => void,
  ) {}
}

export class RecordBatcher {
  private pending: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private readonly shuffleBits = new Uint32Array(1);
  /** Sends made and records they carried (for the mean batch size). */
  sends = 0;
  sentRecords = 0;

  constructor(
    private readonly producer: LedgerProducer,
    private readonly lingerMs: number,
    private readonly maxBatch: number,
  ) {}

  append(record: LedgerRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push(new Entry(record, resolve, reject));
      if (this.pending.length >= this.maxBatch) this.kick();
      else if (this.timer === null) this.timer = setTimeout(this.kick, this.lingerMs);
    });
  }

  /** Sends everything pending and waits for every send in flight. */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.sending !== null) {
      if (this.sending === null) this.kick();
      await this.sending;
    }
  }

  private readonly kick = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sending !== null || this.pending.length === 0) return;
    let batch: Entry[];
    if (this.pending.length <= this.maxBatch) {
      batch = this.pending;
      this.pending = [];
    } else {
      batch = this.pending.slice(0, this.maxBatch);
      this.pending = this.pending.slice(this.maxBatch);
    }
    this.sending = this.send(batch).finally(() => {
      this.sending = null;
      if (this.pending.length >= this.maxBatch) this.kick();
      else if (this.pending.length > 0 && this.timer === null) {
        this.timer = setTimeout(this.kick, this.lingerMs);
      }
    });
  };

  private async send(batch: Entry[]): Promise<void> {
    this.shuffle(batch);
    const records: LedgerRecord[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) records[i] = batch[i]!.record;
    this.sends++;
    this.sentRecords += batch.length;
    try {
      await this.producer.send(records);
      for (const entry of batch) entry.resolve();
    } catch (cause) {
      const error = new Error(`${this.producer.name}: send of ${batch.length} records failed`, { cause });
      for (const entry of batch) entry.reject(error);
    }
  }

  /** Fisher–Yates with crypto-random indices, as the record log does. */
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
