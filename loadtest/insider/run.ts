/**
 * One insider run, start to verdict:
 *
 *   stack up, topics, migrations ─► fresh election (tiny short, sample long)
 *   ─► ingest (with the promise's k and T) + publisher ─► voters: peak and
 *   off-peak arrivals, credential, think, cast ─► /metrics scraped ─► ingest
 *   stopped, ClickHouse settled, publisher stopped
 *   ─► the insider reads Redis, Kafka, ClickHouse, logs, metrics, public files
 *   ─► clocks ─► attacks (issuance, cast) vs chance; store scans ─► report
 *
 * Ground truth (voter → ballot) comes from the voters' history files in the
 * run's directory, never from the system.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClickHouse } from '../../aggregator/client.js';
import { awaitSettled } from '../../aggregator/lag.js';
import { migrate } from '../../aggregator/migrate.js';
import { type Config, loadConfig } from '../../common/config.js';
import { createLogger } from '../../common/log.js';
import { listSampleMembers, MAX_SAMPLE_PAGE, voterHash } from '../../election/index.js';
import { Stack } from '../../infra/stack/stack.js';
import { awaitCluster, ensureTopics } from '../../infra/topics.js';
import { seeded } from '../chaos/random.js';
import { ChaosSeries } from '../chaos/series.js';
import { SystemUnderTest } from '../chaos/system.js';
import { VoterPool } from '../chaos/voters/pool.js';
import type { ThinkTime, VoterWorkerInit } from '../chaos/voters/protocol.js';
import { machineInfo } from '../report-json.js';
import { newRunId, prepareRunElection, type RunElection, type Template } from '../run-election.js';
import { anonymitySets, type SizeStats, sizeStats } from './anonymity.js';
import { type Arrival, arrivals, dealArrivals, defaultPhases, type Phase } from './arrivals.js';
import { type AttackResult, attack, delayOf, type InsiderKind, marginOf } from './attack.js';
import {
  ALL_CLOCKS,
  alignedClock,
  ballotsOf,
  CLOCKS,
  type Clock,
  type ClockName,
  clocks,
  rankClock,
} from './clocks.js';
import { readClickHouse } from './evidence/clickhouse.js';
import { readKafka } from './evidence/kafka.js';
import { fileUnits, readRedis } from './evidence/redis.js';
import type { Unit } from './evidence/unit.js';
import { readTruth, type Truth } from './ground-truth.js';
import type { InsiderOptions, MixSettings } from './options.js';
import { type Identifiers, type ScanVerdict, scan } from './scans.js';

const SETTLE_TIMEOUT_MS = 180_000;

export interface AttackVerdict {
  readonly id: `attack-${InsiderKind}`;
  readonly pass: boolean;
  readonly chance: number;
  readonly margin: number;
  /** The clock that linked best, and its success. */
  readonly bestClock: ClockName;
  readonly success: number;
  readonly byClock: Record<ClockName, AttackResult>;
  /** Success and chance of the best clock, by the phase of the target's cast. */
  readonly byPhase: Record<string, { targets: number; success: number; chance: number }>;
}

export interface InsiderReport {
  readonly scenario: 'insider' | 'insider-short';
  readonly verdict: 'pass' | 'fail';
  readonly runId: string;
  readonly seed: number;
  readonly takenAt: string;
  readonly durationSec: number;
  readonly machine: unknown;
  readonly options: InsiderOptions;
  readonly promise: { k: number; tMs: number; scope: string; systemSettings: MixSettings };
  readonly election: { template: Template; regions: number; districts: number };
  readonly voters: { arrived: number; linkedTruth: number; targets: number; phases: readonly Phase[] };
  readonly anonymity: Record<string, SizeStats>;
  readonly attacks: readonly AttackVerdict[];
  readonly scans: readonly ScanVerdict[];
  readonly observed: Record<string, unknown>;
  readonly notes: readonly string[];
}

export class InsiderRun {
  readonly config: Config = loadConfig();
  readonly runId: string;
  readonly notes: string[] = [];
  readonly observed: Record<string, unknown> = {};
  private readonly started = Date.now();
  private readonly logger = createLogger('insider', 'warn');
  private run: RunElection | null = null;
  private sut: SystemUnderTest | null = null;
  private pool: VoterPool | null = null;
  private t0 = 0;
  private arrivals: Arrival[] = [];
  private readonly phases: Phase[];
  private readonly think: ThinkTime;

  constructor(readonly o: InsiderOptions) {
    this.runId = newRunId(o.short ? 'insider-short' : 'insider');
    this.phases = defaultPhases(o.seconds);
    this.think = { medianMs: o.thinkMedianMs, sigma: o.thinkSigma, maxMs: o.thinkMedianMs * 8 };
  }

