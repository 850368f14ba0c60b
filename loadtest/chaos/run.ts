/**
 * One chaos run, start to verdict:
 *
 *   stack up, topics, migrations ─► fresh election (sample) ─► ingest + publisher
 *   ─► voters (open model) ∥ nemesis (fault plan) ─► heal everything
 *   ─► voters drain ─► ingest stopped (drains, flushes) ─► ClickHouse settles
 *   ─► a fresh snapshot (or the publisher's refusals) ─► publisher stopped
 *   ─► read Kafka, ClickHouse, snapshot ─► check ─► report
 *
 * Ctrl-C heals everything (no frozen or stopped service is left behind),
 * stops ingest, the publisher and the voters, and writes what it has.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { awaitSettled } from '../../aggregator/lag.js';
import { migrate } from '../../aggregator/migrate.js';
import { type Config, loadConfig } from '../../common/config.js';
import { createLogger } from '../../common/log.js';
import { Stack } from '../../infra/stack/stack.js';
import { awaitCluster, ensureTopics } from '../../infra/topics.js';
import { credentialFile, ensureCredentials } from '../credentials.js';
import { machineInfo } from '../report-json.js';
import { newRunId, prepareRunElection, type RunElection } from '../run-election.js';
import { attribute } from './check/attribution.js';
import { type HistoryIndex, indexHistory } from './check/history-index.js';
import { check, type Verdict } from './check/verdicts.js';
import { CpuSampler } from './cpu-sampler.js';
import { Nemesis } from './nemesis.js';
import { readElectionLog } from './observe/kafka-log.js';
import { type PublishedSnapshot, readCounted, readSnapshot } from './observe/published.js';
import type { ChaosOptions } from './options.js';
import { type Plan, planFaults } from './plan.js';
import { recoveryOf } from './recovery.js';
import { type ChaosReport, mergeSummaries } from './report.js';
import { ChaosSeries } from './series.js';
import { readLogFindings, refusalsSince } from './service-logs.js';
import { SystemUnderTest } from './system.js';
import { VoterPool } from './voters/pool.js';
import type { VoterWorkerInit } from './voters/protocol.js';

const TEMPLATE = 'sample';
/** ClickHouse gets this long to consume everything once ingest has stopped. */
const SETTLE_TIMEOUT_MS = 180_000;

export class ChaosRun {
  readonly config: Config = loadConfig();
  readonly runId: string;
  readonly notes: string[] = [];
  readonly setup: Record<string, unknown> = {};
  readonly observed: Record<string, unknown> = {};
  /** Wall time of each phase (prepare, load, settle, check), s. */
  readonly phasesSec: Record<string, number> = {};
  private readonly started = Date.now();
  private readonly logger = createLogger('chaos', 'warn');
  private run: RunElection | null = null;
  private sut: SystemUnderTest | null = null;
  private pool: VoterPool | null = null;
  private nemesis: Nemesis | null = null;
  private series: ChaosSeries | null = null;
  private sampler: CpuSampler | null = null;
  private plan: Plan | null = null;
  private snapshotFresh = false;
  private history: HistoryIndex | null = null;

  constructor(readonly o: ChaosOptions) {
    this.runId = newRunId(o.short ? 'chaos-short' : 'chaos');
  }

