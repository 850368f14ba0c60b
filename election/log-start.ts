/**
 * Where an election's records begin in the shared Kafka topics, kept beside
 * its keys (`<stack>/keys/<election>/log-start.json`, `topic/partition` →
 * offset). Nothing of an election can be in the log before its keys exist,
 * so the end offsets of that moment bound every rebuild of its Redis index
 * from below: rebuilding a new election reads only its own part of topics
 * that other elections (and test runs) share. Written once; a missing file
 * means "from the start of the log", which is slower and equally correct.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../common/config.js';
import { LogReader } from '../common/kafka/log-reader.js';
import { createLogger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { keysDir } from './keys.js';

/**
 * The topics whose records the ledger indexes (ingest rebuilds Redis from
 * them), and `election-events`, which every service follows from here.
 */
const RECORDED_TOPICS = [
  TOPICS.ballots,
  TOPICS.issuance,
  TOPICS.paper,
  TOPICS.reports,
  TOPICS.electionEvents,
];

export const logStartPath = (stackDir: string, electionId: string): string =>
  join(keysDir(stackDir, electionId), 'log-start.json');

/** The recorded start offsets, or an empty map (read from offset 0). */
export async function readLogStart(stackDir: string, electionId: string): Promise<Map<string, number>> {
  const path = logStartPath(stackDir, electionId);
  if (!existsSync(path)) return new Map();
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Record<string, number>;
  return new Map(Object.entries(parsed).filter(([, v]) => Number.isSafeInteger(v) && v >= 0));
}

/**
 * Records today's end offsets as the election's log start, unless a start is
 * already recorded. Call only for an election that has written nothing yet
 * (fresh keys). Returns false when a start was already there.
 */
export async function recordLogStart(settings: Config, electionId: string): Promise<boolean> {
  const path = logStartPath(settings.stackDir, electionId);
  if (existsSync(path)) return false;
  const reader = new LogReader({
    brokers: settings.kafka.brokers,
    clientId: 'saylau-election',
    log: createLogger('election-log-start', 'warn'),
  });
  try {
    const ends = await reader.endOffsets(RECORDED_TOPICS);
    await writeFile(path, `${JSON.stringify(Object.fromEntries(ends))}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } finally {
    await reader.close();
  }
}
