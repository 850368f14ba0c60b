/**
 * Writes one signed election event to `election-events` partition 0
 * (acks=all, key = the event's id) and confirms it by reading it back: the
 * service's own {@link ElectionEventsFollower} must have read the record at
 * the acknowledged offset and applied it, so the answer the operator gets is
 * what every other reader of the log will see.
 *
 * Not the ledger's RecordLog (ingest/ledger): that one batches, shuffles and
 * writes keyless records for a voting host's whole traffic, and election/ may
 * not import ingest/. One event at a time needs none of that: a plain
 * producer, and the follower as the read-back.
 *
 * A send that fails may still have reached the log: the caller answers 503
 * and the operator resends the same signed event (same id), which is then
 * found already applied ("repeated") or written again (a duplicate id in the
 * log is one event: readers skip the second silently).
 */
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { type Logger, loggableError } from '../../common/log.js';
import { ELECTION_EVENTS_PARTITION, type ElectionEventRecord, TOPICS } from '../../common/records.js';
import type { ElectionEventsFollower } from '../election-events.js';
import type { TriageWriter } from './reports-book.js';

/** What became of a write: applied (at the offset of its first copy), or in the log but refused by the state. */
export interface WriteOutcome {
  readonly applied: boolean;
  readonly offset: number;
}

export interface EventLogOptions {
  readonly brokers: readonly string[];
  readonly follower: ElectionEventsFollower;
  readonly log: Logger;
  /** Send and read-back together. @default 10000 */
  readonly timeoutMs?: number;
}

export class EventLog implements TriageWriter {
  readonly #producer: Producer;
  readonly #o: EventLogOptions;
  readonly #timeoutMs: number;

  constructor(options: EventLogOptions) {
    this.#o = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#producer = new Producer({
      clientId: 'saylau-admin',
      bootstrapBrokers: [...options.brokers],
      idempotent: false,
      // A retried send may write the event twice: the same id is one event to every reader.
      retries: 2,
      connectTimeout: 2_000,
      timeout: Math.floor(this.#timeoutMs / 2),
      requestTimeout: Math.floor(this.#timeoutMs / 2),
      autocreateTopics: false,
    });
  }

  /**
   * Writes and confirms. Throws when the send fails or the read-back does not
   * come in time: the event may or may not be in the log.
   */
  async write(record: ElectionEventRecord): Promise<WriteOutcome> {
    const started = Date.now();
    const offset = await this.produce(
      TOPICS.electionEvents,
      ELECTION_EVENTS_PARTITION,
      record.id,
      JSON.stringify(record),
      record.at,
    );
    await this.#o.follower.caughtUp(offset + 1, Math.max(1_000, this.#timeoutMs - (Date.now() - started)));
    // The follower applies the first record of an id: this one, or an earlier copy of it.
    const appliedAt = this.#o.follower.offsetOf(record.id);
    return appliedAt === undefined ? { applied: false, offset } : { applied: true, offset: appliedAt };
  }

  /** One record, acks=all; the acknowledged offset (also the reports book's triage writer). */
  async produce(
    topic: string,
    partition: number,
    key: string,
    value: string,
    timestampMs: number,
  ): Promise<number> {
    try {
      const result = await this.#producer.send({
        acks: ProduceAcks.ALL,
        messages: [
          {
            topic,
            partition,
            key: Buffer.from(key),
            value: Buffer.from(value),
            timestamp: BigInt(timestampMs),
          },
        ],
      });
      const offset = Number(result.offsets?.[0]?.offset ?? -1);
      if (offset < 0) throw new Error('the broker acknowledged no offset');
      return offset;
    } catch (error) {
      this.#o.log.error(
        { err: loggableError(error), topic, key, code: 'SAYLAU_ERR_KAFKA_WRITE' },
        'record not acknowledged',
      );
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => undefined);
  }
}
