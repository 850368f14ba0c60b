/**
 * `paper`: the paper day's check-in bursts alongside online voting (issue 15).
 *
 *   casts alone at castRate for aloneSec (the baseline) ─►
 *   stations × perStation check-ins spread over durationSec (officials of each
 *   station checking members in, stations interleaved)  ‖  casts at castRate
 *   ─► real-path voters ─► correctness: ballots receipt by receipt, and
 *   check-ins voter by voter (2xx answers = paper issuance records in Kafka)
 *
 * The default is the example, 600 check-ins in 10 minutes per
 * station × 50 stations (50 check-ins/s), next to 300 casts/s. Both streams
 * must hold the usual step rule (p99 < 250 ms, nothing failed, ≥ 99 % 2xx);
 * the report gives cast p99 during the paper day against the casts alone.
 * The members checked in are of each station's district, found on the run's
 * roll (sized so that every station's district has enough of them) apart from
 * the real-path voters (the roll's last members).
 */
import {
  forEachSampleMember,
  loadElection,
  MAX_SAMPLE_PAGE,
  sampleRollCounts,
  sampleRollPlan,
} from '../../election/index.js';
import type { ElectionLog } from '../chaos/observe/kafka-log.js';
import type { StepReport } from '../report-json.js';
import type { RunContext } from '../run-context.js';
import { WorkerPool } from '../worker-pool.js';
import type { CheckInStation } from '../workers/protocol.js';
import { realVotersAndCorrectness } from './finish.js';
import { failures, P99_LIMIT_MS, startHttpPool } from './http-steps.js';

export interface PaperOptions {
  readonly stations: number;
  readonly perStation: number;
  readonly durationSec: number;
  /** Online casts per second during the check-ins. */
  readonly castRate: number;
  /** Seconds of the same casts alone before the paper day: the baseline of the cast p99 ratio (0: none). */
  readonly aloneSec: number;
  readonly realVoters?: number;
  /** The step rule's p99 bound. @default 250 ms (the smoke, seconds long on a busy CI box, checks the path with 1 s) */
  readonly p99LimitMs?: number;
  /**
   * Ingest already started on a prepared run (smoke): a cast pool with enough voters, the roll's
   * members other pools take (from its start: `taken`; at its end: `reserved`).
   */
  readonly prepared?: { readonly castPool: WorkerPool; readonly taken: number; readonly reserved: number };
}

export const PAPER_DEFAULTS = {
  stations: 50,
  perStation: 600,
  durationSec: 600,
  castRate: 300,
  aloneSec: 60,
} as const;

/**
 * A sample-roll size at which the first `stations` precincts' districts each
 * hold `perStation` members per station among the roll's first
 * `size - reserved` (members are spread over districts by population, in a
 * shuffled order): 20 % over the expectation for the district that needs most.
 */
export function paperRollSize(
  template: string,
  stations: number,
  perStation: number,
  reserved: number,
): number {
  const index = loadElection(template);
  const counts = sampleRollCounts(index);
  const size = index.config.sampleRoll?.size ?? 0;
  const wanted = new Map<string, number>();
  for (const p of index.config.paperPrecincts.slice(0, stations)) {
    wanted.set(p.district, (wanted.get(p.district) ?? 0) + perStation);
  }
  const share = Math.max(...[...wanted].map(([d, n]) => (n * size) / Math.max(1, counts.get(d) ?? 0)));
  return Math.ceil(share * 1.2) + reserved;
}

