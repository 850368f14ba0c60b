/**
 * Building blocks of the HTTP scenarios: pools of open-model workers with
 * disjoint slices of the run's voters, the pass rule of a step, and the
 * stepped search for the maximum sustained rate.
 */
import { credentialFile, ensureCredentials } from '../credentials.js';
import type { StepReport } from '../report-json.js';
import type { RunContext } from '../run-context.js';
import { WorkerPool } from '../worker-pool.js';
import type { HttpWorkerInit, RequestSource } from '../workers/protocol.js';

export type Kind = 'cast' | 'issue';

/** p99 bound of every pass rule (the threshold). */
export const P99_LIMIT_MS = 250;

export interface PoolSpec {
  readonly kind: Kind;
  readonly workers: number;
  /** Requests each worker must be able to supply. */
  readonly perWorker: number;
  readonly maxConnections: number;
  readonly timeoutMs: number;
  /** Source addresses, one per worker in turn. */
  readonly firstLocalAddress?: number;
}

/** Voters already handed to a pool in this run (pools never share a voter). */
const cursors = new WeakMap<RunContext, { credentials: number; members: number }>();

export async function startHttpPool(ctx: RunContext, spec: PoolSpec): Promise<WorkerPool> {
  const run = ctx.run!;
  const cursor = cursors.get(ctx) ?? { credentials: 0, members: 0 };
  cursors.set(ctx, cursor);
  const total = spec.workers * spec.perWorker;
  if (spec.kind === 'cast') {
    await ensureCredentials(
      run.keysetDir,
      `${run.keysetDir}/keyset-${run.template}.json`,
      `keyset-${run.template}`,
      cursor.credentials + total,
      (l) => ctx.log(l),
    );
  } else if (cursor.members + total > (run.index.config.sampleRoll?.size ?? 0)) {
    throw new Error(`the run's roll is too small for ${cursor.members + total} voters`);
  }
  const inits: HttpWorkerInit[] = [];
  for (let w = 0; w < spec.workers; w++) {
    const source: RequestSource =
      spec.kind === 'cast'
        ? {
            type: 'cast',
            electionPath: run.path,
            credentialFile: credentialFile(run.keysetDir),
            first: cursor.credentials + w * spec.perWorker,
            count: spec.perWorker,
          }
        : {
            type: 'issue',
            electionPath: run.path,
            stackDir: run.stackDir,
            first: cursor.members + w * spec.perWorker,
            count: spec.perWorker,
          };
    inits.push({
      kind: 'http',
      id: w,
      ports: ctx.ports,
      localAddresses: [`127.0.0.${2 + (((spec.firstLocalAddress ?? 0) + w) % 8)}`],
      maxConnections: spec.maxConnections,
      timeoutMs: spec.timeoutMs,
      source,
    });
  }
  if (spec.kind === 'cast') cursor.credentials += total;
  else cursor.members += total;
  ctx.log(`starting ${spec.workers} ${spec.kind} worker(s), ${spec.perWorker} voters each`);
  const pool = await WorkerPool.start(ctx.timeline, inits);
  ctx.pools.push(pool);
  return pool;
}

export function failures(s: StepReport): number {
  return s.counts.otherStatus + s.counts.errors + s.counts.timeouts + s.counts.starved + s.counts.overloaded;
}

/** A step holds when p99 < 250 ms, nothing failed, and (almost) every arrival got its 2xx. */
export function holds(s: StepReport): boolean {
  return s.latencyMs.p99 < P99_LIMIT_MS && failures(s) === 0 && s.counts.ok >= 0.99 * s.counts.offered;
}

export interface SearchOptions {
  readonly start: number;
  readonly factor: number;
  readonly stepSec: number;
  readonly maxSteps: number;
}

/** Plans the arrivals a search may need (every step run), per worker. */
export function searchArrivals(o: SearchOptions, warmupArrivals: number): number {
  let total = warmupArrivals;
  let rate = o.start;
  for (let i = 0; i < o.maxSteps; i++) {
    total += Math.ceil(rate * o.stepSec);
    rate *= o.factor;
  }
  return total;
}

/**
 * Steps the arrival rate up by `factor` until a step does not hold; the
 * maximum is the last step that held. Between steps the pool has drained, so
 * each step starts from an idle server.
 */
export async function searchMax(
  ctx: RunContext,
  pool: WorkerPool,
  label: string,
  o: SearchOptions,
): Promise<number> {
  let rate = o.start;
  let best = 0;
  for (let i = 0; i < o.maxSteps; i++) {
    const step = ctx.step(await pool.phase(`${label}-${Math.round(rate)}`, rate, o.stepSec), null);
    const ok = holds(step);
    step.pass = ok;
    ctx.log(`${label} step at ${Math.round(rate)}/s ${ok ? 'holds' : 'does not hold'}`);
    if (!ok) break;
    best = Math.round(rate);
    rate *= o.factor;
  }
  return best;
}
