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
      localAddresses: [],
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

/** Not saturated: every arrival answered 2xx, no failures, and no queue building up (p99 < 1 s). */
export function keepsUp(s: StepReport): boolean {
  return failures(s) === 0 && s.counts.ok >= 0.99 * s.counts.offered && s.latencyMs.p99 < SATURATED_P99_MS;
}

/** A p99 above this means requests are queueing: the step is past saturation. */
export const SATURATED_P99_MS = 1000;

export interface SearchResult {
  /** Highest rate whose step held (p99 < 250 ms, zero errors); 0 if none. Every step is in the report. */
  readonly max: number;
  /** Highest rate the service kept up with (zero errors, no queue), whatever its p99. */
  readonly saturation: number;
}

/**
 * Steps the arrival rate up by `factor` while the service keeps up; the
 * maximum is the highest step that held the latency target, the saturation
 * point the last one it kept up with. Between steps the pool has drained, so
 * each step starts from an idle server.
 */
export async function searchMax(
  ctx: RunContext,
  pool: WorkerPool,
  label: string,
  o: SearchOptions,
): Promise<SearchResult> {
  let rate = o.start;
  let max = 0;
  let saturation = 0;
  for (let i = 0; i < o.maxSteps; i++) {
    const step = ctx.step(await pool.phase(`${label}-${Math.round(rate)}`, rate, o.stepSec), null);
    step.pass = holds(step);
    const up = keepsUp(step);
    ctx.log(
      `${label} step at ${Math.round(rate)}/s ${step.pass ? 'holds' : up ? 'keeps up (p99 over target)' : 'saturated'}`,
    );
    // The highest step that held; a lower step that missed (noise from other
    // load on a shared machine) is reported with its step, not hidden.
    if (step.pass) max = Math.round(rate);
    if (!up) break;
    saturation = Math.round(rate);
    rate *= o.factor;
  }
  return { max, saturation };
}
