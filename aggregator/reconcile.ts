/**
 * The reconciliation check (DESIGN §5): per election and region,
 *
 *   ballots acknowledged    distinct ballotIds in Kafka `ballots`, read from the start
 *   = ballots stored        distinct ballot_id in `ballots_raw`
 *   = ballots tallied       per race: distinct ballots and marks in `tally`
 *
 * once ClickHouse has consumed up to the offsets the scan read to. Regions
 * not in the election's config (when the caller knows it) are mismatches
 * too. If ClickHouse shows more than the scan (ballots produced after the
 * snapshot), the scan catches up and compares again, up to three rounds.
 *
 * The publisher calls {@link reconcile}; the CLI prints {@link formatReconcileTable}.
 */
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { BallotScan, type RegionCount } from './ballot-scan.js';
import { ClickHouse } from './client.js';
import { createKafka } from './kafka.js';
import { awaitSettled, LagReader } from './lag.js';
import { raceBallots, storedBallots, storedElections } from './queries.js';
import { STREAMS } from './streams.js';

export interface ReconcileOptions {
  /** Only this election; null for every election on the topic. */
  readonly election?: string | null;
  /** election → its region codes; a region outside the list is a mismatch. Elections absent here are not checked. */
  readonly knownRegions?: ReadonlyMap<string, readonly string[]>;
  /** How long to wait for ClickHouse to consume up to the scanned offsets. @default 60000 */
  readonly settleTimeoutMs?: number;
  /** @default config.clickhouse.database */
  readonly database?: string;
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
  /** Distinct ballot_ids in `ballots_raw`. */
  readonly stored: number;
  readonly races: readonly RaceCheck[];
  readonly problems: readonly string[];
}

export interface ReconcileReport {
  readonly ok: boolean;
  readonly regions: readonly RegionCheck[];
  /** Every mismatch as one line, e.g. `e1 KZ-75: acknowledged 10 ≠ stored 9`; empty when ok. */
  readonly problems: readonly string[];
  /** Records on the topic that are not valid v1 ballots (ClickHouse does not count them either). */
  readonly refused: number;
  readonly scanned: number;
  readonly rounds: number;
}

const BALLOT_STREAMS = STREAMS.filter((s) => s.topic === TOPICS.ballots);
const MAX_ROUNDS = 3;

export async function reconcile(
  config: Config,
  log: Logger,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const election = options.election ?? null;
  const database = options.database ?? config.clickhouse.database;
  const timeoutMs = options.settleTimeoutMs ?? 60_000;
  const kafka = createKafka(config, log, 'saylau-aggregator-reconcile');
  const scan = new BallotScan(kafka, election, log);
  const offsets = new LagReader(config, log, { database, streams: BALLOT_STREAMS });
  const ch = new ClickHouse(config, { database });
  try {
    let report: ReconcileReport | null = null;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const { lows, ends } = await offsets.watermarks([TOPICS.ballots]);
      await scan.scanTo(ends, lows, timeoutMs);
      await awaitSettled(config, log, { database, streams: BALLOT_STREAMS, target: ends, timeoutMs });
      report = await compare(ch, scan, election, options.knownRegions ?? null, round);
      // More in ClickHouse than in the scan means records arrived after the
      // snapshot: read on and compare again. Anything else is final.
      if (report.ok || !report.regions.some((r) => r.stored > r.kafka)) break;
      const later = await offsets.endOffsets([TOPICS.ballots]);
      if ([...later].every(([k, v]) => ends.get(k) === v)) break;
    }
    return report!;
  } finally {
    await Promise.allSettled([scan.close(), offsets.close(), ch.close()]);
  }
}

async function compare(
  ch: ClickHouse,
  scan: BallotScan,
  only: string | null,
  knownRegions: ReadonlyMap<string, readonly string[]> | null,
  rounds: number,
): Promise<ReconcileReport> {
  const elections =
    only !== null ? [only] : [...new Set([...scan.elections.keys(), ...(await storedElections(ch))])].sort();
  const regions: RegionCheck[] = [];
  for (const election of elections) {
    const kafkaRegions = scan.elections.get(election) ?? new Map<string, RegionCount>();
    const stored = await storedBallots(ch, election);
    const tallied = await raceBallots(ch, election);
    const known = knownRegions?.get(election) ?? null;
    const codes = [
      ...new Set([...kafkaRegions.keys(), ...stored.keys(), ...tallied.map((r) => r.region)]),
    ].sort();
    for (const region of codes) {
      const counts = kafkaRegions.get(region);
      const kafka = counts?.ids.size ?? 0;
      const raw = stored.get(region) ?? 0;
      const mine = tallied.filter((r) => r.region === region);
      const raceNames = [
        ...new Set([...(counts?.raceBallots.keys() ?? []), ...mine.map((r) => r.race)]),
      ].sort();
      const races: RaceCheck[] = raceNames.map((race) => {
        const t = mine.find((r) => r.race === race);
        return {
          race,
          kafkaBallots: counts?.raceBallots.get(race) ?? 0,
          tallyBallots: t?.ballots ?? 0,
          kafkaMarks: counts?.raceMarks.get(race) ?? 0,
          tallyMarks: t?.marks ?? 0,
        };
      });
      const problems: string[] = [];
      const where = `${election} ${region}`;
      if (known !== null && !known.includes(region)) {
        problems.push(`${where}: not a region of the election (${kafka} acknowledged, ${raw} stored)`);
      }
      if (kafka !== raw) problems.push(`${where}: acknowledged ${kafka} ≠ stored ${raw}`);
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
      regions.push({ election, region, kafka, stored: raw, races, problems });
    }
  }
  const problems = regions.flatMap((r) => r.problems);
  return {
    ok: problems.length === 0,
    regions,
    problems,
    refused: scan.refused,
    scanned: scan.scanned,
    rounds,
  };
}

/** A fixed-width table, one line per region, then the problems. */
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
    `${report.scanned} records read, ${report.refused} refused (not valid v1 ballots), ${report.rounds} round(s)`,
  );
  for (const problem of report.problems) lines.push(`MISMATCH ${problem}`);
  lines.push(report.ok ? 'reconcile: ok' : `reconcile: FAILED (${report.problems.length} problem(s))`);
  return `${lines.join('\n')}\n`;
}
