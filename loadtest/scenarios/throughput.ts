/**
 * `throughput` (casting) and `issuance` (credentials): the maximum sustained
 * rate with p99 < 250 ms and zero errors, open model, stepping the arrival
 * rate up by a factor until a step does not hold.
 *
 * Casting uses pre-issued credentials (credentials.ts); issuance uses dev
 * identity tokens for distinct roll members. Both end with real-path voters
 * and the correctness check.
 */
import { measureBaselines } from '../baselines.js';
import type { RunContext } from '../run-context.js';
import { realVotersAndCorrectness } from './finish.js';
import { type Kind, searchArrivals, searchMax, startHttpPool } from './http-steps.js';

export interface ThroughputOptions {
  readonly kind: Kind;
  readonly start: number;
  readonly factor: number;
  readonly stepSec: number;
  readonly maxSteps: number;
  readonly workers: number;
  readonly maxInFlight: number;
  /** The verdict needs at least this rate. */
  readonly minRate: number;
  readonly realVoters: number;
}

export const THROUGHPUT_DEFAULTS: Record<Kind, ThroughputOptions> = {
  cast: {
    kind: 'cast',
    start: 200,
    factor: 1.25,
    stepSec: 10,
    maxSteps: 14,
    workers: 2,
    maxInFlight: 2000,
    minRate: 1000,
    realVoters: 20,
  },
  issue: {
    kind: 'issue',
    start: 100,
    factor: 1.25,
    stepSec: 10,
    maxSteps: 12,
    workers: 2,
    maxInFlight: 2000,
    minRate: 100,
    realVoters: 20,
  },
};

export async function throughputScenario(ctx: RunContext, o: ThroughputOptions): Promise<void> {
  const warmupRate = Math.max(10, Math.round(o.start / 4));
  const warmupSec = 3;
  const perWorker = Math.ceil(searchArrivals(o, warmupRate * warmupSec) / o.workers) + 10;
  await ctx.prepare(
    'sample',
    o.kind === 'issue' ? perWorker * o.workers + o.realVoters + 100 : 1000 + o.realVoters,
  );
  if (ctx.options.baselines) {
    ctx.baselines = {
      ...(await measureBaselines(
        ctx.config,
        ctx.options.port + 90,
        { helloSec: 10, redisRequests: 200_000, kafkaRecords: 200_000 },
        (l) => ctx.log(l),
      )),
    };
  }
  await ctx.startIngest({ processes: ctx.options.processes, maxInFlight: o.maxInFlight, devLogin: true });
  const pool = await startHttpPool(ctx, {
    kind: o.kind,
    workers: o.workers,
    perWorker,
    maxConnections: 2000,
    timeoutMs: 10_000,
  });
  ctx.setup.search = { ...o, model: 'open (fixed arrival rates, latency from intended send time)' };
  const label = o.kind === 'cast' ? 'cast' : 'issue';
  const warm = ctx.step(await pool.phase(`${label}-warmup`, warmupRate, warmupSec), null);
  const { max, saturation } = await searchMax(ctx, pool, label, o);
  const unit = o.kind === 'cast' ? 'ballots/s' : 'credentials/s';
  ctx.summary.maxSustainedRate = max;
  ctx.summary.saturationRate = saturation;
  ctx.summary.unit = unit;
  ctx.threshold(`max sustained ${unit} (p99 < 250 ms, 0 errors)`, `≥ ${o.minRate}`, max, max >= o.minRate);
  ctx.notes.push(
    `saturation (zero errors, every arrival answered, p99 < 1 s, latency target ignored): ${saturation} ${unit}`,
  );
  const b = ctx.baselines as {
    helloWorld?: { reqPerSec: number } | null;
    redisSet?: { opsPerSec: number } | null;
    kafkaProducer?: { recordsPerSec: number } | null;
    kafkaLatency?: { p50Ms: number } | null;
  } | null;
  // Ratios of the measured maximum; when no step met the latency target, of the saturation point.
  const basis = max > 0 ? max : saturation;
  const what = max > 0 ? `${label} max` : `${label} saturation`;
  const ratio = (base: number | undefined): number | null =>
    base === undefined || base === 0 ? null : Math.round((basis / base) * 1000) / 1000;
  const lowest = ctx.steps.find((st) => st.name === `${label}-${Math.round(o.start)}`);
  ctx.ratios = {
    [`${what} / uWS hello-world req/s`]: ratio(b?.helloWorld?.reqPerSec),
    [`${what} / redis SET ops/s`]: ratio(b?.redisSet?.opsPerSec),
    [`${what} / kafka producer records/s (acks=all)`]: ratio(b?.kafkaProducer?.recordsPerSec),
    [`${label} p50 at ${o.start}/s / kafka acks=all p50 at 200/s`]:
      lowest === undefined || !b?.kafkaLatency
        ? null
        : Math.round((lowest.latencyMs.p50 / b.kafkaLatency.p50Ms) * 100) / 100,
  };
  let accepted = 0;
  let unknown = 0;
  if (o.kind === 'cast') {
    for (const s of ctx.steps) {
      accepted += s.counts.created;
      unknown += s.counts.timeouts + s.counts.errors;
    }
  } else {
    ctx.notes.push(
      'issuance load: bulk voters send random in-range blinded messages (indistinguishable to the server by design); the real-path voters blind, finalize and cast.',
    );
  }
  void warm;
  await realVotersAndCorrectness(ctx, { acceptedBallots: accepted, unknownBallots: unknown }, o.realVoters);
  if (o.kind === 'cast')
    ctx.notes.push(
      "cast load: credentials pre-signed with the run's district private keys (RFC 9474 finalized signatures are RSASSA-PSS signatures); see loadtest/credentials.ts.",
    );
}
