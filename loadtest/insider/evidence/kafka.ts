/**
 * Kafka as an insider with a consumer sees it: every record of `ballots` and
 * `issuance` with its partition, offset, timestamp, key, headers and the
 * record batch it came in (first offset, first and max timestamps). Records
 * of other elections are skipped (their ids are not ours). A throwaway
 * group, no commits.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../../../common/config.js';
import { TOPICS } from '../../../common/records.js';
import { type Unit, unit } from './unit.js';

export interface LoggedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
  /** First offset of its record batch: records of one batch were produced together. */
  readonly batch: number;
  readonly batchFirstMs: number;
  readonly batchMaxMs: number;
  readonly value: Record<string, unknown>;
}

export interface KafkaEvidence {
  readonly units: Unit[];
  readonly ballots: LoggedRecord[];
  readonly issuance: LoggedRecord[];
}

interface BatchContext {
  readonly firstOffset?: string;
  readonly firstTimestamp?: string;
  readonly maxTimestamp?: string;
}

export async function readKafka(
  config: Config,
  election: string,
  timeoutMs = 180_000,
): Promise<KafkaEvidence> {
  const kafka = new Kafka({
    clientId: 'saylau-insider',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const topics = [TOPICS.ballots, TOPICS.issuance];
  const admin = kafka.admin();
  const ends = new Map<string, number>();
  await admin.connect();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) ends.set(`${topic}/${p.partition}`, Number(p.high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const out: KafkaEvidence = { units: [], ballots: [], issuance: [] };
  const needle = Buffer.from(JSON.stringify(election));
  const next = new Map<string, number>();
  const group = `saylau-insider-${randomUUID()}`;
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
        for (const m of batch.messages) {
          if (m.value === null || m.value.indexOf(needle) === -1) continue;
          const ctx = (m as unknown as { batchContext?: BatchContext }).batchContext ?? {};
          const headers = Object.entries(m.headers ?? {})
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ');
          const where = `${batch.topic}/${batch.partition}@${m.offset}`;
          const timestampMs = Number(m.timestamp);
          const batchFirstMs = Number(ctx.firstTimestamp ?? m.timestamp);
          const batchMaxMs = Number(ctx.maxTimestamp ?? m.timestamp);
          const text = `${m.key?.toString('utf8') ?? ''} ${headers} ${m.value.toString('utf8')}`;
          out.units.push(unit('kafka', where, text, { times: [timestampMs, batchFirstMs, batchMaxMs] }));
          let value: Record<string, unknown>;
          try {
            value = JSON.parse(m.value.toString('utf8')) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (value.election !== election) continue;
          const record: LoggedRecord = {
            topic: batch.topic,
            partition: batch.partition,
            offset: Number(m.offset),
            timestampMs,
            batch: Number(ctx.firstOffset ?? m.offset),
            batchFirstMs,
            batchMaxMs,
            value,
          };
          (batch.topic === TOPICS.ballots ? out.ballots : out.issuance).push(record);
        }
        next.set(`${batch.topic}/${batch.partition}`, Number(batch.lastOffset()) + 1);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while ([...ends].some(([key, end]) => (next.get(key) ?? 0) < end)) {
      if (failure !== null) throw new Error(`reading Kafka failed: ${String(failure)}`);
      if (Date.now() > deadline)
        throw new Error(`reading Kafka did not reach the end offsets in ${timeoutMs / 1000} s`);
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
  const order = (a: LoggedRecord, b: LoggedRecord): number =>
    a.partition - b.partition || a.offset - b.offset;
  out.ballots.sort(order);
  out.issuance.sort(order);
  return out;
}
