/**
 * The system of record, read whole: every `ballots` and `issuance` record of
 * the run's election, with its partition and offset, from the start of each
 * partition to its end offset when the read began (nothing writes to the
 * election any more by then). A throwaway consumer group, no commits,
 * deleted afterwards.
 *
 *   ballots:  ballotId  → [{partition, offset, ballotHash, rowsKey, region, district}]  in log order
 *   issuance: voterHash → [{partition, offset, blindedHash | null, district, channel}]
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../../../common/config.js';
import { TOPICS } from '../../../common/records.js';
import { canonicalRows } from '../check/rows.js';

export interface LoggedBallot {
  readonly partition: number;
  readonly offset: number;
  readonly ballotHash: string;
  /** Canonical JSON of the selections (`check/rows.ts`). */
  readonly rowsKey: string;
  readonly region: string;
  readonly district: string;
}

export interface LoggedIssuance {
  readonly partition: number;
  readonly offset: number;
  /** Hex SHA-256 of the blinded message; null on records that predate the field. */
  readonly blindedHash: string | null;
  readonly region: string;
  readonly district: string;
  readonly channel: string;
}

export interface ElectionLog {
  readonly ballots: Map<string, LoggedBallot[]>;
  readonly issuance: Map<string, LoggedIssuance[]>;
  ballotRecords: number;
  issuanceRecords: number;
  /** Records that mention the election but are not valid v1 records of it. */
  malformed: number;
  readMs: number;
}

type Parsed = Record<string, unknown>;

function parse(value: Buffer | null, needle: Buffer, election: string): Parsed | null | undefined {
  if (value === null || value.indexOf(needle) === -1) return undefined;
  try {
    const record = JSON.parse(value.toString('utf8')) as Parsed;
    return record.v === 1 && record.election === election ? record : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function readElectionLog(
  config: Config,
  election: string,
  timeoutMs = 180_000,
): Promise<ElectionLog> {
  const started = Date.now();
  const kafka = new Kafka({
    clientId: 'saylau-chaos-check',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const log: ElectionLog = {
    ballots: new Map(),
    issuance: new Map(),
    ballotRecords: 0,
    issuanceRecords: 0,
    malformed: 0,
    readMs: 0,
  };
  const needle = Buffer.from(JSON.stringify(election));
  const topics = [TOPICS.ballots, TOPICS.issuance];
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) ends.set(`${topic}/${p.partition}`, Number(p.high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const next = new Map<string, number>();
  const group = `saylau-chaos-check-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId: group, maxBytes: 64 << 20, maxBytesPerPartition: 8 << 20 });
  let failure: unknown = null;
  consumer.on(consumer.events.CRASH, (event) => {
    failure = event.payload.error;
  });
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const record = parse(message.value, needle, election);
          if (record === undefined) continue;
          if (record === null) {
            log.malformed++;
            continue;
          }
          const at = { partition: batch.partition, offset: Number(message.offset) };
          if (batch.topic === TOPICS.ballots) {
            log.ballotRecords++;
            const id = str(record.ballotId);
            const list = log.ballots.get(id) ?? [];
            list.push({
              ...at,
              ballotHash: str(record.ballotHash),
              rowsKey: canonicalRows(record.selections),
              region: str(record.region),
              district: str(record.district),
            });
            log.ballots.set(id, list);
          } else {
            log.issuanceRecords++;
            const voter = str(record.voterHash);
            const list = log.issuance.get(voter) ?? [];
            list.push({
              ...at,
              blindedHash: typeof record.blindedHash === 'string' ? record.blindedHash : null,
              region: str(record.region),
              district: str(record.district),
              channel: str(record.channel),
            });
            log.issuance.set(voter, list);
          }
        }
        next.set(`${batch.topic}/${batch.partition}`, Number(batch.lastOffset()) + 1);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while ([...ends].some(([key, end]) => (next.get(key) ?? 0) < end)) {
      if (failure !== null) throw new Error(`reading the log failed: ${String(failure)}`);
      if (Date.now() > deadline)
        throw new Error(`reading the log did not reach the end offsets in ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([group]))
      .catch(() => undefined) // no offsets were committed; the group expires by itself
      .finally(() => cleanup.disconnect());
  }
  log.readMs = Date.now() - started;
  return log;
}
