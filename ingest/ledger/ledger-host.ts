/**
 * The producing side of the ledger, one per host (in the ingest supervisor,
 * or in `server.ts` run alone): the record log (the producer) and the
 * follower (the log's reader), joined so that a write is answered only with
 * what the log itself says.
 *
 *   write(entry) ─► [ballots: mix] ─► record log ──acked at offset N──► follower: record at N is ours?
 *                      │                                 ├─ yes ─► first | same | conflict
 *                      │                                 ├─ no  ─► alarm, produce again (twice at most)
 *                      │                                 └─ not reached by the deadline ─► unknown
 *                      ├─ unsent (never left) ─► unsent
 *                      └─ no answer ─────────► unknown
 *
 * Ballots wait in the mix (mix.ts) for their district's batch before they go
 * to the record log; the deadline still runs meanwhile (the mix's T is at
 * most a quarter of it, common/config.ts), and nothing else changes: the
 * verdict is still what the log says, read back.
 */
import { Redis } from 'ioredis';
import type { Config } from '../../common/config.js';
import { LogReader } from '../../common/kafka/log-reader.js';
import { type Logger, loggableError } from '../../common/log.js';
import { type ElectionIndex, type RollKeys, readLogStart, restoreRoll } from '../../election/index.js';
import type { LedgerEntry } from './entries.js';
import { LEDGER_TOPICS, LedgerFollower } from './follower.js';
import { IndexStore, type RedisTimer } from './index-store.js';
import { Mix, type MixInfo } from './mix.js';
import { RecordLog, recordLogOptions, type SendInfo, type SendOutcome } from './record-log.js';

/** The answer to one write. */
export type Verdict = 'first' | 'same' | 'conflict' | 'unsent' | 'unknown';

/** Counters an operator must see (`/readyz` detail, metrics). */
export interface LedgerAlarms {
  /** Acks whose offset held another record, or was not new for its partition. */
  readonly unverifiedAcks: number;
  /** Acks the follower could not confirm before the deadline. */
  readonly unconfirmed: number;
  /** Regions whose index was rebuilt from Kafka since start. */
  readonly rebuilds: number;
}

export interface LedgerState {
  readonly kafka: boolean;
  /** Regions whose Redis index is being rebuilt; writes there answer `503 rebuilding`. */
  readonly rebuilding: readonly string[];
  /**
   * Null while the follower keeps the index up with the log; else why not
   * (`stopped: <code>`, `stalled: <code> <partitions>`, `log-start outside the log: …`):
   * writes it cannot confirm answer 503.
   */
  readonly follower: string | null;
  readonly alarms: LedgerAlarms;
}

/** A ledger sink as the routes see it: this host, or a relay to the supervisor's (relay-client.ts). */
export interface LedgerSink {
  write(entry: LedgerEntry, deadline: number): Promise<Verdict>;
  /** Shutdown: ballots held in the mix go to the log now, and later ones are not held. */
  releaseMix(): void;
  readonly state: LedgerState;
  /** Waits for writes under way; then releases what it holds. */
  close(): Promise<void>;
}

export interface LedgerHostOptions {
  readonly config: Config;
  readonly election: ElectionIndex;
  /** The pepper, to restore the roll into an emptied Redis. */
  readonly keys: RollKeys;
  readonly log: Logger;
  /** Every settled Kafka send (metrics). */
  readonly onSend?: (info: SendInfo) => void;
  /** Every ballot mix batch released (metrics). */
  readonly onMix?: (info: MixInfo) => void;
  readonly timer?: RedisTimer;
}

/** A record waiting in the mix for its batch. */
interface Held {
  readonly entry: LedgerEntry;
  readonly deadline: number;
  readonly resolve: (outcome: SendOutcome) => void;
}

/** Produce again at most this often when an ack's offset does not hold the record. */
const MAX_REPRODUCE = 2;

export class LedgerHost implements LedgerSink {
  readonly #redis: Redis;
  readonly #records: RecordLog;
  readonly #mix: Mix<Held>;
  readonly #reader: LogReader;
  readonly #o: LedgerHostOptions;
  #follower: LedgerFollower | null = null;
  #unverifiedAcks = 0;
  #unconfirmed = 0;
  #rebuilds = 0;
  #writing = 0;
  #drained: (() => void) | null = null;

