/**
 * `mixing`: what the ballot mix (ingest/ledger/mix.ts) costs in cast latency
 * and what it buys in anonymity, for a few (k, T) pairs at a few offered
 * rates:
 *
 *   for each (k, T):  ingest with INGEST_MIX_MIN_BALLOTS=k, INGEST_MIX_MAX_WAIT_MS=T
 *     for each rate:  an open-model cast phase ─► latency p50/p99
 *                     + the mix's own histograms (/metrics, before and after the phase):
 *                       batches, ballots per batch (= per district: the mix is per district),
 *                       how many closed on k and how many on T
 *
 * Ballots spread evenly over the election's 60 districts (credentials.ts), so
 * a rate r gives each district r/60 ballots/s: the default rates are the 2020
 * primary's average (~3/s: 390,000 ballots in 36 h), its peak (~9/s: ~9
 * ballots per district-minute) and 300/s (a crowd well above 2020). One
 * ingest process, so one `/metrics` holds the host's mix batches
 * (relay-host.ts forwards them to one worker).
 *
 * Ends like every scenario: real-path voters and the receipt-by-receipt
 * correctness check (the mix must not lose or double a ballot).
 */
import { opsPortOf } from '../ingest-process.js';
import type { RunContext } from '../run-context.js';
import type { WorkerPool } from '../worker-pool.js';
import { realVotersAndCorrectness } from './finish.js';
import { startHttpPool } from './http-steps.js';

export interface MixingOptions {
  /** (k, T ms) pairs; (1, 0) is no mixing. */
  readonly pairs: readonly (readonly [k: number, tMs: number])[];
  /** Offered cast rates, ballots/s. */
  readonly rates: readonly number[];
  readonly phaseSec: number;
  readonly realVoters: number;
}

export const MIXING_DEFAULTS: MixingOptions = {
  pairs: [
    [1, 0],
    [4, 500],
    [8, 1000],
    [8, 2500],
    [16, 2500],
  ],
  rates: [3, 9, 300],
  phaseSec: 30,
  realVoters: 10,
};

/** One row of the trade-off table. */
export interface MixingRow {
  readonly k: number;
  readonly tMs: number;
  readonly rate: number;
  readonly ok: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly batches: number;
  /** Ballots per mixed batch, i.e. of one district: the batch's anonymity set. */
  readonly meanPerBatch: number;
  /** The smallest batch's size (from the histogram's finest bucket holding one). */
  readonly minPerBatch: number;
  readonly closedOnK: number;
  readonly closedOnT: number;
}

/** The mix histograms of one `/metrics` scrape: per closed_by, bucket counts, sum and count. */
interface MixCounts {
  readonly buckets: Map<string, Map<number, number>>;
  readonly sum: Map<string, number>;
  readonly count: Map<string, number>;
}

async function scrapeMix(port: number): Promise<MixCounts> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: MixCounts = { buckets: new Map(), sum: new Map(), count: new Map() };
  for (const line of text.split('\n')) {
    const m = /^saylau_mix_batch_size_(bucket|sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null) continue;
    const labels = new Map([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    const by = labels.get('closed_by') ?? '';
    const value = Number(m[3]);
    if (m[1] === 'sum') out.sum.set(by, value);
    else if (m[1] === 'count') out.count.set(by, value);
    else {
      const le = labels.get('le') === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.get('le'));
      const buckets = out.buckets.get(by) ?? new Map<number, number>();
      buckets.set(le, value);
      out.buckets.set(by, buckets);
    }
  }
  return out;
}

