/**
 * The fault catalogue: every kind the nemesis can inject, what it does, which
 * component ("lane") it hits, how long it holds and about how long healing
 * takes (for planning only; the nemesis measures the real time).
 *
 * Holds that must outlast the produce timeout (a stalled broker or ingest
 * worker) are derived from it, so a short run with a short produce timeout
 * still stalls "for longer than the produce timeout".
 */

export const FAULT_KINDS = [
  'ingest-worker-kill',
  'ingest-supervisor-kill',
  'ingest-worker-stall',
  'kafka-broker-kill',
  'kafka-broker-stall',
  'kafka-all-down',
  'redis-kill',
  'redis-lose',
  'redis-flushall',
  'redis-stall',
  'clickhouse-kill',
  'publisher-kill',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** The component a fault hits (a row of the report's fault timeline). */
export type Lane = 'ingest' | 'kafka' | 'redis' | 'clickhouse' | 'publisher';

/**
 * With overlapping faults, faults of one group still run one at a time:
 * the brokers; the write path's front (ingest and its Redis); the results side.
 */
export type Group = 'kafka' | 'front' | 'results';

export const GROUP_OF: { readonly [L in Lane]: Group } = {
  kafka: 'kafka',
  ingest: 'front',
  redis: 'front',
  clickhouse: 'results',
  publisher: 'results',
};

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

export function conflicts(a: FaultKind, b: FaultKind): boolean {
  const x = FAULTS[a];
  const y = FAULTS[b];
  return (
    (x.needsKafka === true && y.breaksKafka === true) || (x.breaksKafka === true && y.needsKafka === true)
  );
}

/** What the holds depend on. */
export interface HoldSettings {
  /** INGEST_PRODUCE_TIMEOUT_MS of the ingest under test. */
  readonly produceTimeoutMs: number;
  /** How long every broker stays down in `kafka-all-down`. */
  readonly allDownMs: number;
  /** Short runs hold kills and stalls for less time. */
  readonly short: boolean;
  /** How long the harness waits for ingest to restore the roll after a Redis fault. */
  readonly rollGraceMs: number;
}

export interface FaultSpec {
  readonly lane: Lane;
  /**
   * Conflicts, for overlapping runs: a fault that needs every broker to heal
   * (a restarted ingest supervisor connects its producer before it forks a
   * worker) never starts while a fault that breaks a broker is on, and back.
   */
  readonly needsKafka?: true;
  readonly breaksKafka?: true;
  /** One line for the README and the report. */
  readonly does: string;
  /** From injection to the start of healing. */
  holdMs(s: HoldSettings): number;
  /**
   * About how long healing takes, for planning: a quiet box for short runs, a
   * loaded one (load average ~10, JVM and tsx start-ups several times slower)
   * for long ones.
   */
  healEstimateMs(s: HoldSettings): number;
}

/** Stalls outlast the produce timeout by this much. */
const PAST_TIMEOUT_MS = { long: 5_000, short: 2_000 };
const pastTimeout = (s: HoldSettings): number =>
  s.produceTimeoutMs + (s.short ? PAST_TIMEOUT_MS.short : PAST_TIMEOUT_MS.long);
const hold = (longMs: number, shortMs: number) => (s: HoldSettings) => (s.short ? shortMs : longMs);

export const FAULTS: { readonly [K in FaultKind]: FaultSpec } = {
  'ingest-worker-kill': {
    lane: 'ingest',
    does: 'kill -9 one ingest worker; the supervisor restarts it by itself',
    holdMs: () => 0,
    healEstimateMs: hold(8_000, 4_000),
  },
  'ingest-supervisor-kill': {
    lane: 'ingest',
    needsKafka: true,
    does: 'kill -9 the ingest supervisor (the host’s Kafka producer); its workers drain and exit; the harness starts a new one, as systemd would',
    holdMs: hold(1_000, 500),
    healEstimateMs: hold(40_000, 10_000),
  },
  'ingest-worker-stall': {
    lane: 'ingest',
    does: 'SIGSTOP one ingest worker for longer than the produce timeout, then SIGCONT',
    holdMs: pastTimeout,
    healEstimateMs: hold(1_000, 1_000),
  },
  'kafka-broker-kill': {
    lane: 'kafka',
    breaksKafka: true,
    does: 'kill -9 one broker (each broker in turn), restart it',
    holdMs: hold(8_000, 2_000),
    healEstimateMs: hold(35_000, 20_000),
  },
  'kafka-broker-stall': {
    lane: 'kafka',
    breaksKafka: true,
    does: 'SIGSTOP one broker for longer than the produce timeout, then SIGCONT',
    holdMs: pastTimeout,
    healEstimateMs: hold(5_000, 2_000),
  },
  'kafka-all-down': {
    lane: 'kafka',
    breaksKafka: true,
    does: 'kill -9 all three brokers, keep them down, start them together (a lone KRaft node has no quorum)',
    holdMs: (s) => s.allDownMs,
    healEstimateMs: hold(45_000, 30_000),
  },
  'redis-kill': {
    lane: 'redis',
    does: 'kill -9 Redis and restart it (it keeps what its persistence setting kept: all of it with AOF, nothing without)',
    holdMs: hold(2_000, 1_000),
    healEstimateMs: hold(5_000, 3_000),
  },
  'redis-lose': {
    lane: 'redis',
    does: 'kill -9 Redis, delete its data files, restart it empty (a replaced host); then wait for the roll',
    holdMs: hold(2_000, 1_000),
    healEstimateMs: (s) => s.rollGraceMs + (s.short ? 3_000 : 8_000),
  },
  'redis-flushall': {
    lane: 'redis',
    does: 'FLUSHALL while voting goes on; then wait for the roll',
    holdMs: () => 0,
    healEstimateMs: (s) => s.rollGraceMs + (s.short ? 3_000 : 8_000),
  },
  'redis-stall': {
    lane: 'redis',
    does: 'SIGSTOP Redis (a stall without data loss), then SIGCONT',
    holdMs: hold(8_000, 4_000),
    healEstimateMs: hold(1_000, 1_000),
  },
  'clickhouse-kill': {
    lane: 'clickhouse',
    does: 'kill -9 ClickHouse, restart it',
    holdMs: hold(5_000, 2_000),
    healEstimateMs: hold(15_000, 10_000),
  },
  'publisher-kill': {
    lane: 'publisher',
    does: 'kill -9 the publisher, restart it',
    holdMs: hold(2_000, 1_000),
    healEstimateMs: hold(25_000, 5_000),
  },
};
