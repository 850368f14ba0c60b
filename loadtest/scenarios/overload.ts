/**
 * `overload`: `factor` × the measured maximum cast rate for `burstSec`
 * (DESIGN §1 promise 5). The service must not crash, the excess must get a
 * fast `503 overloaded`, goodput must stay ≥ 90 % of the maximum, and after
 * the burst a normal load must hold again (p99 < 250 ms, zero errors).
 *
 *   warm 0.5×max (5 s) ─► burst 3×max (60 s) ─► recovery 0.5×max (20 s)
 *
 * The in-flight budget per ingest process is set from the maximum by
 * Little's law unless given: max × (the p99 latency measured at that max, or
 * 250 ms when unknown) / processes — the concurrency the maximum needed. A
 * larger budget only lets accepted requests queue for CPU, and a refusal
 * then waits in the same queue as everything else (measured: budget from
 * 250 ms → 503 p99 227 ms; docs/capacity.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../common/paths.js';
import { measureBaselines } from '../baselines.js';
import type { RunContext } from '../run-context.js';
import type { WorkerPool } from '../worker-pool.js';
import { realVotersAndCorrectness } from './finish.js';
import { failures, holds, P99_LIMIT_MS, startHttpPool } from './http-steps.js';

export interface OverloadOptions {
  /** The measured maximum (casts/s); 0: read docs/reports/loadtest-throughput.json. */
  readonly max: number;
  readonly factor: number;
  readonly burstSec: number;
  readonly recoverySec: number;
  /** 0: derived from the maximum. */
  readonly maxInFlight: number;
  readonly workers: number;
  readonly realVoters?: number;
  readonly warmSec?: number;
  /** Fast 503: p99 of 503 answers below this. @default 100 */
  readonly fast503Ms?: number;
  /** A cast pool already running with enough voters (smoke). */
  readonly castPool?: WorkerPool;
}

interface RecordedMax {
  readonly rate: number;
  /** p99 at that rate, if the report has the step. */
  readonly p99Ms: number | null;
}

function recordedMax(): RecordedMax {
  const path = join(repoRoot, 'docs', 'reports', 'loadtest-throughput.json');
  if (!existsSync(path)) return { rate: 0, p99Ms: null };
  const report = JSON.parse(readFileSync(path, 'utf8')) as {
    summary?: { maxSustainedRate?: number; saturationRate?: number };
    steps?: { targetRate: number; latencyMs?: { p99: number } }[];
  };
  // Without a rate that met the latency target, the saturation point is the measured maximum.
  const rate = report.summary?.maxSustainedRate || report.summary?.saturationRate || 0;
  const step = report.steps?.find((s) => s.targetRate === rate);
  return { rate, p99Ms: step?.latencyMs?.p99 ?? null };
}

export async function overloadScenario(ctx: RunContext, o: OverloadOptions, prepared = false): Promise<void> {
  const recorded = o.max > 0 ? { rate: o.max, p99Ms: null } : recordedMax();
  const max = recorded.rate;
  if (max <= 0)
    throw new Error('no maximum: run `npm run loadtest -- throughput --record` first or pass --max');
  const realVoters = o.realVoters ?? 20;
  const warmSec = o.warmSec ?? 5;
  const fast503Ms = o.fast503Ms ?? 100;
  const processes = ctx.options.processes;
  const latencySec = Math.min(recorded.p99Ms ?? P99_LIMIT_MS, P99_LIMIT_MS) / 1000;
  const maxInFlight =
    o.maxInFlight > 0 ? o.maxInFlight : Math.max(16, Math.ceil((max * latencySec) / processes));
  const arrivals = max * (0.5 * warmSec + o.factor * o.burstSec + 0.5 * o.recoverySec);
  if (!prepared) {
    await ctx.prepare('sample', 1000 + realVoters);
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
    await ctx.startIngest({ processes, maxInFlight, devLogin: true });
  }
  const pool =
    o.castPool ??
    (await startHttpPool(ctx, {
      kind: 'cast',
      workers: o.workers,
      perWorker: Math.ceil(arrivals / o.workers) + 10,
      maxConnections: 4000,
      timeoutMs: 10_000,
    }));
  ctx.setup.overload = {
    max,
    factor: o.factor,
    burstSec: o.burstSec,
    recoverySec: o.recoverySec,
    maxInFlightPerProcess: maxInFlight,
  };
  const warm = ctx.step(await pool.phase('overload-warm', max * 0.5, warmSec), null);
  warm.pass = holds(warm);
  const burst = ctx.step(await pool.phase('overload-burst', max * o.factor, o.burstSec), null);
  const recovery = ctx.step(await pool.phase('overload-recovery', max * 0.5, o.recoverySec), null);
  recovery.pass = holds(recovery);

  const ingest = ctx.ingest!;
  ctx.threshold(
    'ingest crashed or restarted a worker',
    '= 0',
    ingest.restarts + (ingest.exitedEarly === null ? 0 : 1),
    ingest.restarts === 0 && ingest.exitedEarly === null,
  );
  ctx.threshold(
    `burst goodput (2xx/s) at ${o.factor}× max`,
    `≥ ${Math.round(0.9 * max)} (90 % of ${max})`,
    burst.goodput,
    burst.goodput >= 0.9 * max,
  );
  const hardFailures = failures(burst) - burst.counts.overloaded;
  ctx.threshold('burst failures other than 503 overloaded', '= 0', hardFailures, hardFailures === 0);
  ctx.threshold(
    '503 overloaded answered fast (p99)',
    `< ${fast503Ms} ms`,
    burst.counts.overloaded === 0 ? 'none sent' : burst.overloadedLatencyMs.p99,
    burst.counts.overloaded === 0 || burst.overloadedLatencyMs.p99 < fast503Ms,
  );
  ctx.threshold(
    'recovery after the burst (p99 < 250 ms, 0 errors)',
    'holds',
    `p99 ${recovery.latencyMs.p99} ms, ${failures(recovery)} failed`,
    recovery.pass === true,
  );
  ctx.summary.overload = {
    max,
    offeredPerSec: Math.round(max * o.factor),
    goodputPerSec: burst.goodput,
    goodputShareOfMax: Math.round((burst.goodput / max) * 1000) / 1000,
    overloaded503: burst.counts.overloaded,
    acceptedP99Ms: burst.latencyMs.p99,
    overloadedP99Ms: burst.overloadedLatencyMs.p99,
  };
  const b = ctx.baselines as { helloWorld?: { reqPerSec: number } | null } | null;
  if (b?.helloWorld)
    ctx.ratios = {
      'burst goodput / uWS hello-world req/s':
        Math.round((burst.goodput / b.helloWorld.reqPerSec) * 1000) / 1000,
    };
  if (!prepared) {
    let accepted = 0;
    let unknown = 0;
    for (const s of ctx.steps) {
      accepted += s.counts.created;
      unknown += s.counts.timeouts + s.counts.errors;
    }
    await realVotersAndCorrectness(ctx, { acceptedBallots: accepted, unknownBallots: unknown }, realVoters);
  }
}
