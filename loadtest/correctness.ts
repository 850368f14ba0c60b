/**
 * The check every scenario ends with (DESIGN §1 promise 1), receipt by
 * receipt:
 *
 *   receipts the generator was given (2xx answers: the ballotId in each)
 *   = ballotIds in Kafka `ballots` for the run's election
 *   = ballotIds stored in ClickHouse (`ballots_raw`, the counted codes)
 *   and, by count, = ballots in the tally (per race, the aggregator's reconcile)
 *
 * Sets, not only counts: a lost ballot and an extra one would cancel out in a
 * count. The run's election id is fresh, so the sets are exact. Casts whose
 * outcome the client never saw (timeouts, resets, 5xx other than
 * `overloaded`) may or may not be recorded: those ballotIds may be in Kafka
 * or not, and are reported, never hidden. Anything else in Kafka is extra.
 */

import { ClickHouse } from '../aggregator/client.js';
import { codes } from '../aggregator/queries.js';
import { reconcile } from '../aggregator/reconcile.js';
import type { Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { type ElectionLog, readElectionLog } from './chaos/observe/kafka-log.js';
import type { RunElection } from './run-election.js';

/** How many ids of each difference the report lists. */
const LISTED = 20;

export interface Correctness {
  readonly ok: boolean;
  /** Distinct receipts given (2xx). */
  readonly accepted: number;
  /** Casts whose outcome was never seen (their ballots may exist). */
  readonly unknown: number;
  readonly kafkaDistinct: number;
  readonly clickhouseStored: number;
  /** Per region, ballots of the race with the most ballots (every ballot marks the national race). */
  readonly tallyBallots: number;
  /** Receipts given whose ballotId is not in Kafka. */
  readonly lost: number;
  /** ballotIds in Kafka that were neither given as receipts nor unknown. */
  readonly extra: number;
  /** In Kafka but not in ClickHouse, and the reverse. */
  readonly clickhouseMissing: number;
  readonly clickhouseExtra: number;
  /** The first ids of each difference. */
  readonly ids: {
    readonly lost: readonly string[];
    readonly extra: readonly string[];
    readonly clickhouseMissing: readonly string[];
    readonly clickhouseExtra: readonly string[];
  };
  readonly reconcileOk: boolean;
  readonly reconcileProblems: readonly string[];
  readonly reconcileRounds: number;
  readonly seconds: number;
  readonly method: string;
}

const minus = (a: Iterable<string>, b: ReadonlySet<string>): string[] =>
  [...a].filter((x) => !b.has(x)).sort();

export async function checkCorrectness(
  config: Config,
  run: RunElection,
  receipts: ReadonlySet<string>,
  unknownIds: ReadonlySet<string>,
  settleTimeoutMs = 180_000,
): Promise<Correctness & { readonly log: ElectionLog }> {
  const started = Date.now();
  const log = createLogger('loadtest-reconcile', 'warn');
  const knownRegions = new Map([[run.index.id, run.index.config.regions.map((r) => r.code)]]);
  // Reconcile first: it waits until ClickHouse has consumed everything, so the sets below are final.
  const report = await reconcile(config, log, { election: run.index.id, knownRegions, settleTimeoutMs });
  let tallyBallots = 0;
  for (const r of report.regions) tallyBallots += Math.max(0, ...r.races.map((x) => x.tallyBallots));
  // Read once: the caller checks other records of the run against the same read (paper check-ins).
  const electionLog = await readElectionLog(config, run.index.id);
  const kafka = new Set(electionLog.ballots.keys());
  const ch = new ClickHouse(config);
  const stored = new Set(await codes(ch, run.index.id).finally(() => ch.close()));
  const lost = minus(receipts, kafka);
  const extra = minus(kafka, new Set([...receipts, ...unknownIds]));
  const clickhouseMissing = minus(kafka, stored);
  const clickhouseExtra = minus(stored, kafka);
  return {
    log: electionLog,
    ok:
      report.ok &&
      lost.length === 0 &&
      extra.length === 0 &&
      clickhouseMissing.length === 0 &&
      clickhouseExtra.length === 0 &&
      tallyBallots === kafka.size,
    accepted: receipts.size,
    unknown: unknownIds.size,
    kafkaDistinct: kafka.size,
    clickhouseStored: stored.size,
    tallyBallots,
    lost: lost.length,
    extra: extra.length,
    clickhouseMissing: clickhouseMissing.length,
    clickhouseExtra: clickhouseExtra.length,
    ids: {
      lost: lost.slice(0, LISTED),
      extra: extra.slice(0, LISTED),
      clickhouseMissing: clickhouseMissing.slice(0, LISTED),
      clickhouseExtra: clickhouseExtra.slice(0, LISTED),
    },
    reconcileOk: report.ok,
    reconcileProblems: report.problems.slice(0, 20),
    reconcileRounds: report.rounds,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    method:
      'receipt sets: given receipts ⊆ Kafka ballotIds ⊆ receipts ∪ unknown; Kafka ballotIds = ClickHouse codes; aggregator reconcile (Kafka = ballots_raw = tally per race and region)',
  };
}
