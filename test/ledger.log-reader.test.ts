/**
 * The group-less log reader (common/kafka/log-reader.ts) on the real
 * cluster, where it used to stop or mislead:
 *
 * - an offset outside the log (OFFSET_OUT_OF_RANGE) set the whole reader
 *   stopped, silently for the ledger: now only that partition waits, the
 *   others go on, `problem` says which, and a seek back makes it whole; the
 *   logs hold the error's code, never the response (whole record batches);
 * - a batch fetched before a seek() and handled across it is told apart
 *   (`isCurrent`), and does not advance the cursor past the seek;
 * - close() while a metadata request is under way is idempotent and nothing
 *   is fetched or retried after it.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Admin, Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogReader, type PartitionBatch } from '../common/kafka/log-reader.js';
import { config, kafkaClient } from './support/stack.js';

const TOPIC = `test-log-reader-${randomUUID().slice(0, 8)}`;
const kafka = kafkaClient('ledger-log-reader-test');
let admin: Admin;
let producer: Producer;

/** A pino logger whose lines a test can read. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

function readerWith(log: pino.Logger, options: { maxBytesPerPartition?: number } = {}): LogReader {
  return new LogReader({
    brokers: config.kafka.brokers,
    clientId: 'log-reader-test',
    log,
    maxWaitMs: 200,
    ...options,
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function produce(partition: number, values: string[]): Promise<void> {
  // One send per record: each its own record batch, so a small fetch size splits them.
  for (const value of values)
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, value }] });
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }],
    waitForLeaders: false,
  });
  for (let i = 0; i < 100; i++) {
    const led = await admin
      .fetchTopicMetadata({ topics: [TOPIC] })
      .then(
        (meta) =>
          meta.topics[0]?.partitions.length === 3 && meta.topics[0].partitions.every((p) => p.leader >= 0),
      )
      .catch(() => false);
    if (led) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
  await admin?.disconnect();
});

describe('log reader', () => {
  it('sets aside a partition read outside the log, keeps reading the others, and says so', async () => {
    await produce(0, ['a0', 'a1', 'a2']);
    await produce(1, ['b0', 'b1']);
    const { log, lines } = capturedLog();
    const reader = readerWith(log);
    const seen: string[] = [];
    reader.seek(TOPIC, 0, 0);
    reader.seek(TOPIC, 1, 1_000_000);
    reader.start((batch) => {
      for (const r of batch.records) seen.push(`${batch.partition}:${r.value?.toString()}`);
    });
    try {
      await until(
        'partition 0 read and partition 1 reported',
        () => seen.length >= 3 && reader.problem !== null,
      );
      expect(reader.problem).toBe(`stalled: OFFSET_OUT_OF_RANGE ${TOPIC}/1@1000000`);
      // Still reading the healthy partition while the other waits.
      await produce(0, ['a3']);
      await until('a record produced after the stall', () => seen.includes('0:a3'));
      reader.seek(TOPIC, 1, 0);
      await until('partition 1 read after the seek back', () => seen.includes('1:b1'));
      expect(reader.problem).toBeNull();
      expect(seen).toEqual(['0:a0', '0:a1', '0:a2', '0:a3', '1:b0', '1:b1']);
    } finally {
      await reader.close();
    }
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      logged.some((l) => l.code === 'SAYLAU_ERR_KAFKA_OFFSET' && l.kafka === 'OFFSET_OUT_OF_RANGE'),
    ).toBe(true);
    // The client's error carries the whole response (record batches): never logged.
    expect(lines.filter((line) => line.includes('"response"'))).toEqual([]);
  });

  it('drops what a seek overtook: a batch handled across seek() is not current and does not move the cursor', async () => {
    await produce(2, ['c0', 'c1', 'c2', 'c3']);
    const { log } = capturedLog();
    const reader = readerWith(log, { maxBytesPerPartition: 1 });
    const offsets: number[] = [];
    let release: () => void = () => undefined;
    let first: PartitionBatch | null = null;
    let current: boolean | null = null;
    reader.seek(TOPIC, 2, 0);
    reader.start(async (batch) => {
      offsets.push(...batch.records.map((r) => r.offset));
      if (first !== null) return;
      first = batch;
      await new Promise<void>((resolve) => (release = resolve));
    });
    try {
      await until('the first batch in the handler', () => first !== null);
      // Back to where that batch began: the same offset, a new read.
      reader.seek(TOPIC, 2, 0);
      current = reader.isCurrent(first!);
      release();
      await until(
        'the partition read again from the seek',
        () => offsets.filter((o) => o === 0).length === 2,
      );
      await until('the rest of the partition', () => offsets.includes(3));
    } finally {
      release();
      await reader.close();
    }
    expect(current).toBe(false);
    expect(offsets[0]).toBe(0);
    expect(offsets.filter((o) => o === 0)).toHaveLength(2);
  });

  it('close() during a metadata request: idempotent, and nothing is asked or retried after it', async () => {
    const { log, lines } = capturedLog();
    const reader = readerWith(log);
    reader.seek(TOPIC, 0, 0);
    reader.start(() => undefined);
    // The first metadata request is under way now.
    const [a, b] = [reader.close(), reader.close()];
    expect(a).toBe(b);
    await a;
    // Whatever the closed consumer answers the metadata request with arrives by now.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const complaints = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level >= 40);
    expect(complaints).toEqual([]);
  });
});
