/**
 * The ingest health beacon (observers' live view, issue 16): every 2 s each
 * ingest process writes `SET ingest:health:<hostname>:<pid> <json> EX 10`,
 * so the publisher can tell observers what share of the processes is
 * accepting, paused or overloaded without reaching into the voting port. A
 * process that dies simply stops refreshing its key, which expires.
 *
 *   {v, phase, inFlight, budget, overloaded503Last10s, accepted2xxLast10s, rebuilding, at}
 *
 * Counts of answers only — no route, token, address or ballot: nothing about
 * a voter. The 10-second counts are differences of this process's own
 * Prometheus counters (metrics.ts), sampled at each beat, so the request
 * path carries no extra bookkeeping.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { type Logger, loggableError } from '../common/log.js';
import type { Admission } from './admission.js';
import type { LedgerSink } from './ledger/ledger-host.js';
import type { IngestMetrics } from './metrics.js';

export const HEALTH_KEY_PREFIX = 'ingest:health:';
export const HEALTH_BEAT_MS = 2_000;
/** A beacon not refreshed for this long is gone (the process stopped or hangs). */
export const HEALTH_TTL_SEC = 10;
const WINDOW_MS = 10_000;

/** Whether the election takes ballots now, as this process sees it. */
/** The worker's live phase (election-live.ts); `catching-up` until its follower has read the events once. */
export type BeaconPhase = 'scheduled' | 'open' | 'paused' | 'closed' | 'catching-up';

export interface IngestHealth {
  readonly v: 1;
  readonly phase: BeaconPhase;
  readonly inFlight: number;
  /** The admission budget (INGEST_MAX_IN_FLIGHT). */
  readonly budget: number;
  /** Requests refused with `503 overloaded` (admission or a full crypto queue) in the last 10 s. */
  readonly overloaded503Last10s: number;
  /** Requests answered 2xx in the last 10 s. */
  readonly accepted2xxLast10s: number;
  /** Regions whose Redis index is being rebuilt from Kafka. */
  readonly rebuilding: number;
  /** Unix ms of this beat. */
  readonly at: number;
}

export interface HealthBeaconOptions {
  readonly redis: Redis;
  readonly metrics: IngestMetrics;
  readonly admission: Admission;
  readonly sink: Pick<LedgerSink, 'state'>;
  readonly phase: (now: number) => BeaconPhase;
  readonly log: Logger;
  readonly key?: string;
  readonly beatMs?: number;
}

interface Sample {
  readonly at: number;
  readonly ok2xx: number;
  readonly overloaded: number;
}

export class HealthBeacon {
  readonly key: string;
  readonly #o: HealthBeaconOptions;
  readonly #samples: Sample[] = [];
  #timer: NodeJS.Timeout | null = null;
  #failing = false;

  constructor(options: HealthBeaconOptions) {
    this.#o = options;
    this.key = options.key ?? `${HEALTH_KEY_PREFIX}${hostname()}:${process.pid}`;
  }

  start(): void {
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#o.beatMs ?? HEALTH_BEAT_MS);
    this.#timer.unref();
  }

  /** Stops beating and removes the key, so a drained process stops counting at once. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#o.redis.del(this.key).catch(() => undefined);
  }

  /** Writes one beacon; a Redis error is logged once per outage and never thrown. */
  async beat(now = Date.now()): Promise<IngestHealth> {
    const health = await this.sample(now);
    try {
      await this.#o.redis.set(this.key, JSON.stringify(health), 'EX', HEALTH_TTL_SEC);
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.#o.log.warn(
          { err: loggableError(err), code: 'SAYLAU_ERR_HEALTH_BEACON' },
          'cannot write the ingest health beacon',
        );
      }
      this.#failing = true;
    }
    return health;
  }

  /** This process's health now; the 10-second counts are against the oldest sample within 10 s. */
  async sample(now: number): Promise<IngestHealth> {
    const { metrics, admission, sink, phase } = this.#o;
    const [requests, shed, queueFull] = await Promise.all([
      metrics.requests.get(),
      metrics.shed.get(),
      metrics.cryptoQueueFull.get(),
    ]);
    let ok2xx = 0;
    for (const v of requests.values) if (String(v.labels.status).startsWith('2')) ok2xx += v.value;
    const overloaded = sum(shed.values) + sum(queueFull.values);
    const current: Sample = { at: now, ok2xx, overloaded };
    while (this.#samples.length > 1 && now - this.#samples[1]!.at >= WINDOW_MS) this.#samples.shift();
    const base = this.#samples[0] ?? { at: now, ok2xx: 0, overloaded: 0 };
    this.#samples.push(current);
    return {
      v: 1,
      phase: phase(now),
      inFlight: admission.inFlight,
      budget: admission.maxInFlight,
      overloaded503Last10s: overloaded - base.overloaded,
      accepted2xxLast10s: ok2xx - base.ok2xx,
      rebuilding: sink.state.rebuilding.length,
      at: now,
    };
  }
}

const sum = (values: readonly { value: number }[]): number => values.reduce((a, v) => a + v.value, 0);
