/**
 * The reconciliation check (DESIGN §5), incremental: per election and region,
 *
 *   ballots acknowledged    distinct ballotIds in Kafka `ballots`, each its first record's ballot
 *   = ballots stored        distinct ballot_ids in `ballots_raw` that count (first record wins)
 *   = ballots tallied       per race: distinct ballots and marks in `tally`, winners only
 *
 * once ClickHouse has consumed up to the offsets the scan read to; and, for
 * one election, its paper channel (paper-reconcile.ts): protocols, dissents
 * and check-ins per precinct in Kafka against ClickHouse, as sets. Regions
 * not in the election's config (when the caller knows it) are mismatches.
 * If ClickHouse shows more than the scan (ballots produced after it), or a
 * conflict the scan has not reached, the scan reads on and compares again,
 * up to three rounds.
 *
 *   checkpoint (or where the election's records begin)
 *     ─► scan the new records (ballot-scan.ts) ─► record new conflicts' winners (revision_winners)
 *     ─► wait for ClickHouse to reach the scanned offsets ─► compare ─► save the checkpoint
 *
 * Conflicts (a ballotId with a second, different ballot in the log) are
 * reported by count and are never a mismatch: every count on both sides
 * follows the first record (first-record.ts). A ballot missing from
 * ClickHouse still is one, and the publisher refuses to publish on it.
 *
 * One election at a time is incremental: its state (first record of every
 * ballotId, counts per region and race) stays in memory between runs of a
 * {@link Reconciler} and is checkpointed to disk (reconcile-checkpoint.ts), so
 * a run costs what arrived since the last one. Without an election, every
 * election on the topic is scanned from the start of the log, nothing saved.
 */
