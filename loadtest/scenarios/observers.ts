/**
 * `observers`: 1,000 observers on the publisher's live feed while voting
 * runs (issue 16).
 *
 *   casts alone at castRate for aloneSec (the baseline) ─►
 *   1,000 observers connect and sign in (`/v1/observe/feed`, one holder process) ─►
 *   casts at castRate for withSec ‖ the commission extends the closing time
 *   `actions` times (signed `extended` events: harmless to voting) ‖ turnout
 *   checkpoints read from ClickHouse ─► real-path voters ─► correctness
 *
 * Thresholds: every observer signed in and none dropped; each action and
 * each turnout change reached every observer within 5 s at p99 (and reached
 * all of them); the casts with observers hold the usual step rule. The cast
 * p99 with observers against the casts alone is reported as a ratio.
 *
 * "Reached" is timed from what the feed can know: an action from the moment
 * it is produced to Kafka (acks=all); a turnout change from the moment
 * ClickHouse first answers the new total (the Kafka-to-ClickHouse freshness
 * before that is the aggregator's, reported apart as a figure: the time from
 * a phase's last acknowledged cast to ClickHouse holding it).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { ClickHouse } from '../../aggregator/client.js';
import { turnout } from '../../aggregator/queries.js';
import { repoRoot } from '../../common/paths.js';
import { ELECTION_EVENTS_PARTITION, TOPICS } from '../../common/records.js';
import { issueDevStaffToken, newEventId, signEvent } from '../../election/index.js';
import { createHistogram, percentiles, recordMs } from '../histogram.js';
import type { StepReport } from '../report-json.js';
import type { RunContext } from '../run-context.js';
import type { HolderMessage } from '../workers/observer-holder.js';
import { realVotersAndCorrectness } from './finish.js';
import { failures, P99_LIMIT_MS, startHttpPool } from './http-steps.js';

export interface ObserversOptions {
  readonly observers: number;
  readonly castRate: number;
  readonly aloneSec: number;
  readonly withSec: number;
  /** Commission actions during the casts with observers. */
  readonly actions: number;
  /** Observers connected per second. */
  readonly rampPerSec: number;
  /** The publisher's public port. */
  readonly publisherPort: number;
  readonly realVoters?: number;
}

export const OBSERVERS_DEFAULTS = {
  observers: 1000,
  castRate: 300,
  aloneSec: 60,
  withSec: 120,
  actions: 3,
  rampPerSec: 200,
} as const;

/** Observers' updates must arrive within this, at p99. */
const UPDATE_LIMIT_MS = 5_000;
/** Turnout checkpoints spread over the casts with observers. */
const CHECKPOINTS = 8;
const HOLDER = fileURLToPath(new URL('../workers/observer-holder.ts', import.meta.url));

