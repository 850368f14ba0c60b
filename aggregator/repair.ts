/**
 * `npm run aggregator -- repair --election <id> [--region <code>]`: re-inserts
 * an election's ballots from Kafka `ballots` into `ballots_replay`, whose
 * views feed `ballots_raw`, `tally` and `turnout` exactly as the Kafka
 * streams do (migration 2). For the blocks 18.16 can commit without writing
 * (README, "Exactly once on 18.16"). Counts are over ids, so ballots that
 * were already counted change nothing; `ballots_raw` gains audit rows. Every
 * record goes back, conflicts' losers too: the counting queries follow the
 * first record whatever `ballots_raw` holds (first-record.ts). Reads from
 * where the election's records begin (its log-start.json), else the log's start.
 */
import type { Config } from '../common/config.js';
import { LogReader } from '../common/kafka/log-reader.js';
import type { Logger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { readLogStart } from '../election/log-start.js';
import { parseBallot, type ScannedBallot } from './ballot-scan.js';
import { ClickHouse } from './client.js';

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
  const reader = new LogReader({ brokers: config.kafka.brokers, clientId: 'saylau-aggregator-repair', log });
  const needle = Buffer.from(JSON.stringify(options.election));
  const pending: ScannedBallot[] = [];
  let reinserted = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    await ch.insert('ballots_replay', batch);
    reinserted += batch.length;
  };
  try {
    const topics = [TOPICS.ballots];
    const [lows, ends, start] = await Promise.all([
      reader.startOffsets(topics),
      reader.endOffsets(topics),
      readLogStart(config.stackDir, options.election),
    ]);
    const from = new Map([...ends.keys()].map((k) => [k, Math.max(lows.get(k) ?? 0, start.get(k) ?? 0)]));
    await reader.readRange(
      from,
      ends,
      async (batch) => {
        for (const { value } of batch.records) {
          if (value === null || value.indexOf(needle) === -1) continue;
          const ballot = parseBallot(value);
          if (ballot === null || ballot.election !== options.election) continue;
          if (options.region != null && ballot.region !== options.region) continue;
          pending.push(ballot);
        }
        if (pending.length >= BATCH) await flush();
      },
      options.timeoutMs ?? 120_000,
    );
    await flush();
    log.info(
      { election: options.election, region: options.region ?? null, reinserted },
      'ballots re-inserted',
    );
    return { reinserted };
  } finally {
    await Promise.allSettled([reader.close(), ch.close()]);
  }
}