  log(line: string): void {
    const t = ((Date.now() - this.started) / 1000).toFixed(0).padStart(4);
    if (!this.o.quiet) process.stderr.write(`[insider ${t}s] ${line}\n`);
  }

  get dir(): string {
    return this.run?.dir ?? join('test-output', 'loadtest', 'runs', this.runId);
  }

  private get template(): Template {
    return this.o.short ? 'tiny' : 'sample';
  }

  async prepare(): Promise<void> {
    const { o, config } = this;
    this.log(
      `run ${this.runId}, seed ${o.seed}: ${o.voters} voters over ${o.seconds} s, promise k=${o.mixK}, T=${o.mixTMs} ms per ${o.mixScope}`,
    );
    await new Stack(config).up((l) => this.log(l));
    await awaitCluster(config);
    this.run = await prepareRunElection(this.runId, this.template, o.voters + 100, (l) => this.log(l));
    const run = this.run;
    await ensureTopics(config, run.index.partitionCount);
    await migrate(config, this.logger);
    this.sut = new SystemUnderTest(config, run, {
      port: o.port,
      publisherPort: o.publisherPort,
      processes: o.processes,
      maxInFlight: 2000,
      produceTimeoutMs: 10_000,
      snapshotIntervalSec: o.short ? 30 : 300,
      dir: run.dir,
      ingestEnv: {
        INGEST_MIX_MIN_BALLOTS: String(o.mixK),
        INGEST_MIX_MAX_WAIT_MS: String(o.mixTMs),
        // What an operator runs in production: the insider reads these logs too.
        LOG_LEVEL: 'info',
      },
    });
    await Promise.all([this.sut.startIngest(), this.sut.startPublisher()]);
    this.arrivals = arrivals(o.voters, this.phases, o.seed);
    const lists = dealArrivals(this.arrivals, o.workers);
    const inits: VoterWorkerInit[] = [];
    let first = 0;
    lists.forEach((list, w) => {
      inits.push({
        id: w,
        base: this.sut!.ingestBase,
        electionPath: run.path,
        stackDir: run.stackDir,
        seed: o.seed,
        credentialFile: null,
        cacheFirst: 0,
        cacheCount: 0,
        memberFirst: first,
        memberCount: list.length,
        historyFile: join(run.dir, `history-${w}.jsonl`),
        arrivalsMs: list,
        behaviour: {
          changeShare: 0,
          recastShare: 0,
          secondShare: 0,
          laterMinMs: 0,
          laterMaxMs: 0,
          think: this.think,
        },
        client: { timeoutMs: 15_000, backoffCapMs: 3_000 },
      });
      first += list.length;
    });
    this.pool = await VoterPool.start(inits);
  }

  async load(): Promise<void> {
    const { o } = this;
    this.t0 = Date.now() + 500;
    const series = new ChaosSeries(this.t0);
    const windowMs = o.seconds * 1000;
    const progress = setInterval(() => {
      const last = series.seconds().slice(-6, -1);
      const sum = (f: (s: (typeof last)[number]) => number): number => last.reduce((a, s) => a + f(s), 0);
      if (last.length > 0)
        this.log(`last 5 s: ${sum((s) => s.issueOk)} credentials, ${sum((s) => s.castOk)} ballots`);
    }, 10_000);
    progress.unref();
    try {
      await this.pool!.run(series, windowMs, windowMs + this.think.maxMs + 30_000);
    } finally {
      clearInterval(progress);
    }
    const scrape = async (name: string, base: string): Promise<void> => {
      const text = await fetch(`${base}/metrics`)
        .then((r) => (r.ok ? r.text() : `(status ${r.status})`))
        .catch((err: unknown) => `(unreachable: ${(err as Error).message})`);
      await writeFile(join(this.dir, `metrics-${name}.txt`), text);
    };
    // Operations endpoints live on their own ports (INGEST_OPS_PORT, PUBLISHER_OPS_PORT: public + 1000).
    await scrape('ingest', this.sut!.ingestOps);
    await scrape('publisher', `http://127.0.0.1:${o.publisherPort + 1000}`);
  }

  async settle(): Promise<void> {
    this.log('stopping ingest (graceful drain); ClickHouse settles');
    await this.sut!.stopIngest();
    await awaitSettled(this.config, this.logger, { timeoutMs: SETTLE_TIMEOUT_MS });
    await this.sut!.stopPublisher();
  }

