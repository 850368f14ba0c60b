/**
 * The commission's events as signed records, and the one reader every
 * service follows them with.
 *
 *   operator (CLI) ── signEvent(unsigned, operators/<id>.pem) ──► admin API ──► election-events/0
 *                                                                                  │
 *   ingest · publisher · admin ◄── ElectionEventsFollower: parse → shape → signature → applyEvent
 *
 * An event is signed by its operator's Ed25519 key over `eventSignedBytes`
 * (canonical JSON without `signature`) and checked with the operator's
 * public key from `public/operator-keys.json`. The follower reads partition 0
 * from the election's log start (`log-start.json`, else offset 0, skipping
 * other elections' events), long-polls (a fetch waits at most 500 ms) so an
 * event takes effect within about a second, and skips an event that fails
 * parsing, shape, signature or transition: logged once, counted, never
 * blocking (it cannot be taken back from Kafka).
 */
import { type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Config } from '../common/config.js';
import { LogReader, partitionKey } from '../common/kafka/log-reader.js';
import type { Logger } from '../common/log.js';
import {
  ELECTION_EVENTS_PARTITION,
  type ElectionEventRecord,
  eventSignedBytes,
  TOPICS,
  type UnsignedElectionEvent,
} from '../common/records.js';
import {
  applyEvent,
  type ElectionState,
  eventShapeProblem,
  initialState,
  isRefusal,
} from './election-state.js';
import type { OperatorKeys } from './keys.js';
import type { ElectionIndex } from './load.js';
import { readLogStart } from './log-start.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A fresh event id: `E-` and 10 random base32 characters (50 bits). */
export function newEventId(): string {
  const bytes = randomBytes(10);
  let id = 'E-';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

/** Signs an event with its operator's private key (Ed25519, base64url). */
export function signEvent(unsigned: UnsignedElectionEvent, privateKey: KeyObject): ElectionEventRecord {
  const signature = sign(null, eventSignedBytes(unsigned), privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/** Why `record`'s signature does not hold for its operator (`by`), or null. */
export function eventSignatureProblem(keys: OperatorKeys, record: ElectionEventRecord): string | null {
  const key = keys.get(record.by);
  if (key === undefined) return `"${record.by}" is not an operator with a key`;
  let ok = false;
  try {
    ok = verify(null, eventSignedBytes(record), key.publicKey, Buffer.from(record.signature, 'base64url'));
  } catch {
    ok = false;
  }
  return ok ? null : `the signature is not ${record.by}'s`;
}

/** Why an event read from the log is skipped: what the follower counts and logs. */
export type SkipReason = 'unreadable' | 'invalid' | 'signature' | `transition:${string}`;

export interface FollowerOptions {
  readonly brokers: readonly string[];
  readonly stackDir: string;
  readonly election: ElectionIndex;
  readonly keys: OperatorKeys;
  readonly log: Logger;
  readonly clientId?: string;
}

/** What a follower tells its listeners. */
export interface ElectionEventsFollowerEvents {
  change: [state: ElectionState, event: ElectionEventRecord, offset: number];
  skip: [reason: SkipReason, offset: number];
}

/**
 * Follows `election-events/0` for one election. `start()` resolves once the
 * events written before it are applied, so a service that awaits it starts
 * with the election's current state; later events arrive as `change`.
 */
export class ElectionEventsFollower extends EventEmitter<ElectionEventsFollowerEvents> {
  readonly #o: FollowerOptions;
  readonly #reader: LogReader;
  #state: ElectionState;
  /** The next offset of election-events/0 to read. */
  #position = 0;
  #skipped = 0;
  /** Applied event id → its offset in election-events/0. */
  readonly #offsets = new Map<string, number>();

  constructor(options: FollowerOptions) {
    super();
    this.#o = options;
    this.#state = initialState(options.election);
    this.#reader = new LogReader({
      brokers: options.brokers,
      clientId: options.clientId ?? 'saylau-election-events',
      log: options.log,
      maxWaitMs: 500,
    });
  }

  /** From a service's settings. */
  static fromConfig(
    config: Config,
    options: Omit<FollowerOptions, 'brokers' | 'stackDir'>,
  ): ElectionEventsFollower {
    return new ElectionEventsFollower({
      ...options,
      brokers: config.kafka.brokers,
      stackDir: config.stackDir,
    });
  }

  state(): ElectionState {
    return this.#state;
  }

  /** The offset of an applied event, or undefined. */
  offsetOf(id: string): number | undefined {
    return this.#offsets.get(id);
  }

  /** Events skipped so far (bad record, bad signature, refused transition). */
  get skipped(): number {
    return this.#skipped;
  }

  /** The next offset of `election-events/0` to be read. */
  get position(): number {
    return this.#position;
  }

  /** Why the reader is behind, or null (see LogReader.problem). */
  get problem(): string | null {
    return this.#reader.problem;
  }

  /** Reads from the log start, applies everything already written, then follows the tail. */
  async start(timeoutMs = 30_000): Promise<void> {
    const topic = TOPICS.electionEvents;
    const partition = ELECTION_EVENTS_PARTITION;
    const tp = partitionKey(topic, partition);
    const from = (await readLogStart(this.#o.stackDir, this.#o.election.id)).get(tp) ?? 0;
    const end = (await this.#reader.endOffsets([topic])).get(tp) ?? 0;
    this.#position = from;
    this.#reader.seek(topic, partition, from, null);
    this.#reader.start((batch) => {
      for (const r of batch.records) this.#take(r.offset, r.value);
      this.#position = Math.max(this.#position, batch.records.at(-1)!.offset + 1);
    });
    const deadline = Date.now() + timeoutMs;
    while (this.#position < end) {
      if (Date.now() > deadline)
        throw new Error(`election events: not caught up to offset ${end} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves once every event up to `offset` (exclusive) has been read. */
  async caughtUp(offset: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#position < offset) {
      if (Date.now() > deadline)
        throw new Error(`election events: offset ${offset} not read in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): Promise<void> {
    return this.#reader.close();
  }

  #take(offset: number, value: Buffer | null): void {
    const skip = this.#apply(offset, value);
    if (skip !== null) this.#skip(skip[0], offset, skip[1], skip[2]);
  }

  /** Applies one record; returns why it is skipped, or null (applied, another election's, or a redelivery). */
  #apply(offset: number, value: Buffer | null): [SkipReason, string, string?] | null {
    let record: ElectionEventRecord;
    try {
      record = JSON.parse(value?.toString('utf8') ?? 'null') as ElectionEventRecord;
    } catch {
      return ['unreadable', 'not JSON'];
    }
    // Other elections share the topic: not ours, not a problem.
    if (record?.election !== this.#o.election.id) return null;
    const shape = eventShapeProblem(this.#o.election, record);
    if (shape !== null) return ['invalid', shape, record.id];
    const signature = eventSignatureProblem(this.#o.keys, record);
    if (signature !== null) return ['signature', signature, record.id];
    const next = applyEvent(this.#state, this.#o.election, record);
    if (isRefusal(next)) {
      // A producer's retry writes the same event twice: the second is no news.
      if (next.refused === 'event_repeated') return null;
      return [`transition:${next.refused}`, next.message, record.id];
    }
    this.#state = next;
    this.#offsets.set(record.id, offset);
    try {
      this.emit('change', next, record, offset);
    } catch (err) {
      // A listener's bug must not stop the stream every other listener depends on.
      this.#o.log.error(
        { err, id: record.id, code: 'SAYLAU_ERR_ELECTION_EVENT_LISTENER' },
        'election event listener failed',
      );
    }
    return null;
  }

  #skip(reason: SkipReason, offset: number, message: string, id?: string): void {
    this.#skipped++;
    this.#o.log.warn(
      { offset, id, reason, code: 'SAYLAU_ERR_ELECTION_EVENT_SKIPPED' },
      `election event skipped: ${message}`,
    );
    this.emit('skip', reason, offset);
  }
}