/** Runs the paper day; returns the check-in pool, whose answers {@link checkInsRecorded} checks against the log. */
export async function paperScenario(ctx: RunContext, o: PaperOptions): Promise<WorkerPool> {
  const realVoters = o.realVoters ?? 20;
  if (o.prepared === undefined) {
    await ctx.prepare('sample', paperRollSize('sample', o.stations, o.perStation, realVoters));
    // One ballot per district per mix wait is what 300 casts/s over 60 districts gives: with the
    // shipped mix (k 8, T 1 s) cast p99 would be T itself. The mix is measured apart
    // (`loadtest mixing`); here the step rule measures the pipeline, as in `abuse`.
    await ctx.startIngest({
      processes: ctx.options.processes,
      maxInFlight: 2000,
      devLogin: true,
      extraEnv: { INGEST_MIX_MIN_BALLOTS: '1' },
    });
  }
  const stations = stationsOf(ctx, o, o.prepared?.taken ?? 0, o.prepared?.reserved ?? realVoters);
  const checkIns = await startCheckInPool(ctx, stations);
  const cast =
    o.prepared?.castPool ??
    (await startHttpPool(ctx, {
      kind: 'cast',
      workers: 2,
      perWorker: Math.ceil((o.castRate * (o.durationSec + o.aloneSec)) / 2) + 10,
      maxConnections: 1000,
      timeoutMs: 10_000,
    }));
  const total = stations.reduce((n, s) => n + s.memberIds.length, 0);
  ctx.setup.paper = { ...o, prepared: undefined, realVoters, checkIns: total };
  ctx.log(
    `paper day: ${total} check-ins at ${stations.length} stations over ${o.durationSec} s, ${o.castRate} casts/s`,
  );
  const alone =
    o.aloneSec > 0 ? ctx.step(await cast.phase('paper-cast-alone', o.castRate, o.aloneSec), null) : null;
  const [castStep, checkInStep] = await Promise.all([
    cast.phase('paper-cast', o.castRate, o.durationSec).then((r) => ctx.step(r, null)),
    checkIns.phase('paper-check-in', total / o.durationSec, o.durationSec).then((r) => ctx.step(r, null)),
  ]);
  const limit = o.p99LimitMs ?? P99_LIMIT_MS;
  for (const [what, step] of [
    ['casts', castStep],
    ['check-ins', checkInStep],
  ] as const) {
    step.pass =
      step.latencyMs.p99 < limit && failures(step) === 0 && step.counts.ok >= 0.99 * step.counts.offered;
    ctx.threshold(
      `${what} during the paper day hold (p99 < ${limit} ms, 0 failed, ≥ 99 % 2xx)`,
      'holds',
      describe(step),
      step.pass,
    );
  }
  const ratio =
    alone === null || alone.latencyMs.p99 <= 0
      ? null
      : Math.round((castStep.latencyMs.p99 / alone.latencyMs.p99) * 100) / 100;
  if (alone !== null) {
    alone.pass = failures(alone) === 0;
    // A figure, not a rule: the step rule above is the threshold; this says what the check-ins cost.
    ctx.notes.push(
      `cast p99 ${castStep.latencyMs.p99} ms during the paper day vs ${alone.latencyMs.p99} ms alone (× ${ratio ?? '—'})`,
    );
  }
  ctx.summary.paper = {
    stations: stations.length,
    checkIns: total,
    checkInP99Ms: checkInStep.latencyMs.p99,
    castP99Ms: castStep.latencyMs.p99,
    castAloneP99Ms: alone?.latencyMs.p99 ?? null,
    castP99Ratio: ratio,
  };
  if (o.prepared !== undefined) return checkIns;
  let accepted = 0;
  let unknown = 0;
  for (const s of ctx.steps) {
    if (!s.name.startsWith('paper-cast')) continue;
    accepted += s.counts.created;
    unknown += s.counts.timeouts + s.counts.errors;
  }
  const log = await realVotersAndCorrectness(
    ctx,
    { acceptedBallots: accepted, unknownBallots: unknown },
    realVoters,
  );
  checkInsRecorded(ctx, checkIns, log);
  return checkIns;
}

function describe(s: StepReport): string {
  return `p99 ${s.latencyMs.p99} ms, ${s.counts.ok}/${s.counts.offered} 2xx, ${failures(s)} failed`;
}

