/**
 * The insider's clocks: for every ballot of the election, an estimate of
 * when it arrived, ms after the run's start, from what the stores hold.
 * Each clock uses one kind of evidence, so the report shows which leaks;
 * `combined` takes the finest available for each ballot.
 *
 *   kafka     the log is per-region order: within a partition and a record
 *             timestamp (the bucket), ballots are spread evenly over the
 *             bucket by offset; a record batch shares one time (it was
 *             produced together)
 *   redis     `OBJECT IDLETIME` of `cred:…<ballotId>`: when the ledger last
 *             touched the key (its APPLY), to the second
 *   parts     the modification time of the first ClickHouse part that holds
 *             the ballot (the Kafka engine's flush after its arrival)
 *   combined  redis, ordered within its second by the Kafka offset; else
 *             parts refined by Kafka; else kafka
 *   rank      (per insider, `rankClock`) the log order aligned with what the
 *             insider knows: the i-th ballot of a district in a partition gets
 *             the time of the matching quantile of the district's known times
 *             (casts, or issuances plus the median think time); with one
 *             partition per region that is the district's exact arrival order
 *   aligned   (per insider, `alignedClock`) a district's ballots in a
 *             partition's log order matched in order to the district's known
 *             times, each kept nearest its Redis time less the delay
 */
import type { LoggedRecord } from './evidence/kafka.js';

export type StoreClockName = 'kafka' | 'redis' | 'parts' | 'combined';
export type ClockName = StoreClockName | 'rank' | 'aligned';
/** Clocks from the stores alone. */
export const CLOCKS: readonly StoreClockName[] = ['kafka', 'redis', 'parts', 'combined'];
export const ALL_CLOCKS: readonly ClockName[] = [...CLOCKS, 'rank', 'aligned'];

export interface Ballot {
  readonly ballotId: string;
  readonly district: string;
  readonly region: string;
  readonly partition: number;
  readonly offset: number;
  readonly batch: number;
}

/** ballotId → estimated arrival, ms after the start; missing when the clock knows nothing. */
export type Clock = Map<string, number>;

export interface ClockInput {
  /** First record of each ballotId in the log (later copies are retries). */
  readonly ballots: readonly LoggedRecord[];
  /** ballotId → epoch ms of its dedup key's last access. */
  readonly redisAccess: ReadonlyMap<string, number>;
  /** ballotId → epoch ms of the first ClickHouse part holding it. */
  readonly partTime: ReadonlyMap<string, number>;
  /** Epoch ms of the run's start. */
  readonly t0: number;
}

export function ballotsOf(records: readonly LoggedRecord[]): Ballot[] {
  const seen = new Set<string>();
  const out: Ballot[] = [];
  for (const r of records) {
    const id = String(r.value.ballotId ?? '');
    if (id === '' || seen.has(id)) continue;
    seen.add(id);
    out.push({
      ballotId: id,
      district: String(r.value.district ?? ''),
      region: String(r.value.region ?? ''),
      partition: r.partition,
      offset: r.offset,
      batch: r.batch,
    });
  }
  return out;
}

/** Groups by a key, keeping log order (partition, offset). */
function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
}

/** Spreads each group's members evenly over [from, from + span) in log order; a batch shares one time. */
function spread(group: readonly Ballot[], fromMs: number, spanMs: number, into: Clock): void {
  const batches = [...groupBy(group, (b) => String(b.batch)).values()];
  batches.forEach((batch, i) => {
    const at = fromMs + ((i + 0.5) / batches.length) * spanMs;
    for (const b of batch) into.set(b.ballotId, at);
  });
}

export function clocks(input: ClockInput, ballots: readonly Ballot[]): Record<StoreClockName, Clock> {
  const { t0 } = input;
  const stamp = new Map<string, number>();
  for (const r of input.ballots) {
    const id = String(r.value.ballotId ?? '');
    if (!stamp.has(id)) stamp.set(id, r.timestampMs);
  }
  const ordered = [...ballots].sort((a, b) => a.partition - b.partition || a.offset - b.offset);

  const kafka: Clock = new Map();
  const byBucket = groupBy(ordered, (b) => `${b.partition}/${stamp.get(b.ballotId)}`);
  // A bucket spans until the next bucket's stamp in the same partition (at least a minute when unknown).
  const stamps = [...new Set([...stamp.values()])].sort((a, b) => a - b);
  for (const group of byBucket.values()) {
    const from = stamp.get(group[0]!.ballotId)!;
    const nextStamp = stamps.find((s) => s > from);
    spread(group, from - t0, (nextStamp ?? from + 60_000) - from, kafka);
  }

  const fromSeconds = (source: ReadonlyMap<string, number>, span: number): Clock => {
    const out: Clock = new Map();
    const known = ordered.filter((b) => source.has(b.ballotId));
    for (const group of groupBy(known, (b) => `${b.partition}/${source.get(b.ballotId)}`).values()) {
      spread(group, source.get(group[0]!.ballotId)! - t0 - span, span, out);
    }
    return out;
  };
  // Idle time counts whole seconds: the access was within the second before.
  const redis = fromSeconds(input.redisAccess, 1000);
  // A part is written at most the Kafka engine's flush interval (7.5 s) after its first ballot arrived.
  const parts = fromSeconds(input.partTime, 7500);
  const combined: Clock = new Map();
  for (const b of ballots) {
    const at = redis.get(b.ballotId) ?? parts.get(b.ballotId) ?? kafka.get(b.ballotId);
    if (at !== undefined) combined.set(b.ballotId, at);
  }
  return { kafka, redis, parts, combined };
}