import { join } from 'node:path';
import type { Config } from '../common/config.js';
import { LogReader, type PartitionOffsets } from '../common/kafka/log-reader.js';
import type { Logger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { readLogStart } from '../election/log-start.js';
import { BallotScan, ElectionBallots, takeBackDisplaced } from './ballot-scan.js';
import { ClickHouse } from './client.js';
import { loadConflicts, recordWinners } from './conflicts.js';
import { AggregatorError, isAggregatorError } from './errors.js';
import type { Winner } from './first-record.js';
import { awaitSettled } from './lag.js';
import { PAPER_STREAMS, PAPER_TOPICS, PaperScan } from './paper-reconcile.js';
import { raceBallots, storedBallots, storedElections } from './queries.js';
import { ReconcileCheckpoint } from './reconcile-checkpoint.js';
import { STREAMS } from './streams.js';

export interface ReconcileOptions {
  /** Only this election (incremental, checkpointed); null for every election on the topic. */
  readonly election?: string | null;
  /** election → its region codes; a region outside the list is a mismatch. Elections absent here are not checked. */
  readonly knownRegions?: ReadonlyMap<string, readonly string[]>;
  /** How long to wait for ClickHouse to consume up to the scanned offsets (and for the scan). @default 60000 */
  readonly settleTimeoutMs?: number;
  /** @default config.clickhouse.database */
  readonly database?: string;
  /** Where checkpoints live; null: none (every run of a new Reconciler scans afresh). @default <stackDir>/reconcile */
  readonly checkpointDir?: string | null;
  /** Where the election's records begin, `ballots/<partition>` → offset. @default its log-start.json, else the log's start */
  readonly logStart?: PartitionOffsets;
}

export interface RaceCheck {
  readonly race: string;
  readonly kafkaBallots: number;
  readonly tallyBallots: number;
  readonly kafkaMarks: number;
  readonly tallyMarks: number;
}

export interface RegionCheck {
  readonly election: string;
  readonly region: string;
  /** Distinct ballotIds acknowledged in Kafka. */
  readonly kafka: number;
  /** Distinct ballot_ids in `ballots_raw` that count. */
  readonly stored: number;
  readonly races: readonly RaceCheck[];
  readonly problems: readonly string[];
}

export interface ReconcileReport {
  readonly ok: boolean;
  readonly regions: readonly RegionCheck[];
  /** Every mismatch as one line, e.g. `e1 KZ-75: acknowledged 10 ≠ stored 9`; empty when ok. */
  readonly problems: readonly string[];
  /** BallotIds with more than one ballot in the log: each counts once, as its first record. Not a mismatch. */
  readonly conflicts: number;
  /** Records on the topic that are not valid v1 ballots (ClickHouse does not count them either). */
  readonly refused: number;
  /** Valid ballot records of the election(s) in the log so far, duplicates and conflicts included. */
  readonly records: number;
  /** Records this run read (every election's): what it cost. */
  readonly scanned: number;
  /** Whether this run started from a checkpoint (in memory or on disk). */
  readonly resumed: boolean;
  readonly rounds: number;
}

const BALLOT_STREAMS = STREAMS.filter((s) => s.topic === TOPICS.ballots);
const MAX_ROUNDS = 3;

/** One reconcile, then done (the CLI, the load tests). Scoped runs resume from and save the checkpoint. */
export async function reconcile(
  config: Config,
  log: Logger,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  return new Reconciler(config, log, options).run();
}

/** Keeps one election's reconcile state between runs (the publisher holds one). */
export class Reconciler {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #election: string | null;
  readonly #database: string;
  readonly #timeoutMs: number;
  readonly #knownRegions: ReadonlyMap<string, readonly string[]> | null;
  readonly #checkpoint: ReconcileCheckpoint | null;
  readonly #logStart: PartitionOffsets | null;
  /** The scoped election's state; null until loaded, and again after a failed run. */
  #state: ElectionBallots | null = null;
  /** The scoped election's paper sets so far (in memory only; a new Reconciler reads from the log start). */
  #paper: PaperScan | null = null;

  constructor(config: Config, log: Logger, options: ReconcileOptions = {}) {
    this.#config = config;
    this.#log = log;
    this.#election = options.election ?? null;
    this.#database = options.database ?? config.clickhouse.database;
    this.#timeoutMs = options.settleTimeoutMs ?? 60_000;
    this.#knownRegions = options.knownRegions ?? null;
    const dir =
      options.checkpointDir === undefined ? join(config.stackDir, 'reconcile') : options.checkpointDir;
    this.#checkpoint =
      this.#election === null || dir === null ? null : new ReconcileCheckpoint(dir, this.#election, log);
    this.#logStart = options.logStart ?? null;
  }

  async run(): Promise<ReconcileReport> {
    const reader = new LogReader({
      brokers: this.#config.kafka.brokers,
      clientId: 'saylau-aggregator-reconcile',
      log: this.#log,
    });
    const ch = new ClickHouse(this.#config, { database: this.#database });
    const topics = [TOPICS.ballots];
    // Where the time goes, for the debug log: the cost should follow the new records.
    const ms = { resume: 0, scan: 0, settle: 0, compare: 0, paper: 0, save: 0 };
    let mark = performance.now();
    const lap = (phase: keyof typeof ms): void => {
      const now = performance.now();
      ms[phase] += Math.round(now - mark);
      mark = now;
    };
    try {
      const firstEnds = await fromKafka('reading the end offsets of ballots', () =>
        reader.endOffsets(topics),
      );
      const resumed = this.#election !== null && (await this.#resume(firstEnds));
      lap('resume');
      if (this.#election !== null && this.#state === null) this.#state = new ElectionBallots(this.#election);
      const state = this.#state;
      const start =
        this.#election === null
          ? new Map<string, number>()
          : (this.#logStart ?? (await readLogStart(this.#config.stackDir, this.#election)));
      const scan = new BallotScan(reader, state);
      let report: ReconcileReport | null = null;
      let ends = firstEnds;
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        await fromKafka('reading ballots', async () => {
          const lows = await reader.startOffsets(topics);
          await scan.scanTo(ends, lows, start, this.#timeoutMs);
          for (const s of scan.elections.values()) await takeBackDisplaced(s, reader, this.#timeoutMs);
        });
        for (const s of scan.elections.values()) await recordWinners(ch, s.election, conflictWinners(s));
        lap('scan');
        await awaitSettled(this.#config, this.#log, {
          database: this.#database,
          streams: BALLOT_STREAMS,
          target: ends,
          timeoutMs: this.#timeoutMs,
        });
        lap('settle');
        const compared = await this.#compare(ch, scan, round, resumed);
        report = compared.report;
        lap('compare');
        // More in ClickHouse than in the scan — ballots, or a conflict the scan
        // has not reached — means records arrived after it: read on and compare again.
        if (report.ok || !compared.readOn) break;
        const later = await fromKafka('reading the end offsets of ballots', () => reader.endOffsets(topics));
        if ([...later].every(([k, v]) => ends.get(k) === v)) break;
        ends = later;
      }
      if (this.#election !== null) {
        const paper = await this.#reconcilePaper(reader, ch, this.#election, start);
        if (paper.length > 0) report = { ...report!, ok: false, problems: [...report!.problems, ...paper] };
        lap('paper');
      }
      if (state !== null && this.#checkpoint !== null) {
        // The report stands either way: a checkpoint not saved only costs the next run time.
        const saved = await this.#checkpoint.save(state).catch((err: unknown) => {
          this.#log.warn({ err, election: state.election }, 'reconcile checkpoint not saved');
          return true;
        });
        if (!saved)
          this.#log.info({ election: state.election }, 'reconcile checkpoint busy; not saved this time');
        lap('save');
      }
      const { ok, conflicts, scanned, rounds } = report!;
      this.#log.debug({ election: this.#election, ok, conflicts, scanned, rounds, ms }, 'reconciled');
      return report!;
    } catch (error) {
      // Half-applied state must not be reused: the next run starts from the checkpoint again.
      this.#state = null;
      this.#paper = null;
      throw error;
    } finally {
      await Promise.allSettled([reader.close(), ch.close()]);
    }
  }

  /** The paper channel's mismatches (paper-reconcile.ts), reading on while ClickHouse is ahead of the scan. */
  async #reconcilePaper(
    reader: LogReader,
    ch: ClickHouse,
    election: string,
    logStart: PartitionOffsets,
  ): Promise<string[]> {
    this.#paper ??= new PaperScan(election);
    const scan = this.#paper;
    let ends = await fromKafka('reading the end offsets of paper and issuance', () =>
      reader.endOffsets(PAPER_TOPICS),
    );
    for (let round = 1; ; round++) {
      await fromKafka('reading paper and issuance', async () => {
        const lows = await reader.startOffsets(PAPER_TOPICS);
        const start = new Map([...lows].map(([k, low]) => [k, Math.max(low, logStart.get(k) ?? 0)]));
        await scan.scanTo(reader, ends, start, this.#timeoutMs);
      });
      await awaitSettled(this.#config, this.#log, {
        database: this.#database,
        streams: PAPER_STREAMS,
        target: ends,
        timeoutMs: this.#timeoutMs,
      });
      const { problems, more } = await scan.compare(ch);
      if (problems.length === 0 || !more || round === MAX_ROUNDS) return problems;
      const later = await fromKafka('reading the end offsets of paper and issuance', () =>
        reader.endOffsets(PAPER_TOPICS),
      );
      if ([...later].every(([k, v]) => ends.get(k) === v)) return problems;
      ends = later;
    }
  }

  /** Loads the checkpoint unless the state is in memory; drops it if it describes another log. */
  async #resume(ends: PartitionOffsets): Promise<boolean> {
    if (this.#state === null && this.#checkpoint !== null) this.#state = await this.#checkpoint.load();
    const state = this.#state;
    if (state === null) return false;
    for (const [key, offset] of state.offsets) {
      if (offset > (ends.get(key) ?? 0)) {
        this.#log.warn(
          { election: state.election, partition: key, offset, end: ends.get(key) ?? 0 },
          'reconcile checkpoint is past the end of the log (a new topic?); scanning afresh',
        );
        this.#state = null;
        return false;
      }
    }
    return true;
  }

  async #compare(
    ch: ClickHouse,
    scan: BallotScan,
    rounds: number,
    resumed: boolean,
  ): Promise<{ report: ReconcileReport; readOn: boolean }> {
    const only = this.#election;
    const elections =
      only !== null
        ? [only]
        : [...new Set([...scan.elections.keys(), ...(await storedElections(ch))])].sort();
    const regions: RegionCheck[] = [];
    let readOn = false;
    let conflicts = 0;
    let records = 0;
    let refused = scan.refused;
    for (const election of elections) {
      const state = scan.elections.get(election) ?? new ElectionBallots(election);
      conflicts += state.conflicts;
      records += state.records;
      refused += state.refused;
      const stored = await loadConflicts(ch, election);
      // A conflict ClickHouse holds without a recorded winner counts nowhere yet: read on.
      if (stored.uncounted.size > 0) readOn = true;
      const [raw, tallied] = await Promise.all([
        storedBallots(ch, election, stored),
        raceBallots(ch, election, stored),
      ]);
      const known = this.#knownRegions?.get(election) ?? null;
      const codes = [
        ...new Set([...state.regions.keys(), ...raw.keys(), ...tallied.map((r) => r.region)]),
      ].sort();
      for (const region of codes) {
        const check = compareRegion(election, region, state, raw.get(region) ?? 0, tallied, known);
        if (check.stored > check.kafka) readOn = true;
        regions.push(check);
      }
    }
    const problems = regions.flatMap((r) => r.problems);
    const report: ReconcileReport = {
      ok: problems.length === 0,
      regions,
      problems,
      conflicts,
      refused,
      records,
      scanned: scan.scanned,
      resumed,
      rounds,
    };
    return { report, readOn };
  }
}