  constructor(options: LedgerHostOptions) {
    this.#o = options;
    const { config, log } = options;
    this.#redis = new Redis({
      host: config.redis.host,
      port: config.redis.port,
      enableAutoPipelining: true,
      // The follower retries its own batches; a command must not hang the reader forever.
      maxRetriesPerRequest: 2,
      lazyConnect: true,
    });
    this.#redis.on('error', (err) =>
      log.warn({ err: loggableError(err), code: 'SAYLAU_ERR_REDIS' }, 'redis error (ledger host)'),
    );
    this.#records = new RecordLog(
      recordLogOptions(config, log, {
        onSend: (info) => options.onSend?.(info),
        onStaleAck: (topic, partition) => {
          this.#unverifiedAcks++;
          log.error(
            { topic, partition, code: 'SAYLAU_ERR_STALE_ACK' },
            'kafka acknowledged an offset that is not new',
          );
        },
      }),
    );
    this.#mix = new Mix<Held>({
      minBallots: config.ingest.mixMinBallots,
      maxWaitMs: config.ingest.mixMaxWaitMs,
      // In the shuffled order, in one turn: the record log takes them into one batch.
      release: (batch) => {
        // A write that threw may still have reached the log: unknown, never unsent (and never unsettled).
        for (const held of batch)
          this.#append(held.entry, held.deadline).then(held.resolve, () =>
            held.resolve({ kind: 'unknown', offset: -1 }),
          );
      },
      onBatch: (info) => options.onMix?.(info),
    });
    this.#reader = new LogReader({
      brokers: config.kafka.brokers,
      clientId: 'saylau-ledger',
      log,
      maxWaitMs: 200,
    });
  }

  get state(): LedgerState {
    return {
      kafka: this.#records.ready,
      rebuilding: this.#follower?.rebuilding ?? [],
      follower: this.#follower === null ? 'not started' : this.#follower.problem,
      alarms: {
        unverifiedAcks: this.#unverifiedAcks,
        unconfirmed: this.#unconfirmed,
        rebuilds: this.#rebuilds,
      },
    };
  }

  /** Connects Redis and Kafka and starts the follower (rebuilding the index first if Redis lost it). */
  async start(): Promise<void> {
    const { config, election, keys, log } = this.#o;
    // Retried by the supervisor until Kafka and Redis answer: connect what is not yet connected.
    if (this.#redis.status === 'wait') await this.#redis.connect();
    await this.#records.connect(LEDGER_TOPICS, election.partitionCount);
    const index = new IndexStore(this.#redis, {
      election: election.id,
      pendingTtlMs: config.ingest.pendingTtlMs,
      busyMs: config.ingest.produceTimeoutMs,
      timer: this.#o.timer ?? (() => undefined),
    });
    this.#follower = new LedgerFollower({
      reader: this.#reader,
      index,
      election,
      logStart: await readLogStart(config.stackDir, election.id),
      restoreRoll: async () => {
        const restored = await restoreRoll(config.stackDir, this.#redis, election, keys);
        if (restored.action === 'loaded')
          log.warn({ members: restored.meta.count }, 'roll restored into Redis');
      },
      log,
      onRebuilt: () => {
        this.#rebuilds++;
      },
    });
    await this.#follower.start();
  }

  async write(entry: LedgerEntry, deadline: number): Promise<Verdict> {
    this.#writing++;
    try {
      return await this.#write(entry, deadline);
    } finally {
      this.#writing--;
      if (this.#writing === 0) this.#drained?.();
    }
  }

  async #write(entry: LedgerEntry, deadline: number): Promise<Verdict> {
    const follower = this.#follower;
    if (follower === null) return 'unsent';
    for (let attempt = 0; attempt <= MAX_REPRODUCE; attempt++) {
      const outcome = await this.#appendMixed(entry, deadline);
      if (outcome.kind === 'unsent') return attempt === 0 ? 'unsent' : 'unknown';
      if (outcome.kind === 'unknown') return 'unknown';
      const seen = await follower.confirm(
        entry.topic,
        entry.partition,
        outcome.offset,
        entry.key,
        entry.hash,
        deadline,
      );
      if (seen === 'first' || seen === 'same' || seen === 'conflict') return seen;
      if (seen !== 'absent') {
        this.#unconfirmed++;
        return 'unknown';
      }
      this.#unverifiedAcks++;
      this.#o.log.error(
        {
          topic: entry.topic,
          partition: entry.partition,
          offset: outcome.offset,
          code: 'SAYLAU_ERR_ACK_NOT_IN_LOG',
        },
        'kafka acknowledged a record that is not at its offset; producing it again',
      );
      if (Date.now() >= deadline) break;
    }
    return 'unknown';
  }

  /** Ballots through the mix (a re-produce too: a record alone in a request would show when it came). */
  #appendMixed(entry: LedgerEntry, deadline: number): Promise<SendOutcome> {
    const group = entry.mix;
    if (group === null) return this.#append(entry, deadline);
    return new Promise<SendOutcome>((resolve) => this.#mix.hold(group, { entry, deadline, resolve }));
  }

  #append(entry: LedgerEntry, deadline: number): Promise<SendOutcome> {
    return this.#records.append(entry.topic, entry.partition, entry.value, entry.timestampMs, deadline);
  }

  releaseMix(): void {
    this.#mix.close();
  }

  /** Releases the mix (nothing held stays behind), waits for writes under way, then closes. */
  async close(): Promise<void> {
    this.releaseMix();
    if (this.#writing > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    await this.#records.close();
    await this.#follower?.close();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