  /** The insider reads everything, then attacks and scans. */
  async judge(): Promise<Omit<InsiderReport, 'durationSec'>> {
    const { o, config } = this;
    const run = this.run!;
    this.log('the insider reads Redis, Kafka, ClickHouse, logs, metrics and the public files');
    const redis = await readRedis(config, new Stack(config).layout.redisDir);
    const kafka = await readKafka(config, run.index.id);
    const clickhouse = await readClickHouse(config, run.index.id);
    const files: Unit[] = [];
    for (const f of ['ingest.log', 'publisher.log']) {
      for (const u of await fileUnits('logs', join(run.dir, f)).catch(() => [])) files.push(u);
    }
    for (const f of ['metrics-ingest.txt', 'metrics-publisher.txt'])
      for (const u of await fileUnits('metrics', join(run.dir, f))) files.push(u);
    // One push per unit: a spread passes every unit as an argument, and service logs hold millions of lines.
    for (const u of await fileUnits('public', run.publicDir)) files.push(u);
    for (const u of await fileUnits('logs', new Stack(config).layout.logDir)) files.push(u);

    // The roll the harness made: member id → voterHash → district (the insider holds the pepper too).
    const districtOf = new Map<string, { district: string; region: string }>();
    const memberIds = new Set<string>();
    for (let from = 0; from < o.voters; from += MAX_SAMPLE_PAGE) {
      for (const m of listSampleMembers(run.index, from, Math.min(MAX_SAMPLE_PAGE, o.voters - from))) {
        memberIds.add(m.memberId);
        const region = run.index.district(m.district)?.region ?? '';
        districtOf.set(voterHash(run.keys.pepper, m.memberId), { district: m.district, region });
      }
    }
    const historyFiles = Array.from({ length: o.workers }, (_, w) => join(run.dir, `history-${w}.jsonl`));
    const truth = await readTruth(historyFiles, districtOf);
    const pick = seeded(o.seed ^ 0x1234567);
    const targets = truth.filter(() => pick() < o.targetShare);
    const sets = anonymitySets(truth, { minBallots: o.mixK, maxWaitMs: o.mixTMs, scope: o.mixScope });
    const phaseOf = (t: Truth): string => {
      let end = 0;
      for (const p of this.phases) {
        end += p.seconds * 1000;
        if (t.castMs < end) return p.name;
      }
      return 'off-peak';
    };
    const sizeOf = (t: Truth): number => sets.get(t.ballotId)?.length ?? 1;
    const anonymity: Record<string, SizeStats> = { all: sizeStats(targets.map(sizeOf)) };
    for (const name of ['peak', 'off-peak'])
      anonymity[name] = sizeStats(targets.filter((t) => phaseOf(t) === name).map(sizeOf));

    const ballots = ballotsOf(kafka.ballots);
    const ballotIds = new Set(ballots.map((b) => b.ballotId));
    const redisAccess = new Map<string, number>();
    for (const [key, at] of redis.lastAccess) {
      const id = key.slice(key.lastIndexOf(':') + 1);
      if (ballotIds.has(id)) redisAccess.set(id, at);
    }
    const partTime = new Map([...clickhouse.partOf].map(([id, p]) => [id, p.modifiedMs]));
    const estimate = clocks({ ballots: kafka.ballots, redisAccess, partTime, t0: this.t0 }, ballots);

    const attacks: AttackVerdict[] = [];
    const chances = targets.map((t) => 1 / sizeOf(t));
    const chance = chances.reduce((s, p) => s + p, 0) / Math.max(1, chances.length);
    const margin = marginOf(chances);
    for (const kind of ['issuance', 'cast'] as const) {
      const byClock = {} as Record<ClockName, AttackResult>;
      const perTarget = {} as Record<ClockName, Map<string, number>>;
      const known = new Map<string, number[]>();
      for (const t of targets) {
        const list = known.get(t.district) ?? [];
        list.push(kind === 'cast' ? t.castMs : t.issuedMs + this.think.medianMs);
        known.set(t.district, list);
      }
      // The Redis clock's delay behind the known times, as the insider measures it with its own test ballots.
      const lag = delayOf(targets, estimate.redis, (t) =>
        kind === 'cast' ? t.castMs : t.issuedMs + this.think.medianMs,
      );
      const own: Record<ClockName, Clock> = {
        ...estimate,
        rank: rankClock(ballots, known),
        aligned: alignedClock(ballots, estimate.redis, known, lag),
      };
      for (const name of ALL_CLOCKS) {
        const a = attack(kind, targets, ballots, own[name], this.think);
        byClock[name] = a.result;
        perTarget[name] = a.perTarget;
      }
      const bestClock = ALL_CLOCKS.reduce(
        (b, c) => (byClock[c].success > byClock[b].success ? c : b),
        ALL_CLOCKS[0]!,
      );
      const byPhase: AttackVerdict['byPhase'] = {};
      for (const name of ['peak', 'off-peak']) {
        const ts = targets.filter((t) => phaseOf(t) === name);
        const n = Math.max(1, ts.length);
        byPhase[name] = {
          targets: ts.length,
          success: ts.reduce((s, t) => s + (perTarget[bestClock].get(t.ballotId) ?? 0), 0) / n,
          chance: ts.reduce((s, t) => s + 1 / sizeOf(t), 0) / n,
        };
      }
      const success = byClock[bestClock].success;
      attacks.push({
        id: `attack-${kind}`,
        pass: success <= chance + margin,
        chance,
        margin,
        bestClock,
        success,
        byClock,
        byPhase,
      });
    }

    const digests = await digestsOf(config, [...districtOf.keys()], [...ballotIds]);
    const ids: Identifiers = { memberIds, voterHashes: new Set(districtOf.keys()), ballotIds, digests };
    const units = [...redis.units, ...kafka.units, ...clickhouse.units, ...files];
    const scans = scan(units, ids);

    const parts = clickhouse.parts.filter((p) => p.active && p.table === 'ballots_raw');
    Object.assign(this.observed, {
      redis: { keys: redis.keys, idleClock: redis.idleClock, ballotKeysWithIdleTime: redisAccess.size },
      kafka: {
        ballotRecords: kafka.ballots.length,
        ballotBatches: new Set(kafka.ballots.map((r) => `${r.partition}/${r.batch}`)).size,
        issuanceRecords: kafka.issuance.length,
        distinctBallotTimestamps: new Set(kafka.ballots.map((r) => r.timestampMs)).size,
      },
      clickhouse: {
        tables: clickhouse.tables,
        ballotsRawActiveParts: parts.length,
        ballotsWithPart: partTime.size,
      },
      units: units.length,
      clocksCoverage: Object.fromEntries(CLOCKS.map((c) => [c, estimate[c].size])),
    });
    const verdict = attacks.every((a) => a.pass) && scans.every((s) => s.pass) ? 'pass' : 'fail';
    return {
      scenario: o.short ? 'insider-short' : 'insider',
      verdict,
      runId: this.runId,
      seed: o.seed,
      takenAt: new Date(this.started).toISOString(),
      machine: machineInfo(null),
      options: o,
      promise: {
        k: o.mixK,
        tMs: o.mixTMs,
        scope: o.mixScope,
        systemSettings: systemMix(config),
      },
      election: {
        template: this.template,
        regions: run.index.config.regions.length,
        districts: run.index.config.districts.length,
      },
      voters: {
        arrived: this.arrivals.length,
        linkedTruth: truth.length,
        targets: targets.length,
        phases: this.phases,
      },
      anonymity,
      attacks,
      scans,
      observed: this.observed,
      notes: this.notes,
    };
  }