function compareRegion(
  election: string,
  region: string,
  state: ElectionBallots,
  stored: number,
  tallied: readonly { region: string; race: string; ballots: number; marks: number }[],
  known: readonly string[] | null,
): RegionCheck {
  const counts = state.regions.get(region);
  const kafka = counts?.ballots ?? 0;
  const mine = tallied.filter((r) => r.region === region);
  const raceNames = [...new Set([...(counts?.races.keys() ?? []), ...mine.map((r) => r.race)])].sort();
  const races: RaceCheck[] = raceNames
    .map((race) => {
      const k = counts?.races.get(race);
      const t = mine.find((r) => r.race === race);
      return {
        race,
        kafkaBallots: k?.ballots ?? 0,
        tallyBallots: t?.ballots ?? 0,
        kafkaMarks: k?.marks ?? 0,
        tallyMarks: t?.marks ?? 0,
      };
    })
    // A race whose only ballot was a conflict's loser leaves zeros on both sides.
    .filter((r) => r.kafkaBallots + r.tallyBallots + r.kafkaMarks + r.tallyMarks > 0);
  const problems: string[] = [];
  const where = `${election} ${region}`;
  if (known !== null && !known.includes(region)) {
    problems.push(`${where}: not a region of the election (${kafka} acknowledged, ${stored} stored)`);
  }
  if (kafka !== stored) problems.push(`${where}: acknowledged ${kafka} ≠ stored ${stored}`);
  for (const race of races) {
    if (race.kafkaBallots !== race.tallyBallots) {
      problems.push(
        `${where} ${race.race}: acknowledged ${race.kafkaBallots} ballots ≠ tallied ${race.tallyBallots}`,
      );
    }
    if (race.kafkaMarks !== race.tallyMarks) {
      problems.push(
        `${where} ${race.race}: acknowledged ${race.kafkaMarks} votes ≠ tallied ${race.tallyMarks}`,
      );
    }
  }
  return { election, region, kafka, stored, races, problems };
}