/**
 * The first `o.stations` precincts, an official each, and `o.perStation`
 * members of each one's district, from the roll's members `[taken, size − reserved)`
 * (pools taking members from the roll's start, the real-path voters and the
 * smoke's abuse tokens at its end stay clear).
 */
function stationsOf(ctx: RunContext, o: PaperOptions, taken: number, reserved: number): CheckInStation[] {
  const index = ctx.run!.index;
  const plan = sampleRollPlan(index);
  const precincts = index.config.paperPrecincts.slice(0, o.stations);
  // A district may have several stations: each gets its own members.
  const wanted = new Map<number, number>();
  for (const p of precincts) {
    const d = plan.districts.indexOf(p.district);
    wanted.set(d, (wanted.get(d) ?? 0) + o.perStation);
  }
  const byDistrict = new Map([...wanted.keys()].map((d) => [d, [] as string[]]));
  let missing = wanted.size;
  const end = plan.size - reserved;
  for (let from = taken; from < end && missing > 0; from += MAX_SAMPLE_PAGE) {
    forEachSampleMember(plan, from, Math.min(end, from + MAX_SAMPLE_PAGE), (memberId, d) => {
      const members = byDistrict.get(d);
      if (members === undefined || members.length === wanted.get(d)) return;
      members.push(memberId);
      if (members.length === wanted.get(d)) missing--;
    });
  }
  return precincts.map((p) => {
    const members = byDistrict.get(plan.districts.indexOf(p.district))!;
    const memberIds = members.splice(0, o.perStation);
    if (memberIds.length < o.perStation) {
      throw new Error(
        `district ${p.district} of the run's roll has fewer than ${o.perStation} members to check in at ${p.id}`,
      );
    }
    return { precinct: p.id, official: p.officials[0]!.id, memberIds };
  });
}

async function startCheckInPool(ctx: RunContext, stations: readonly CheckInStation[]): Promise<WorkerPool> {
  const run = ctx.run!;
  const pool = await WorkerPool.start(ctx.timeline, [
    {
      kind: 'http',
      id: 0,
      ports: ctx.ports,
      localAddresses: [],
      maxConnections: 500,
      timeoutMs: 10_000,
      source: { type: 'check-in', electionPath: run.path, stackDir: run.stackDir, stations },
    },
  ]);
  ctx.pools.push(pool);
  return pool;
}

/**
 * Check-ins by set, against the log the ballots' check read: every member
 * whose check-in was answered 2xx has a paper issuance record in Kafka; every
 * paper record is of a member the run checked in (answered or not); no member
 * has two channels.
 */
export function checkInsRecorded(ctx: RunContext, pool: WorkerPool, log: ElectionLog): void {
  const paper = new Set<string>();
  let twoChannels = 0;
  for (const [voter, records] of log.issuance) {
    const channels = new Set(records.map((r) => r.channel));
    if (channels.has('paper')) paper.add(voter);
    if (channels.size > 1) twoChannels++;
  }
  const lost = [...pool.receipts].filter((v) => !paper.has(v));
  const extra = [...paper].filter((v) => !pool.receipts.has(v) && !pool.unknownIds.has(v));
  ctx.summary.checkInCorrectness = {
    answered: pool.receipts.size,
    unknown: pool.unknownIds.size,
    kafkaPaper: paper.size,
    lost: lost.slice(0, 20),
    extra: extra.slice(0, 20),
    twoChannels,
  };
  ctx.threshold(
    'check-ins answered 2xx = paper issuance records in Kafka, voter by voter',
    '0 lost, 0 extra',
    `${pool.receipts.size} answered (+${pool.unknownIds.size} unknown) / ${paper.size} in Kafka: ${lost.length} lost, ${extra.length} extra`,
    lost.length === 0 && extra.length === 0,
  );
  ctx.threshold('members with issuance records in two channels', '= 0', twoChannels, twoChannels === 0);
}
