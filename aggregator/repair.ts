/**
 * `npm run aggregator -- repair --election <id> [--region <code>]`: re-inserts
 * an election's ballots from Kafka `ballots` into `ballots_replay`, whose
 * views feed `ballots_raw`, `tally` and `turnout` exactly as the Kafka
 * streams do (migration 2). For the blocks 18.16 can commit without writing
 * (README, "Exactly once on 18.16"). Counts are over ids, so ballots that
 * were already counted change nothing; `ballots_raw` gains audit rows.
 */
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { parseBallot, type ScannedBallot, TopicReader } from './ballot-scan.js';
import { ClickHouse } from './client.js';
import { createKafka } from './kafka.js';
import { LagReader } from './lag.js';

export interface RepairOptions {
  readonly election: string;
  /** Only this region; null for all of the election's regions. */
  readonly region?: string | null;
  /** @default 120000 */
  readonly timeoutMs?: number;
  /** @default config.clickhouse.database */
  readonly database?: string;
}

const BATCH = 5_000;

export async function repair(
  config: Config,
  log: Logger,
  options: RepairOptions,
): Promise<{ reinserted: number }> {
  const database = options.database ?? config.clickhouse.database;
  const ch = new ClickHouse(config, { database });
  const kafka = createKafka(config, log, 'saylau-aggregator-repair');
  const pending: ScannedBallot[] = [];
  let reinserted = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    await ch.insert('ballots_replay', batch);
    reinserted += batch.length;
  };
  const reader = new TopicReader(
    kafka,
    TOPICS.ballots,
    async (value) => {
      const ballot = parseBallot(value);
      if (ballot === null || ballot.election !== options.election) return;
      if (options.region != null && ballot.region !== options.region) return;
      pending.push(ballot);
      if (pending.length >= BATCH) await flush();
    },
    log,
  );
  const offsets = new LagReader(config, log, { database, streams: [] });
  try {
    const { lows, ends } = await offsets.watermarks([TOPICS.ballots]);
    await reader.scanTo(ends, lows, options.timeoutMs ?? 120_000);
    await flush();
    log.info(
      { election: options.election, region: options.region ?? null, reinserted },
      'ballots re-inserted',
    );
    return { reinserted };
  } finally {
    await Promise.allSettled([reader.close(), offsets.close(), ch.close()]);
  }
}
