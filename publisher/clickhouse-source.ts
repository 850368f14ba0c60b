/**
 * The real {@link ResultsSource}: aggregator/'s typed queries and its
 * reconciliation, unchanged. The publisher writes no SQL of its own.
 */

import { ClickHouse } from '../aggregator/client.js';
import { awaitSettled } from '../aggregator/lag.js';
import {
  codes,
  electionEvents,
  paperPrecincts,
  paperVotes,
  tallyByDistrict,
  turnout,
} from '../aggregator/queries.js';
import { reconcile } from '../aggregator/reconcile.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import type { ElectionIndex } from '../election/index.js';
import type { ResultsSource } from './results-source.js';

export class ClickHouseSource implements ResultsSource {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #ch: ClickHouse;
  readonly #regions: ReadonlyMap<string, readonly string[]>;
  readonly #settleTimeoutMs: number;

  constructor(config: Config, logger: Logger, index: ElectionIndex, settleTimeoutMs = 60_000) {
    this.#config = config;
    this.#logger = logger;
    this.#ch = new ClickHouse(config, { requestTimeoutMs: 30_000 });
    this.#regions = new Map([[index.id, index.config.regions.map((r) => r.code)]]);
    this.#settleTimeoutMs = settleTimeoutMs;
  }

  awaitSettled(_election: string, timeoutMs: number): Promise<void> {
    return awaitSettled(this.#config, this.#logger, { timeoutMs });
  }

  async reconcile(election: string) {
    const report = await reconcile(this.#config, this.#logger, {
      election,
      knownRegions: this.#regions,
      settleTimeoutMs: this.#settleTimeoutMs,
    });
    return { ok: report.ok, problems: report.problems };
  }

  tally(election: string) {
    return tallyByDistrict(this.#ch, election);
  }
  paperVotes(election: string) {
    return paperVotes(this.#ch, election);
  }
  paperPrecincts(election: string) {
    return paperPrecincts(this.#ch, election);
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

  close(): Promise<void> {
    return this.#ch.close();
  }
}
