/**
 * The real {@link ResultsSource}: aggregator/'s typed queries and its
 * reconciliation, unchanged. The publisher writes no SQL of its own. It keeps
 * one {@link Reconciler} for its election, so each snapshot's reconcile reads
 * only the ballots that arrived since the last (and the checkpoint survives
 * a restart).
 */

import { ClickHouse } from '../aggregator/client.js';
import { awaitSettled } from '../aggregator/lag.js';
import {
  codes,
  electionEvents,
  paperCheckIns,
  paperDissents,
  paperProtocols,
  reportCounts,
  tallyByDistrict,
  turnout,
} from '../aggregator/queries.js';
import { Reconciler } from '../aggregator/reconcile.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import type { ElectionIndex } from '../election/index.js';
import { PublisherError } from './errors.js';
import type { ResultsSource } from './results-source.js';

export class ClickHouseSource implements ResultsSource {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #ch: ClickHouse;
  readonly #election: string;
  readonly #reconciler: Reconciler;

  constructor(config: Config, logger: Logger, index: ElectionIndex, settleTimeoutMs = 60_000) {
    this.#config = config;
    this.#logger = logger;
    this.#ch = new ClickHouse(config, { requestTimeoutMs: 30_000 });
    this.#election = index.id;
    this.#reconciler = new Reconciler(config, logger, {
      election: index.id,
      knownRegions: new Map([[index.id, index.config.regions.map((r) => r.code)]]),
      settleTimeoutMs,
    });
  }

  awaitSettled(_election: string, timeoutMs: number): Promise<void> {
    return awaitSettled(this.#config, this.#logger, { timeoutMs });
  }

  async reconcile(election: string) {
    if (election !== this.#election) {
      throw new PublisherError(
        'results_inconsistent',
        `this source reconciles ${this.#election}, not ${election}`,
      );
    }
    const report = await this.#reconciler.run();
    return { ok: report.ok, problems: report.problems, conflicts: report.conflicts };
  }

  tally(election: string) {
    return tallyByDistrict(this.#ch, election);
  }
  paperProtocols(election: string) {
    return paperProtocols(this.#ch, election);
  }
  paperDissents(election: string) {
    return paperDissents(this.#ch, election);
  }
  paperCheckIns(election: string) {
    return paperCheckIns(this.#ch, election);
  }
  turnout(election: string) {
    return turnout(this.#ch, election);
  }
  codes(election: string) {
    return codes(this.#ch, election);
  }

  electionEvents(election: string) {
    return electionEvents(this.#ch, election);
  }

  reportCounts(election: string) {
    return reportCounts(this.#ch, election);
  }

  close(): Promise<void> {
    return this.#ch.close();
  }
}