  elapsedSec(): number {
    return Math.round((Date.now() - this.started) / 1000);
  }

  async cleanUp(): Promise<void> {
    this.pool?.stop();
    await this.sut?.stopIngest().catch(() => null);
    await this.sut?.stopPublisher().catch(() => undefined);
  }
}

/** The system's own mix settings, when the code under test has them. */
export function systemMix(config: Config): MixSettings {
  const ingest = config.ingest as Partial<Record<keyof MixSettings, number>>;
  return { mixMinBallots: ingest.mixMinBallots, mixMaxWaitMs: ingest.mixMaxWaitMs };
}

/** SipHash-128 digests of the ids, computed by ClickHouse itself (what its uniqExact states keep). */
async function digestsOf(
  config: Config,
  voters: readonly string[],
  ballots: readonly string[],
): Promise<Map<string, 'voter' | 'ballot'>> {
  const ch = new ClickHouse(config);
  const out = new Map<string, 'voter' | 'ballot'>();
  try {
    for (const [kind, list] of [
      ['voter', voters],
      ['ballot', ballots],
    ] as const) {
      for (let i = 0; i < list.length; i += 2000) {
        const literals = list.slice(i, i + 2000).map((x) => `'${x.replace(/[^A-Za-z0-9]/g, '')}'`);
        const rows = await ch.rows<{ h: string }>(
          `SELECT hex(sipHash128(x)) AS h FROM (SELECT arrayJoin([${literals.join(',')}]) AS x)`,
        );
        for (const r of rows) out.set(r.h, kind);
      }
    }
  } finally {
    await ch.close();
  }
  return out;
}
