/**
 * `sessions`: open ≥ 100,000 WebSocket sessions (`/v1/session`), hold them
 * while a steady stream of voters casts (≥ 1,000 ballots/s), then the
 * correctness check.
 *
 * Spreading: ingest runs `processes` processes (each caps itself at 16,000
 * sessions, under its 20,000 open files) on `ports` ports; session holders
 * each hold ≤ 14,000 sockets (under their own 20,000 open files) and go
 * round-robin over the ports. connect() without bind() picks a source port
 * per destination 4-tuple, so each ingest port has the whole ephemeral range
 * (≈ 28k) to itself: 8 ports ≈ 225k. Binding 127.0.0.x source addresses
 * instead stalled near 7,500 sockets per address (bind(0)'s port search).
 *
 * Memory per session is measured, not estimated: ingest and holder RSS and
 * kernel socket memory (/proc/net/sockstat, slab caches) just before the
 * ramp and once every session is open, divided by the sessions opened.
 */

import { socketSlabBytes, sockstat, treeUsage } from '../proc-stats.js';
import type { RunContext } from '../run-context.js';
import { WorkerPool } from '../worker-pool.js';
import type { SessionWorkerInit } from '../workers/protocol.js';
import { realVotersAndCorrectness } from './finish.js';
import { failures, P99_LIMIT_MS, startHttpPool } from './http-steps.js';

export interface SessionsOptions {
  readonly sessions: number;
  readonly holdSec: number;
  readonly castRate: number;
  readonly rampPerSec: number;
  /** 0: one per 14,000 sessions. */
  readonly holders: number;
  readonly minCastRate: number;
  readonly realVoters?: number;
  readonly prepared?: boolean;
  /** A cast pool already running with enough voters for the hold (smoke). */
  readonly castPool?: WorkerPool;
  /** Wait after the ramp before sampling memory. @default 3000 */
  readonly settleMs?: number;
}

const PER_HOLDER = 14_000;

interface MemorySample {
  readonly ingestRss: number;
  readonly holderRss: number;
  readonly tcpMem: number;
  readonly slab: number | null;
  readonly sockets: number;
}

function memory(ctx: RunContext, holders: WorkerPool): MemorySample {
  const [ingest, ...rest] = treeUsage([ctx.ingest!.pid, ...holders.pids]);
  const s = sockstat();
  return {
    ingestRss: ingest?.rssBytes ?? 0,
    holderRss: rest.reduce((a, u) => a + u.rssBytes, 0),
    tcpMem: s.tcpMemBytes,
    slab: socketSlabBytes(),
    sockets: s.sockets,
  };
}

