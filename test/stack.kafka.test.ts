/**
 * Proves the local Kafka is the system of record the design needs: records
 * produced with acks=all to an explicit region partition come back intact,
 * and producing with acks=all keeps working while one broker is dead
 * (RF 3, min.insync.replicas 2).
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Producer, RecordMetadata } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../common/records.js';
import { config, kafkaClient, restore, stack } from './support/stack.js';

const kafka = kafkaClient('stack-kafka-test');
let producer: Producer;

beforeAll(async () => {
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 20 } });
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await restore();
});

/** Reads `count` records of `partition` starting at `offset`. */
async function readBack(topic: string, partition: number, offset: string, count: number): Promise<string[]> {
  const consumer: Consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition: p, message }) => {
        if (p !== partition || BigInt(message.offset) < BigInt(offset)) return;
        values.push(message.value?.toString() ?? '');
        if (values.length >= count) resolve();
      },
    });
  });
  consumer.seek({ topic, partition, offset });
  await Promise.race([
    done,
    new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 60_000)),
  ]);
  await consumer.disconnect();
  return values;
}

describe('Kafka, the system of record', () => {
  it('has the ballots topic with one partition per sample region, each replicated 3 times', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [TOPICS.ballots] });
    await admin.disconnect();
    const partitions = meta.topics[0]!.partitions;
    expect(partitions).toHaveLength(20);
    for (const p of partitions) expect(p.replicas).toHaveLength(config.kafka.replicationFactor);
  });

  it('returns records produced with acks=all to an explicit region partition', async () => {
    const partition = 7;
    const run = randomUUID();
    const values = Array.from({ length: 25 }, (_, i) => JSON.stringify({ run, i }));
    const [ack] = await producer.send({
      topic: TOPICS.electionEvents,
      acks: -1,
      messages: values.map((value) => ({ partition, value })),
    });
    expect(ack?.partition).toBe(partition);
    const back = await readBack(TOPICS.electionEvents, partition, ack!.baseOffset!, values.length);
    expect(back).toEqual(values);
  });

  it('keeps accepting acks=all writes while one broker is killed with SIGKILL', async () => {
    const victim = stack.kafkaBrokers[1]!;
    const run = randomUUID();
    const acks: Array<RecordMetadata | undefined> = [];
    expect(await stack.stop(victim.name, 'SIGKILL')).toBe(true);
    expect(stack.pid(victim)).toBeNull();
    try {
      for (let partition = 0; partition < 20; partition++) {
        const [ack] = await producer.send({
          topic: TOPICS.electionEvents,
          acks: -1,
          timeout: 30_000,
          messages: [{ partition, value: JSON.stringify({ run, partition }) }],
        });
        acks.push(ack);
      }
      expect(acks.every((a) => a !== undefined && a.errorCode === 0)).toBe(true);
    } finally {
      await stack.start(victim.name);
    }
    expect(stack.pid(victim)).not.toBeNull();
    // Every acknowledged record survived the crash and is readable.
    for (const partition of [0, 7, 19]) {
      const back = await readBack(TOPICS.electionEvents, partition, acks[partition]!.baseOffset!, 1);
      expect(JSON.parse(back[0]!)).toEqual({ run, partition });
    }
  });
});