/**
 * The rank clock: per partition and district, ballots in log order (a batch
 * shares the mean of its slots) mapped onto the quantiles of the district's
 * `known` times, ms after the start. A region's partitions are picked by a
 * hash of the ballotId, so each holds a random sample of the district's
 * ballots with the district's quantiles.
 */
export function rankClock(ballots: readonly Ballot[], known: ReadonlyMap<string, readonly number[]>): Clock {
  const out: Clock = new Map();
  const byPartition = groupBy(
    [...ballots].sort((a, b) => a.partition - b.partition || a.offset - b.offset),
    (b) => `${b.partition}/${b.district}`,
  );
  for (const list of byPartition.values()) {
    const times = [...(known.get(list[0]!.district) ?? [])].sort((a, b) => a - b);
    placeByRank(list, times, out);
  }
  return out;
}

/**
 * The aligned clock: per partition and district, the ballots in log order
 * are matched to the district's known times in order (each ballot to a later
 * time than the one before), choosing the matching that keeps each ballot
 * nearest its Redis time less the delay (dynamic programming, O(n·m) per
 * district). With one partition per region it is the exact order; with more,
 * the Redis seconds tell where a partition's ballots fall among the others.
 */
export function alignedClock(
  ballots: readonly Ballot[],
  anchor: Clock,
  known: ReadonlyMap<string, readonly number[]>,
  delayMs: number,
): Clock {
  const out: Clock = new Map();
  const ordered = [...ballots].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const list of groupBy(ordered, (b) => `${b.partition}/${b.district}`).values()) {
    const times = [...(known.get(list[0]!.district) ?? [])].sort((a, b) => a - b);
    const n = list.length;
    const m = times.length;
    // Without a Redis time for every ballot (an LFU policy keeps none) only the order is left: rank.
    if (m < n || list.some((b) => !anchor.has(b.ballotId))) {
      placeByRank(list, times, out);
      continue;
    }
    // cost[i][j]: best total for ballots 0..i with ballot i on time j; from[i][j]: ballot i−1's time.
    const cost = new Float64Array(n * m);
    const from = new Int32Array(n * m);
    for (let i = 0; i < n; i++) {
      const a = anchor.get(list[i]!.ballotId)! - delayMs;
      let bestPrev = Number.POSITIVE_INFINITY;
      let bestAt = -1;
      for (let j = i; j < m - (n - 1 - i); j++) {
        if (i > 0 && cost[(i - 1) * m + j - 1]! < bestPrev) {
          bestPrev = cost[(i - 1) * m + j - 1]!;
          bestAt = j - 1;
        }
        const here = Math.abs(a - times[j]!);
        cost[i * m + j] = i === 0 ? here : bestPrev + here;
        from[i * m + j] = bestAt;
      }
    }
    let j = n - 1;
    for (let k = n - 1; k < m; k++) if (cost[(n - 1) * m + k]! < cost[(n - 1) * m + j]!) j = k;
    for (let i = n - 1; i >= 0; i--) {
      out.set(list[i]!.ballotId, times[j]!);
      j = from[i * m + j]!;
    }
  }
  return out;
}

/** Puts `list` (log order) onto the quantiles of `times` (ascending); a batch shares the mean of its slots. */
function placeByRank(list: readonly Ballot[], times: readonly number[], out: Clock): void {
  if (times.length === 0) return;
  const slot = (i: number): number =>
    times[Math.min(times.length - 1, Math.floor(((i + 0.5) * times.length) / list.length))]!;
  let i = 0;
  for (const batch of groupBy(list, (b) => String(b.batch)).values()) {
    let sum = 0;
    for (let j = 0; j < batch.length; j++) sum += slot(i + j);
    for (const b of batch) out.set(b.ballotId, sum / batch.length);
    i += batch.length;
  }
}