export async function observersScenario(ctx: RunContext, o: ObserversOptions): Promise<void> {
  const realVoters = o.realVoters ?? 20;
  await ctx.prepare('sample', 1000 + realVoters);
  const run = ctx.run!;
  // As in `paper`: one ballot per district per mix wait at 300/s would make cast p99 the mix's T.
  await ctx.startIngest({
    processes: ctx.options.processes,
    maxInFlight: 2000,
    devLogin: true,
    extraEnv: { INGEST_MIX_MIN_BALLOTS: '1' },
  });
  const cast = await startHttpPool(ctx, {
    kind: 'cast',
    workers: 2,
    perWorker: Math.ceil((o.castRate * (o.aloneSec + o.withSec)) / 2) + 10,
    maxConnections: 1000,
    timeoutMs: 10_000,
  });
  const publisher = await startPublisher(ctx, o.publisherPort);
  const holder = new Holder();
  const ch = new ClickHouse(ctx.config, { requestTimeoutMs: 10_000 });
  const kafka = new Kafka({
    clientId: 'loadtest-observers',
    brokers: [...ctx.config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  ctx.setup.observers = { ...o, realVoters };
  try {
    await producer.connect();
    const alone = ctx.step(await cast.phase('observers-cast-alone', o.castRate, o.aloneSec), null);
    alone.pass = failures(alone) === 0;

    const token = await issueDevStaffToken(run.keys, run.index, { role: 'observer', id: 'loadtest-press' });
    ctx.log(`connecting ${o.observers} observers at ${o.rampPerSec}/s`);
    holder.start(`ws://127.0.0.1:${o.publisherPort}/v1/observe/feed`, token, o.observers, o.rampPerSec);
    const connectDeadline = Date.now() + (o.observers / o.rampPerSec) * 1000 + 30_000;
    while (holder.status.signedIn < o.observers && Date.now() < connectDeadline) await sleep(500);
    const signedIn = holder.status.signedIn;
    ctx.threshold('observers signed in to the feed', `= ${o.observers}`, signedIn, signedIn === o.observers);

    // The casts with observers; meanwhile actions and turnout checkpoints.
    const phase = cast.phase('observers-cast', o.castRate, o.withSec).then((r) => ctx.step(r, null));
    const phaseEnd = Date.now() + o.withSec * 1000;
    const actions: { id: string; at: number }[] = [];
    const checkpoints: { castAtLeast: number; at: number }[] = [];
    const operator = [...run.keys.operators.entries()][0];
    if (operator === undefined) throw new Error(`the ${run.template} election has no operator to act`);
    let closes = run.index.closesAt;
    const actionEvery = (o.withSec * 1000) / (o.actions + 1);
    const checkpointEvery = (o.withSec * 1000) / (CHECKPOINTS + 1);
    let nextAction = Date.now() + actionEvery;
    let nextCheckpoint = Date.now() + checkpointEvery;
    let lastTotal = await castTotal(ch, run.index.id);
    while (Date.now() < phaseEnd) {
      if (actions.length < o.actions && Date.now() >= nextAction) {
        nextAction += actionEvery;
        closes += 3_600_000;
        const record = signEvent(
          {
            v: 1,
            id: newEventId(),
            election: run.index.id,
            type: 'extended',
            at: Date.now(),
            by: operator[0],
            detail: `load test: closing time extended by an hour (${actions.length + 1} of ${o.actions})`,
            until: new Date(closes).toISOString().replace('.000Z', 'Z'),
          },
          operator[1].privateKey,
        );
        const at = Date.now();
        await producer.send({
          topic: TOPICS.electionEvents,
          acks: -1,
          messages: [{ key: record.id, value: JSON.stringify(record), partition: ELECTION_EVENTS_PARTITION }],
        });
        actions.push({ id: record.id, at });
        ctx.log(`commission action ${record.id} (extended) produced`);
      }
      // A checkpoint: the first moment ClickHouse answers a higher total after its time has come.
      const total = await castTotal(ch, run.index.id);
      if (total > lastTotal && checkpoints.length < CHECKPOINTS && Date.now() >= nextCheckpoint) {
        nextCheckpoint += checkpointEvery;
        checkpoints.push({ castAtLeast: total, at: Date.now() });
      }
      lastTotal = total;
      await sleep(200);
    }
    const withObservers = await phase;
    withObservers.pass =
      withObservers.latencyMs.p99 < P99_LIMIT_MS &&
      failures(withObservers) === 0 &&
      withObservers.counts.ok >= 0.99 * withObservers.counts.offered;
    ctx.threshold(
      'casts with observers connected hold (p99 < 250 ms, 0 failed, ≥ 99 % 2xx)',
      'holds',
      describe(withObservers),
      withObservers.pass,
    );
    // Let the last action's and checkpoint's pushes arrive before asking.
    await sleep(UPDATE_LIMIT_MS + 1_000);
    const freshness = await clickHouseFreshness(ch, run.index.id, ctx);

    const actionLatency = createHistogram();
    let actionMissed = 0;
    for (const a of actions) {
      for (const t of await holder.ask({ action: a.id })) {
        if (t < 0) actionMissed++;
        else recordMs(actionLatency, Math.max(0, t - a.at));
      }
    }
    const turnoutLatency = createHistogram();
    let turnoutMissed = 0;
    for (const c of checkpoints) {
      for (const t of await holder.ask({ castAtLeast: c.castAtLeast })) {
        if (t < 0) turnoutMissed++;
        else recordMs(turnoutLatency, Math.max(0, t - c.at));
      }
    }
    const actionP = percentiles(actionLatency);
    const turnoutP = percentiles(turnoutLatency);
    ctx.threshold(
      `commission actions reached every observer (p99 < ${UPDATE_LIMIT_MS} ms)`,
      `p99 < ${UPDATE_LIMIT_MS} ms, 0 missed`,
      `p99 ${actionP.p99} ms, ${actionMissed} missed of ${actions.length * o.observers}`,
      actions.length === o.actions && actionMissed === 0 && actionP.p99 < UPDATE_LIMIT_MS,
    );
    ctx.threshold(
      `turnout changes reached every observer (p99 < ${UPDATE_LIMIT_MS} ms)`,
      `p99 < ${UPDATE_LIMIT_MS} ms, 0 missed`,
      `p99 ${turnoutP.p99} ms, ${turnoutMissed} missed of ${checkpoints.length * o.observers}`,
      checkpoints.length > 0 && turnoutMissed === 0 && turnoutP.p99 < UPDATE_LIMIT_MS,
    );
    const { drops, refused } = holder.status;
    ctx.threshold(
      'observer sockets dropped or refused',
      '= 0',
      drops + sum(refused),
      drops + sum(refused) === 0,
    );
    const ratio =
      alone.latencyMs.p99 <= 0
        ? null
        : Math.round((withObservers.latencyMs.p99 / alone.latencyMs.p99) * 100) / 100;
    ctx.ratios.castP99WithObserversVsAlone = ratio;
    ctx.notes.push(
      `cast p99 ${withObservers.latencyMs.p99} ms with ${o.observers} observers vs ${alone.latencyMs.p99} ms alone (× ${ratio ?? '—'})`,
    );
    ctx.summary.observers = {
      observers: o.observers,
      signedIn,
      actions: actions.length,
      actionLatencyMs: actionP,
      turnoutCheckpoints: checkpoints.length,
      turnoutLatencyMs: turnoutP,
      clickHouseFreshnessMs: freshness,
      castP99Ms: withObservers.latencyMs.p99,
      castAloneP99Ms: alone.latencyMs.p99,
      castP99Ratio: ratio,
    };
  } finally {
    holder.stop();
    await producer.disconnect().catch(() => undefined);
    await ch.close().catch(() => undefined);
    await publisher.stop();
  }
  let accepted = 0;
  let unknown = 0;
  for (const s of ctx.steps) {
    if (!s.name.startsWith('observers-cast')) continue;
    accepted += s.counts.created;
    unknown += s.counts.timeouts + s.counts.errors;
  }
  await realVotersAndCorrectness(ctx, { acceptedBallots: accepted, unknownBallots: unknown }, realVoters);
}

async function castTotal(ch: ClickHouse, election: string): Promise<number> {
  const rows = await turnout(ch, election);
  return rows.reduce((a, r) => a + r.castOnline, 0);
}

/** The casts stopped: how long until ClickHouse holds every acknowledged one (a figure, not a rule). */
async function clickHouseFreshness(
  ch: ClickHouse,
  election: string,
  ctx: RunContext,
): Promise<number | null> {
  const acknowledged = ctx.steps
    .filter((s) => s.name.startsWith('observers-cast'))
    .reduce((a, s) => a + s.counts.created, 0);
  const started = Date.now();
  while (Date.now() - started < 30_000) {
    if ((await castTotal(ch, election)) >= acknowledged) return Date.now() - started;
    await sleep(200);
  }
  return null;
}

function describe(s: StepReport): string {
  return `p99 ${s.latencyMs.p99} ms, ${s.counts.ok}/${s.counts.offered} 2xx, ${failures(s)} failed`;
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, n) => a + n, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's publisher (its own process, dev login on so the observer's dev token is trusted). */
async function startPublisher(ctx: RunContext, port: number): Promise<{ stop(): Promise<void> }> {
  const run = ctx.run!;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join('publisher', 'main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      STACK_DIR: run.stackDir,
      PUBLIC_DIR: run.publicDir,
      ELECTION: run.path,
      PUBLISHER_PORT: String(port),
      DEV_LOGIN: '1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`publisher exited during start:\n${output}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/observe/`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`publisher not up in 60 s:\n${output}`);
    }
    await sleep(250);
  }
  ctx.log(`publisher on port ${port}`);
  return {
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The observer holder process, and its answers. */
class Holder {
  status: Extract<HolderMessage, { type: 'status' }> = {
    type: 'status',
    open: 0,
    signedIn: 0,
    drops: 0,
    refused: {},
  };
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (arrivals: number[]) => void>();
  #next = 0;

  constructor() {
    this.#child = fork(HOLDER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: HolderMessage) => {
      if (m.type === 'status') this.status = m;
      else this.#pending.get(m.id)?.(m.arrivals);
    });
  }

  start(url: string, token: string, count: number, rampPerSec: number): void {
    this.#child.send({ type: 'start', url, token, count, rampPerSec });
  }

  ask(question: { castAtLeast?: number; action?: string }): Promise<number[]> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, (arrivals) => {
        this.#pending.delete(id);
        resolve(arrivals);
      });
      this.#child.send({ type: 'ask', id, ...question });
    });
  }

  stop(): void {
    if (this.#child.connected) this.#child.send({ type: 'stop' });
  }
}