/** Batches, sizes and closings between two scrapes. */
function mixBetween(
  before: MixCounts,
  after: MixCounts,
): Pick<MixingRow, 'batches' | 'meanPerBatch' | 'minPerBatch' | 'closedOnK' | 'closedOnT'> {
  const delta = (m: (c: MixCounts) => Map<string, number>, by: string) =>
    (m(after).get(by) ?? 0) - (m(before).get(by) ?? 0);
  const kinds = [...after.count.keys()];
  const batches = kinds.reduce((n, by) => n + delta((c) => c.count, by), 0);
  const ballots = kinds.reduce((n, by) => n + delta((c) => c.sum, by), 0);
  let min = 0;
  for (const by of kinds) {
    const les = [...(after.buckets.get(by)?.keys() ?? [])].sort((a, b) => a - b);
    const first = les.find(
      (le) => (after.buckets.get(by)?.get(le) ?? 0) - (before.buckets.get(by)?.get(le) ?? 0) > 0,
    );
    if (first !== undefined && (min === 0 || first < min)) min = first;
  }
  return {
    batches,
    meanPerBatch: batches === 0 ? 0 : Math.round((ballots / batches) * 100) / 100,
    minPerBatch: min,
    closedOnK: delta((c) => c.count, 'k'),
    closedOnT: delta((c) => c.count, 't'),
  };
}

export async function mixingScenario(ctx: RunContext, o: MixingOptions): Promise<void> {
  const perPair = Math.ceil(o.rates.reduce((n, r) => n + r * o.phaseSec, 0) * 1.1) + 20;
  await ctx.prepare('sample', 1000 + o.realVoters);
  ctx.setup.mixing = {
    ...o,
    processes: 1,
    perDistrictRates: o.rates.map((r) => r / ctx.run!.index.config.districts.length),
  };
  const rows: MixingRow[] = [];
  let accepted = 0;
  let unknown = 0;
  const opsPort = opsPortOf(ctx.ports); // /metrics lives on the operations port
  for (const [k, tMs] of o.pairs) {
    if (ctx.ingest !== null) {
      ctx.stopSampling();
      await ctx.ingest.stop();
    }
    await ctx.startIngest({
      processes: 1,
      maxInFlight: 2000,
      devLogin: true,
      extraEnv: { INGEST_MIX_MIN_BALLOTS: String(k), INGEST_MIX_MAX_WAIT_MS: String(tMs) },
    });
    const pool: WorkerPool = await startHttpPool(ctx, {
      kind: 'cast',
      workers: 1,
      perWorker: perPair,
      maxConnections: 1000,
      timeoutMs: 10_000,
    });
    try {
      for (const rate of o.rates) {
        const before = await scrapeMix(opsPort);
        const step = ctx.step(await pool.phase(`k${k}-T${tMs}-${rate}/s`, rate, o.phaseSec), null);
        // Every ballot of the phase has left the mix: its request was answered.
        const after = await scrapeMix(opsPort);
        accepted += step.counts.created;
        unknown += step.counts.timeouts + step.counts.errors;
        rows.push({
          k,
          tMs,
          rate,
          ok: step.counts.ok,
          p50Ms: step.latencyMs.p50,
          p99Ms: step.latencyMs.p99,
          ...mixBetween(before, after),
        });
      }
    } finally {
      await pool.stop();
    }
  }
  ctx.summary.mixing = rows;
  ctx.log(`\n${formatTable(rows)}`);
  ctx.notes.push(
    'mixing: ballots per batch = ballots of one district per batch (the mix is per district): the anonymity set a batch gives each of its ballots; min is the smallest histogram bucket that holds a batch.',
  );
  await realVotersAndCorrectness(ctx, { acceptedBallots: accepted, unknownBallots: unknown }, o.realVoters);
}

export function formatTable(rows: readonly MixingRow[]): string {
  const head =
    '|   k |    T ms | rate/s |   ok | p50 ms | p99 ms | batches | mean/batch | min | on k | on T |';
  const rule =
    '| --: | ------: | -----: | ---: | -----: | -----: | ------: | ---------: | --: | ---: | ---: |';
  const cell = (v: number, w: number) => String(v).padStart(w);
  const lines = rows.map(
    (r) =>
      `| ${cell(r.k, 3)} | ${cell(r.tMs, 7)} | ${cell(r.rate, 6)} | ${cell(r.ok, 4)} | ${cell(Math.round(r.p50Ms), 6)} | ${cell(Math.round(r.p99Ms), 6)} | ${cell(r.batches, 7)} | ${cell(r.meanPerBatch, 10)} | ${cell(r.minPerBatch, 3)} | ${cell(r.closedOnK, 4)} | ${cell(r.closedOnT, 4)} |`,
  );
  return [head, rule, ...lines].join('\n');
}
