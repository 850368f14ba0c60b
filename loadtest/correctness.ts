/**
 * The check every scenario ends with (DESIGN §1 promise 1):
 *
 *   accepted receipts (201s the generator got, one distinct credential each)
 *   = distinct ballots in Kafka `ballots` for the run's election
 *   = distinct ballots stored in ClickHouse (`ballots_raw`)
 *   = ballots in the tally (per race, via the aggregator's reconcile)
 *
 * The run's election id is fresh, so every count is exact. Requests whose
 * outcome the client never saw (timeouts, resets) may or may not have been
 * recorded: they widen the allowed Kafka range to [accepted, accepted + unknown]
 * and are reported, never hidden. A `200` (repeat of an accepted ballot) is a
 * double attempt and must not add a ballot.
 */

import { reconcile } from '../aggregator/reconcile.js';
import type { Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import type { RunElection } from './run-election.js';

export interface Correctness {
  readonly ok: boolean;
  readonly accepted: number;
  /** Responses never seen (timeouts, connection errors) whose ballots may exist. */
  readonly unknown: number;
  readonly kafkaDistinct: number;
  readonly clickhouseStored: number;
  /** Per region, ballots of the race with the most ballots (every ballot marks the national race). */
  readonly tallyBallots: number;
  readonly lost: number;
  readonly extra: number;
  readonly reconcileOk: boolean;
  readonly reconcileProblems: readonly string[];
  readonly reconcileRounds: number;
  readonly seconds: number;
  readonly method: string;
}

export async function checkCorrectness(
  config: Config,
  run: RunElection,
  accepted: number,
  unknown: number,
  settleTimeoutMs = 180_000,
): Promise<Correctness> {
  const started = Date.now();
  const log = createLogger('loadtest-reconcile', 'warn');
  const knownRegions = new Map([[run.index.id, run.index.config.regions.map((r) => r.code)]]);
  const report = await reconcile(config, log, { election: run.index.id, knownRegions, settleTimeoutMs });
  let kafkaDistinct = 0;
  let clickhouseStored = 0;
  let tallyBallots = 0;
  for (const r of report.regions) {
    kafkaDistinct += r.kafka;
    clickhouseStored += r.stored;
    tallyBallots += Math.max(0, ...r.races.map((x) => x.tallyBallots));
  }
  const lost = Math.max(0, accepted - kafkaDistinct);
  const extra = Math.max(0, kafkaDistinct - accepted - unknown);
  return {
    ok:
      report.ok &&
      lost === 0 &&
      extra === 0 &&
      clickhouseStored === kafkaDistinct &&
      tallyBallots === kafkaDistinct,
    accepted,
    unknown,
    kafkaDistinct,
    clickhouseStored,
    tallyBallots,
    lost,
    extra,
    reconcileOk: report.ok,
    reconcileProblems: report.problems.slice(0, 20),
    reconcileRounds: report.rounds,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    method: 'aggregator reconcile (Kafka scan = ballots_raw = tally per race and region) + accepted receipts',
  };
}