/** Runs a Kafka read, reporting its failure as `kafka_failed` (retriable), the cause kept. */
async function fromKafka<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isAggregatorError(error)) throw error;
    throw new AggregatorError('kafka_failed', `${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** The winners of the election's conflicted ballotIds, for `revision_winners`. */
function conflictWinners(state: ElectionBallots): Winner[] {
  const out: Winner[] = [];
  for (const ballotId of state.index.conflicted) {
    const winner = state.index.winner(ballotId);
    if (winner !== null) out.push({ ballotId, ...winner });
  }
  return out;
}

/** A fixed-width table, one line per region, then the conflicts and the problems. */
export function formatReconcileTable(report: ReconcileReport): string {
  const lines = [
    `${'election'.padEnd(24)}${'region'.padEnd(12)}${'kafka'.padStart(9)}${'stored'.padStart(9)}${'races ok'.padStart(10)}  status`,
  ];
  for (const r of report.regions) {
    const racesOk = r.races.filter(
      (x) => x.kafkaBallots === x.tallyBallots && x.kafkaMarks === x.tallyMarks,
    ).length;
    lines.push(
      `${r.election.padEnd(24)}${r.region.padEnd(12)}${String(r.kafka).padStart(9)}${String(r.stored).padStart(9)}` +
        `${`${racesOk}/${r.races.length}`.padStart(10)}  ${r.problems.length === 0 ? 'ok' : 'MISMATCH'}`,
    );
  }
  lines.push('');
  lines.push(
    `${report.scanned} records read this run (${report.resumed ? 'resumed from the checkpoint' : 'a fresh scan'}), ` +
      `${report.records} ballot records in all, ${report.refused} refused (not valid v1 ballots), ${report.rounds} round(s)`,
  );
  lines.push(
    `${report.conflicts} conflict(s): ballotIds with a second, different ballot in the log ` +
      '(a re-vote that changed the choices is one); each counted once, as its highest revision, first record',
  );
  for (const problem of report.problems) lines.push(`MISMATCH ${problem}`);
  lines.push(report.ok ? 'reconcile: ok' : `reconcile: FAILED (${report.problems.length} problem(s))`);
  return `${lines.join('\n')}\n`;
}
