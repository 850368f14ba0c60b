/**
 * One read run in this (child) process: every record of the given
 * partition ranges, from the first offset to the end, as a Redis rebuild or
 * reconcile would read the ledger. Each reader counts records and value bytes
 * and does nothing else with them, so what differs is the client.
 *
 * - `kafkajs-consumer`: a consumer group of one (fresh group id),
 *   `fromBeginning`, `eachBatch`, no commits.
 * - `platformatic-stream`: `Consumer.consume({ mode: 'earliest' })`, the
 *   messages stream (one `Message` object per record), no commits.
 * - `platformatic-fetch`: `consumer.fetch({ node, topics: [{ topicId, partitions }] })`
 *   in a loop per partition leader, one fetch in flight per broker, no group;
 *   records are the decoded batches, not `Message` objects.
 *
 * All three fetch with the same sizes: ≤ 10 MiB a response, ≤ 1 MiB a
 * partition, min 1 byte, wait ≤ 500 ms. Read committed (both clients' default).
 */
import { randomUUID } from 'node:crypto';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import type { ReadJob, ReadResult } from './jobs.js';
import { mark, since } from './usage.js';

const MAX_BYTES = 10 * 1024 * 1024;
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_WAIT_MS = 500;

/** Where each partition's read stands; done when every partition reached its end. */
class Progress {
  records = 0;
  valueBytes = 0;
  /** When the first record arrived (performance.now()). */
  firstAt: number | null = null;
  private readonly ends = new Map<number, bigint>();
  private remaining = 0;
  readonly done: Promise<void>;
  private finish!: () => void;
  /** A reader that cannot go on ends the run with its error. */
  fail!: (error: unknown) => void;