  /** Runs one phase and notes how long it took (`observed.phasesSec`). */
  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.phasesSec[name] = Math.round((Date.now() - started) / 100) / 10;
    }
  }

  log(line: string): void {
    const t = ((Date.now() - this.started) / 1000).toFixed(0).padStart(4);
    if (!this.o.quiet) process.stderr.write(`[chaos ${t}s] ${line}\n`);
  }

  get dir(): string {
    return this.run?.dir ?? join('test-output', 'loadtest', 'runs', this.runId);
  }

  /** Stack, election, credentials, ingest, publisher, voter processes, fault plan. */
  async prepare(): Promise<void> {
    const { o, config } = this;
    const issuance = Math.round(o.ballots * o.issueShare);
    const cache = o.ballots - issuance;
    this.plan = planFaults({
      count: o.faults,
      kinds: o.kinds,
      seed: o.seed,
      windowMs: o.seconds * 1000,
      overlap: o.overlap,
      brokers: config.kafka.brokerPorts.map((_, i) => `kafka-${i + 1}`),
      holds: {
        produceTimeoutMs: o.produceTimeoutMs,
        allDownMs: o.allDownSec * 1000,
        short: o.short,
        rollGraceMs: o.rollGraceSec * 1000,
      },
    });
    this.log(
      `run ${this.runId}, seed ${o.seed}: ${o.ballots} voters (${issuance} through issuance) over ${o.seconds} s, ${this.plan.faults.length} faults`,
    );
    await new Stack(config).up((l) => this.log(l));
    await awaitCluster(config);
    this.run = await prepareRunElection(this.runId, TEMPLATE, issuance + 100, (l) => this.log(l));
    const run = this.run;
    await ensureTopics(config, run.index.partitionCount);
    await migrate(config, this.logger);
    await ensureCredentials(
      run.keysetDir,
      join(run.keysetDir, `keyset-${TEMPLATE}.json`),
      `keyset-${TEMPLATE}`,
      cache,
      (l) => this.log(l),
    );
    const sut = new SystemUnderTest(config, run, systemOptions(o, run.dir));
    this.sut = sut;
    await sut.noteRoll();
    this.log(
      `starting ingest (${o.processes} workers, port ${o.port}) and the publisher (port ${o.publisherPort})`,
    );
    await Promise.all([sut.startIngest(), sut.startPublisher()]);
    const inits: VoterWorkerInit[] = [];
    for (let w = 0; w < o.workers; w++) {
      const slice = (total: number) => {
        const from = Math.floor((total * w) / o.workers);
        return { first: from, count: Math.floor((total * (w + 1)) / o.workers) - from };
      };
      const c = slice(cache);
      const m = slice(issuance);
      inits.push({
        id: w,
        base: sut.ingestBase,
        electionPath: run.path,
        stackDir: run.stackDir,
        seed: o.seed,
        credentialFile: cache > 0 ? credentialFile(run.keysetDir) : null,
        cacheFirst: c.first,
        cacheCount: c.count,
        memberFirst: m.first,
        memberCount: m.count,
        historyFile: join(run.dir, `history-${w}.jsonl`),
        arrivalsMs: null,
        behaviour: {
          changeShare: o.changeShare,
          recastShare: o.recastShare,
          secondShare: o.secondShare,
          laterMinMs: o.short ? 3_000 : 5_000,
          laterMaxMs: o.short ? 20_000 : 60_000,
          think: null,
        },
        client: { timeoutMs: o.timeoutMs, backoffCapMs: o.backoffCapMs },
      });
    }
    this.pool = await VoterPool.start(inits);
    Object.assign(this.setup, {
      election: {
        id: run.index.id,
        template: TEMPLATE,
        districts: run.index.config.districts.length,
        roll: issuance + 100,
      },
      voters: {
        total: o.ballots,
        issuance,
        preSigned: cache,
        arrivalsPerSec: Math.round((o.ballots / o.seconds) * 10) / 10,
      },
      ingest: { port: o.port, processes: o.processes, produceTimeoutMs: o.produceTimeoutMs },
      publisher: { port: o.publisherPort, snapshotIntervalSec: o.snapshotIntervalSec },
      plan: {
        warmupSec: this.plan.warmupMs / 1000,
        cooldownSec: this.plan.cooldownMs / 1000,
        faults: this.plan.faults,
      },
      stackDir: config.stackDir,
    });
  }

  /** Voters and nemesis together, then heal. */
  async load(): Promise<void> {
    const { o } = this;
    const sut = this.sut!;
    const pool = this.pool!;
    const t0 = Date.now() + 500;
    const series = new ChaosSeries(t0);
    this.series = series;
    this.sampler = new CpuSampler(
      series,
      () => sut.ingest?.pid ?? -1,
      () => pool.pids,
    );
    this.sampler.start();
    const windowMs = o.seconds * 1000;
    const nemesis = new Nemesis(sut, this.plan!, {
      seed: o.seed,
      lastStartMs: windowMs + (o.drainSec * 1000) / 2,
      rollGraceMs: o.rollGraceSec * 1000,
      log: (l) => this.log(l),
    });
    this.nemesis = nemesis;
    const progress = setInterval(() => this.progress(), 10_000);
    progress.unref();
    try {
      await Promise.all([
        pool.run(series, windowMs, windowMs + o.drainSec * 1000),
        sleep(t0 - Date.now())
          .then(() => nemesis.run(t0))
          .then(() => this.heal('after the last fault')),
      ]);
    } finally {
      clearInterval(progress);
    }
    await this.heal('after the voters finished');
    this.sampler.stop();
  }

  private async heal(when: string): Promise<void> {
    const done = await this.sut!.healAll();
    if (done.length > 0) {
      this.notes.push(`heal ${when}: ${done.join('; ')}`);
      this.log(`heal ${when}: ${done.join('; ')}`);
    }
  }

  private progress(): void {
    const last = this.series?.seconds().slice(-6, -1) ?? [];
    if (last.length === 0) return;
    const sum = (f: (s: (typeof last)[number]) => number): number =>
      Math.round(last.reduce((a, s) => a + f(s), 0) / last.length);
    this.log(
      `cast ok ${sum((s) => s.castOk)}/s, credentials ok ${sum((s) => s.issueOk)}/s, refused ${sum((s) => s.refused)}/s, unknown ${sum((s) => s.unknown)}/s, voters in flight ${last.findLast((s) => s.active !== null)?.active ?? '?'}`,
    );
  }

  /** Ingest stops, ClickHouse settles, the publisher publishes (or says why not) and stops. */
  async settle(): Promise<void> {
    const sut = this.sut!;
    const run = this.run!;
    this.log('stopping ingest (graceful drain)');
    this.observed.ingestExitCode = await sut.stopIngest();
    const settleStart = Date.now();
    await awaitSettled(this.config, this.logger, { timeoutMs: SETTLE_TIMEOUT_MS });
    const settledAt = Date.now();
    this.observed.settleMs = settledAt - settleStart;
    this.log(
      `ClickHouse settled in ${((settledAt - settleStart) / 1000).toFixed(1)} s; waiting for a fresh snapshot`,
    );
    const waitMs = Math.max(45_000, 3 * this.o.snapshotIntervalSec * 1000 + 15_000);
    const fresh = (s: PublishedSnapshot | null): boolean =>
      s !== null && Date.parse(s.takenAt) >= Math.floor(settledAt / 1000) * 1000 + 1000;
    const logFile = join(run.dir, 'publisher.log');
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; await sleep(1_000)) {
      if (fresh(await readSnapshot(run.publicDir))) {
        this.snapshotFresh = true;
        break;
      }
      const refusals = await refusalsSince(logFile, settledAt);
      if (refusals.length >= 2) {
        this.notes.push(`the publisher refused to publish after the system settled: ${refusals.at(-1)}`);
        break;
      }
    }
    this.observed.snapshotWaitMs = Date.now() - settledAt;
    await sut.stopPublisher();
  }

  /** Reads the log, ClickHouse and the snapshot; judges. */
  async check(): Promise<Verdict[]> {
    const run = this.run!;
    this.log('checking: reading the history, Kafka, ClickHouse and the last snapshot');
    const files = Array.from({ length: this.o.workers }, (_, w) => join(run.dir, `history-${w}.jsonl`));
    const [history, log, counted, snapshot] = await Promise.all([
      indexHistory(files),
      readElectionLog(this.config, run.index.id),
      readCounted(this.config, run.index.id),
      readSnapshot(run.publicDir),
    ]);
    this.history = history;
    Object.assign(this.observed, {
      history: {
        records: history.records,
        credentialsCast: history.ballots.size,
        voters: history.voters.size,
        anomalies: history.anomalies.length,
      },
      kafka: {
        ballotRecords: log.ballotRecords,
        distinctBallots: log.ballots.size,
        conflicts: [...log.ballots.values()].filter((r) => new Set(r.map((x) => x.ballotHash)).size > 1)
          .length,
        duplicates: log.ballotRecords - log.ballots.size,
        issuanceRecords: log.issuanceRecords,
        votersInIssuance: log.issuance.size,
        issuanceHasBlindedHash: [...log.issuance.values()].some((r) => r.some((x) => x.blindedHash !== null)),
        malformed: log.malformed,
        readMs: log.readMs,
      },
      clickhouse: { codes: counted.codes.length, storedConflicts: counted.conflicts.length },
      snapshot:
        snapshot === null
          ? null
          : {
              seq: snapshot.seq,
              takenAt: snapshot.takenAt,
              codes: snapshot.codesCount,
              fresh: this.snapshotFresh,
            },
      ingestLog: await readLogFindings(join(run.dir, 'ingest.log')),
      publisherLog: await readLogFindings(join(run.dir, 'publisher.log')),
      restarts: {
        ingestSupervisors: this.sut?.ingestStarts ?? 0,
        publishers: this.sut?.publisherStarts ?? 0,
      },
    });
    for (const a of history.anomalies.filter((x) => x.what.startsWith('voter crashed')))
      this.notes.push(a.what);
    return check({
      history,
      log,
      counted,
      snapshot,
      snapshotFresh: this.snapshotFresh,
      operatorActions: (this.nemesis?.operatorActions ?? []).map((a) => `at ${a.atSec} s: ${a.action}`),
    });
  }

  report(verdicts: readonly Verdict[]): ChaosReport {
    const timeline = this.series?.seconds() ?? [];
    const merged = mergeSummaries(this.pool?.summaries ?? []);
    const records = this.nemesis?.records ?? [];
    return {
      scenario: this.o.short ? 'chaos-short' : 'chaos',
      verdict: verdicts.length > 0 && verdicts.every((v) => v.pass) ? 'pass' : 'fail',
      verdicts,
      runId: this.runId,
      seed: this.o.seed,
      takenAt: new Date(this.started).toISOString(),
      durationSec: Math.round((Date.now() - this.started) / 1000),
      machine: machineInfo(null),
      options: this.o,
      setup: this.setup,
      voters: merged.voters,
      outcomes: merged.outcomes,
      answers: merged.answers,
      faults: records.map((f) => ({ ...f, recovery: recoveryOf(f, timeline) })),
      operatorActions: this.nemesis?.operatorActions ?? [],
      attribution: this.history === null ? {} : attribute(verdicts, this.history, records),
      observed: { phasesSec: this.phasesSec, ...this.observed },
      generator: { cpuPctOfMachine: this.sampler?.generatorPctOfMachine ?? 0 },
      notes: this.notes,
      timeline,
    };
  }

  /** Leaves the stack whole and stops what the run started (also on Ctrl-C and after errors). */
  async cleanUp(): Promise<void> {
    this.nemesis?.stop();
    this.pool?.stop();
    this.sampler?.stop();
    if (this.sut === null) return;
    await this.sut
      .healAll()
      .catch((err: unknown) => this.notes.push(`final heal failed: ${(err as Error).message}`));
    await this.sut.stopIngest().catch(() => null);
    await this.sut.stopPublisher().catch(() => undefined);
  }
}

function systemOptions(o: ChaosOptions, dir: string) {
  return {
    port: o.port,
    publisherPort: o.publisherPort,
    processes: o.processes,
    maxInFlight: 2000,
    produceTimeoutMs: o.produceTimeoutMs,
    snapshotIntervalSec: o.snapshotIntervalSec,
    dir,
  };
}
