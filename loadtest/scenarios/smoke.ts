/**
 * `smoke`: a small version of every scenario against one ingest (2
 * processes) and the tiny election, about 30 seconds of load, for CI:
 *
 *   baselines (short) ─► cast steps ─► issuance steps ─► sessions + casts
 *   ─► overload burst + recovery ─► real-path voters ─► correctness
 *
 * Same code paths and thresholds as the full scenarios; only the sizes differ.
 */
import { measureBaselines } from '../baselines.js';
import type { RunContext } from '../run-context.js';
import { realVotersAndCorrectness } from './finish.js';
import { searchArrivals, searchMax, startHttpPool } from './http-steps.js';
import { overloadScenario } from './overload.js';
import { sessionsScenario } from './sessions.js';

const CAST = { start: 100, factor: 2, stepSec: 3, maxSteps: 3 };
const ISSUE = { start: 20, factor: 2, stepSec: 2, maxSteps: 2 };
const REAL_VOTERS = 10;

export async function smokeScenario(ctx: RunContext): Promise<void> {
  const issueArrivals = searchArrivals(ISSUE, 0);
  await ctx.prepare('tiny', issueArrivals + REAL_VOTERS + 50);
  if (ctx.options.baselines) {
    ctx.baselines = {
      ...(await measureBaselines(
        ctx.config,
        ctx.options.port + 90,
        { helloSec: 1, redisRequests: 5_000, kafkaRecords: 3_000 },
        (l) => ctx.log(l),
      )),
    };
  }
  // Workers load their voters while ingest starts (they connect lazily).
  const [, cast, issue] = await Promise.all([
    ctx.startIngest({ processes: 2, maxInFlight: 64, devLogin: true }),
    startHttpPool(ctx, {
      kind: 'cast',
      workers: 1,
      perWorker: searchArrivals(CAST, 0) + 10,
      maxConnections: 500,
      timeoutMs: 10_000,
    }),
    startHttpPool(ctx, {
      kind: 'issue',
      workers: 1,
      perWorker: issueArrivals,
      maxConnections: 200,
      timeoutMs: 10_000,
    }),
  ]);
  const castMax = (await searchMax(ctx, cast, 'cast', CAST)).max;
  ctx.threshold(
    'cast: a step held (p99 < 250 ms, 0 errors)',
    `≥ ${CAST.start}/s`,
    castMax,
    castMax >= CAST.start,
  );

  const issueMax = (await searchMax(ctx, issue, 'issue', ISSUE)).max;
  ctx.threshold(
    'issuance: a step held (p99 < 250 ms, 0 errors)',
    `≥ ${ISSUE.start}/s`,
    issueMax,
    issueMax >= ISSUE.start,
  );
  ctx.summary.maxSustainedRate = {
    cast: castMax,
    issue: issueMax,
    note: 'smoke steps are short and capped; not a capacity figure',
  };

  await sessionsScenario(ctx, {
    sessions: 1000,
    holdSec: 5,
    castRate: 50,
    rampPerSec: 1000,
    holders: 2,
    minCastRate: 45,
    prepared: true,
  });
  await overloadScenario(
    ctx,
    {
      max: Math.max(castMax, CAST.start),
      factor: 3,
      burstSec: 3,
      recoverySec: 3,
      maxInFlight: 64,
      workers: 1,
      warmSec: 2,
    },
    true,
  );

  let accepted = 0;
  let unknown = 0;
  for (const s of ctx.steps) {
    if (s.name.startsWith('issue')) continue;
    accepted += s.counts.created;
    unknown += s.counts.timeouts + s.counts.errors;
  }
  await realVotersAndCorrectness(ctx, { acceptedBallots: accepted, unknownBallots: unknown }, REAL_VOTERS);
}