export async function sessionsScenario(ctx: RunContext, o: SessionsOptions): Promise<void> {
  const realVoters = o.realVoters ?? 20;
  if (o.prepared !== true) {
    await ctx.prepare('sample', 1000 + realVoters);
    await ctx.startIngest({ processes: ctx.options.processes, maxInFlight: 2000, devLogin: true });
  }
  const holderCount = o.holders > 0 ? o.holders : Math.ceil(o.sessions / PER_HOLDER);
  const inits: SessionWorkerInit[] = Array.from({ length: holderCount }, (_, i) => ({
    kind: 'sessions',
    id: 100 + i,
    ports: ctx.ports,
    localAddress: null,
    sessions: Math.floor(o.sessions / holderCount) + (i < o.sessions % holderCount ? 1 : 0),
    rampPerSec: Math.max(1, o.rampPerSec / holderCount),
  }));
  const cast =
    o.castPool ??
    (await startHttpPool(ctx, {
      kind: 'cast',
      workers: 2,
      perWorker: Math.ceil((o.castRate * o.holdSec) / 2) + 10,
      maxConnections: 2000,
      timeoutMs: 10_000,
    }));
  const holders = await WorkerPool.start(ctx.timeline, inits);
  ctx.pools.push(holders);
  ctx.setup.sessions = {
    ...o,
    holders: holderCount,
    perHolder: inits.map((i) => i.sessions),
    client: 'node:net minimal WebSocket client (workers/ws-session.ts)',
  };
  const before = memory(ctx, holders);
  ctx.log(`ramping ${o.sessions} sessions at ${o.rampPerSec}/s over ${holderCount} holder processes`);
  holders.startSessions();
  const rampStarted = Date.now();
  const rampLimitMs = (o.sessions / o.rampPerSec) * 2000 + 60_000;
  let lastLog = 0;
  while (ctx.timeline.openSessions < o.sessions && Date.now() - rampStarted < rampLimitMs) {
    await new Promise((r) => setTimeout(r, 500));
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      ctx.log(`sessions open: ${ctx.timeline.openSessions} / ${o.sessions}`);
    }
  }
  const rampSec = (Date.now() - rampStarted) / 1000;
  const reached = ctx.timeline.openSessions;
  await new Promise((r) => setTimeout(r, o.settleMs ?? 3000)); // let RSS and sockstat settle
  const full = memory(ctx, holders);
  const open = Math.max(1, ctx.timeline.openSessions);
  ctx.log(
    `${reached} sessions open after ${rampSec.toFixed(0)} s; holding ${o.holdSec} s with ${o.castRate} casts/s`,
  );

  let minHeld = Number.POSITIVE_INFINITY;
  const watch = setInterval(() => {
    minHeld = Math.min(minHeld, ctx.timeline.openSessions);
  }, 1000);
  const dropsBefore = sum(holders, 'drops');
  const hold = ctx.step(await cast.phase('hold-cast', o.castRate, o.holdSec), null);
  clearInterval(watch);
  minHeld = Math.min(minHeld, ctx.timeline.openSessions);
  const dropsDuring = sum(holders, 'drops') - dropsBefore;
  hold.pass = hold.latencyMs.p99 < P99_LIMIT_MS && failures(hold) === 0;

  const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  const perSession = (a: number, b: number): number => Math.round((a - b) / open);
  ctx.summary.sessions = {
    target: o.sessions,
    reached,
    rampSec: Math.round(rampSec),
    minHeldDuringHold: minHeld,
    dropsDuringHold: dropsDuring,
    drops: sum(holders, 'drops'),
    reconnects: sum(holders, 'reconnects'),
    refusedUpgrades: sum(holders, 'refused'),
    connectErrors: sum(holders, 'errors'),
    statusMessages: sum(holders, 'messages'),
    samples: [...holders.sessionTicks.values()].flatMap((t) => t.sampleErrors).slice(0, 8),
  };
  ctx.summary.memory = {
    ingestRssMb: { before: mb(before.ingestRss), full: mb(full.ingestRss) },
    holderRssMb: { before: mb(before.holderRss), full: mb(full.holderRss) },
    kernelTcpMemMb: { before: mb(before.tcpMem), full: mb(full.tcpMem) },
    kernelSocketSlabMb:
      before.slab === null || full.slab === null ? null : { before: mb(before.slab), full: mb(full.slab) },
    perSessionBytes: {
      ingestUserSpace: perSession(full.ingestRss, before.ingestRss),
      holderUserSpace: perSession(full.holderRss, before.holderRss),
      kernelTcpBuffers: perSession(full.tcpMem, before.tcpMem),
      kernelSocketSlabsBothEnds:
        before.slab === null || full.slab === null ? null : perSession(full.slab, before.slab),
    },
  };
  ctx.threshold('sessions opened', `≥ ${o.sessions}`, reached, reached >= o.sessions);
  ctx.threshold(
    `sessions held for ${o.holdSec} s (minimum)`,
    `≥ ${o.sessions}`,
    minHeld,
    minHeld >= o.sessions,
  );
  ctx.threshold('sessions dropped during the hold', '= 0', dropsDuring, dropsDuring === 0);
  ctx.threshold(
    'ballots/s cast during the hold',
    `≥ ${o.minCastRate}`,
    hold.goodput,
    hold.goodput >= o.minCastRate,
  );
  ctx.threshold(
    'cast p99 during the hold',
    `< ${P99_LIMIT_MS} ms`,
    hold.latencyMs.p99,
    hold.latencyMs.p99 < P99_LIMIT_MS,
  );
  ctx.threshold('cast failures during the hold', '= 0', failures(hold), failures(hold) === 0);

  ctx.log('closing sessions');
  await holders.stop();
  ctx.pools.splice(ctx.pools.indexOf(holders), 1);
  if (o.prepared !== true) {
    const accepted = hold.counts.created;
    await realVotersAndCorrectness(
      ctx,
      { acceptedBallots: accepted, unknownBallots: hold.counts.timeouts + hold.counts.errors },
      realVoters,
    );
  }
}

function sum(pool: WorkerPool, field: 'drops' | 'reconnects' | 'refused' | 'errors' | 'messages'): number {
  let total = 0;
  for (const t of pool.sessionTicks.values()) total += t[field];
  return total;
}