  constructor(job: ReadJob) {
    this.done = new Promise((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    for (const r of job.ranges) {
      if (BigInt(r.end) > BigInt(r.start)) {
        this.ends.set(r.partition, BigInt(r.end));
        this.remaining++;
      }
    }
    if (this.remaining === 0) this.finish();
  }

  /** Records of one partition read, the last one at `lastOffset`. */
  add(partition: number, count: number, bytes: number, lastOffset: bigint): void {
    if (this.firstAt === null) this.firstAt = performance.now();
    this.records += count;
    this.valueBytes += bytes;
    const end = this.ends.get(partition);
    if (end !== undefined && lastOffset + 1n >= end) {
      this.ends.delete(partition);
      if (--this.remaining === 0) this.finish();
    }
  }

  isDone(partition: number): boolean {
    return !this.ends.has(partition);
  }
}

export async function runRead(job: ReadJob): Promise<ReadResult> {
  const start = mark(job.brokerPids);
  const progress = new Progress(job);
  const stop = await READ[job.reader](job, progress);
  let timer: NodeJS.Timeout | null = null;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${job.timeoutSec} s`)), job.timeoutSec * 1000);
  });
  try {
    await Promise.race([progress.done, late]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  const usage = since(start, job.brokerPids);
  const firstAt = progress.firstAt ?? performance.now();
  // A client that cannot close within 5 s must not hold the answer back.
  await Promise.race([stop(), new Promise((r) => setTimeout(r, 5000))]);
  const steadyMs = start.atMs + usage.wallMs - firstAt;
  return {
    kind: 'read',
    records: progress.records,
    valueBytes: progress.valueBytes,
    startupMs: firstAt - start.atMs,
    totalMs: usage.wallMs,
    recordsPerSec: (progress.records * 1000) / usage.wallMs,
    steadyRecordsPerSec: (progress.records * 1000) / steadyMs,
    usage,
    cpuMsPer1000: (usage.cpuMs * 1000) / Math.max(1, progress.records),
    brokerCpuMsPer1000:
      usage.brokerCpuMs === null ? null : (usage.brokerCpuMs * 1000) / Math.max(1, progress.records),
  };
}

type Reader = (job: ReadJob, progress: Progress) => Promise<() => Promise<void>>;

const READ: Record<ReadJob['reader'], Reader> = {
  'kafkajs-consumer': async (job, progress) => {
    const kafka = new Kafka({
      clientId: 'saylau-bench-read',
      brokers: [...job.brokers],
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: `saylau-bench-${randomUUID()}`,
      maxBytes: MAX_BYTES,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      minBytes: 1,
      maxWaitTimeInMs: MAX_WAIT_MS,
    });
    consumer.on(consumer.events.CRASH, (event) => progress.fail(event.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topic: job.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const messages = batch.messages;
        if (messages.length === 0 || progress.isDone(batch.partition)) return;
        let bytes = 0;
        for (const m of messages) bytes += m.value?.length ?? 0;
        progress.add(batch.partition, messages.length, bytes, BigInt(messages[messages.length - 1]!.offset));
      },
    });
    return () => consumer.disconnect();
  },

  'platformatic-stream': async (job, progress) => {
    const consumer = new Consumer({
      clientId: 'saylau-bench-read',
      groupId: `saylau-bench-${randomUUID()}`,
      bootstrapBrokers: [...job.brokers],
      autocommit: false,
      maxBytes: MAX_BYTES,
      minBytes: 1,
      maxWaitTime: MAX_WAIT_MS,
    });
    const stream = await consumer.consume({
      topics: [job.topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    });
    stream.on('data', (message) => {
      if (progress.isDone(message.partition)) return;
      progress.add(message.partition, 1, message.value?.length ?? 0, message.offset);
    });
    stream.on('error', progress.fail);
    return async () => {
      await stream.close();
      await consumer.close(true);
    };
  },

  'platformatic-fetch': async (job, progress) => {
    const consumer = new Consumer({
      clientId: 'saylau-bench-read',
      groupId: `saylau-bench-${randomUUID()}`,
      bootstrapBrokers: [...job.brokers],
    });
    const metadata = await consumer.metadata({ topics: [job.topic] });
    const topic = metadata.topics.get(job.topic);
    if (topic === undefined) throw new Error(`no metadata for ${job.topic}`);
    // Partitions by leader: one loop per broker, one fetch in flight each.
    const byLeader = new Map<number, { partition: number; offset: bigint }[]>();
    for (const r of job.ranges) {
      if (progress.isDone(r.partition)) continue;
      const leader = topic.partitions[r.partition]!.leader;
      const list = byLeader.get(leader) ?? [];
      list.push({ partition: r.partition, offset: BigInt(r.start) });
      byLeader.set(leader, list);
    }
    const loop = async (node: number, cursors: { partition: number; offset: bigint }[]): Promise<void> => {
      let open = cursors;
      while (open.length > 0) {
        const response = await consumer.fetch({
          node,
          maxBytes: MAX_BYTES,
          minBytes: 1,
          maxWaitTime: MAX_WAIT_MS,
          topics: [
            {
              topicId: topic.id,
              partitions: open.map((c) => ({
                partition: c.partition,
                fetchOffset: c.offset,
                partitionMaxBytes: MAX_BYTES_PER_PARTITION,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        });
        for (const t of response.responses) {
          for (const p of t.partitions) {
            const cursor = open.find((c) => c.partition === p.partitionIndex);
            if (cursor === undefined || p.records === undefined) continue;
            let count = 0;
            let bytes = 0;
            for (const batch of p.records) {
              for (const record of batch.records) bytes += record.value?.length ?? 0;
              count += batch.records.length;
              cursor.offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
            }
            if (count > 0) progress.add(p.partitionIndex, count, bytes, cursor.offset - 1n);
          }
        }
        open = open.filter((c) => !progress.isDone(c.partition));
      }
    };
    const loops = Promise.all([...byLeader].map(([node, cursors]) => loop(node, cursors)));
    loops.catch(progress.fail);
    return async () => {
      await loops.catch(() => undefined);
      await consumer.close(true);
    };
  },
};
