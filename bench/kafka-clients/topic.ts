/**
 * The benchmark's own topic, `bench-ledger`: the `ballots` topic's shape
 * (20 partitions, RF 3, min.insync.replicas=2) and nothing else writes to it.
 * Retention is an hour and segments are 16 MiB so that what the benchmark
 * writes (≈ 1 GB a run, × 3 replicas) leaves the shared brokers' disks soon:
 * `truncate` (DeleteRecords) can only free whole segments.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { LedgerRecord } from './ballots.js';

export const BENCH_TOPIC = 'bench-ledger';
export const BENCH_PARTITIONS = 20;

/** One partition's records to read: offsets [start, end). */
export interface PartitionRange {
  readonly partition: number;
  readonly start: string;
  readonly end: string;
}

function admin(brokers: readonly string[]) {
  return new Kafka({
    clientId: 'saylau-bench-admin',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
}

/** Creates the topic if it is missing; refuses one with another partition count. */
export async function ensureBenchTopic(brokers: readonly string[]): Promise<'created' | 'exists'> {
  const a = admin(brokers);
  await a.connect();
  try {
    const topics = await a.listTopics();
    if (topics.includes(BENCH_TOPIC)) {
      const meta = await a.fetchTopicMetadata({ topics: [BENCH_TOPIC] });
      const count = meta.topics[0]?.partitions.length ?? 0;
      if (count !== BENCH_PARTITIONS) {
        throw new Error(`${BENCH_TOPIC} has ${count} partitions, the benchmark needs ${BENCH_PARTITIONS}`);
      }
      return 'exists';
    }
    await a.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: BENCH_TOPIC,
          numPartitions: BENCH_PARTITIONS,
          replicationFactor: 3,
          configEntries: [
            { name: 'min.insync.replicas', value: '2' },
            { name: 'retention.ms', value: String(3_600_000) },
            { name: 'segment.bytes', value: String(16 * 1024 * 1024) },
          ],
        },
      ],
    });
    return 'created';
  } finally {
    await a.disconnect();
  }
}

/** Waits (≤ `limitMs`) until the brokers answer and the topic is there again, after a restart of the shared stack. */
export async function waitForBenchTopic(brokers: readonly string[], limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    let timer: NodeJS.Timeout | null = null;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
    });
    try {
      await Promise.race([ensureBenchTopic(brokers), late]);
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }
  throw new Error(`brokers not back within ${limitMs} ms`, { cause: last });
}

/** Partitions led per broker node id, and how many are not led by their preferred (first) replica. */
export interface LeaderSpread {
  readonly byNode: Readonly<Record<string, number>>;
  readonly notPreferred: number;
  /** What `preferLeaders` did: not needed, done, no jars, or why it failed (a broker down, typically). */
  readonly election?: string;
}

export async function leaderSpread(brokers: readonly string[]): Promise<LeaderSpread> {
  const a = admin(brokers);
  await a.connect();
  try {
    const meta = await a.fetchTopicMetadata({ topics: [BENCH_TOPIC] });
    const byNode: Record<string, number> = {};
    let notPreferred = 0;
    for (const p of meta.topics[0]?.partitions ?? []) {
      byNode[p.leader] = (byNode[p.leader] ?? 0) + 1;
      if (p.leader !== p.replicas[0]) notPreferred++;
    }
    return { byNode, notPreferred };
  } finally {
    await a.disconnect();
  }
}

/**
 * Gives each of the topic's partitions back to its preferred replica when a
 * broker restart left them elsewhere (all 20 on one broker, after the shared
 * stack's restarts): the ledger's leaders are spread in production, and one
 * destination instead of three changes what a send costs. Uses Kafka's own
 * LeaderElectionCommand from the stack's jars (`<stack>/kafka/libs`), on this
 * topic only; does nothing when the jars are not there.
 */
export async function preferLeaders(brokers: readonly string[], stackDir: string): Promise<LeaderSpread> {
  const before = await leaderSpread(brokers);
  const libs = join(stackDir, 'kafka', 'libs');
  if (before.notPreferred === 0) return { ...before, election: 'not needed' };
  if (!existsSync(libs)) return { ...before, election: `no jars in ${libs}` };
  const dir = mkdtempSync(join(tmpdir(), 'saylau-bench-'));
  let election = 'done';
  try {
    const file = join(dir, 'partitions.json');
    const partitions = Array.from({ length: BENCH_PARTITIONS }, (_, partition) => ({
      topic: BENCH_TOPIC,
      partition,
    }));
    writeFileSync(file, JSON.stringify({ partitions }));
    await promisify(execFile)(
      'java',
      [
        '-Xmx128m',
        '-cp',
        join(libs, '*'),
        'org.apache.kafka.tools.LeaderElectionCommand',
        '--bootstrap-server',
        brokers.join(','),
        '--election-type',
        'preferred',
        '--path-to-json-file',
        file,
      ],
      { timeout: 60_000 },
    );
  } catch (error) {
    // Best effort: the spread below says what the run got; the reason goes in the report.
    const out = String((error as { stdout?: unknown }).stdout ?? '');
    election = `failed: ${/Exception: [^\n]*/.exec(out)?.[0] ?? (error as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ...(await leaderSpread(brokers)), election };
}

/** Every partition's [log start, high watermark). */
export async function topicRanges(brokers: readonly string[]): Promise<PartitionRange[]> {
  const a = admin(brokers);
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(BENCH_TOPIC);
    return offsets
      .map((o) => ({ partition: o.partition, start: o.low, end: o.high }))
      .sort((x, y) => x.partition - y.partition);
  } finally {
    await a.disconnect();
  }
}

/** Deletes every record (DeleteRecords up to the high watermark): the next read starts from an empty topic. */
export async function truncateBenchTopic(brokers: readonly string[]): Promise<void> {
  const a = admin(brokers);
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(BENCH_TOPIC);
    await a.deleteTopicRecords({
      topic: BENCH_TOPIC,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
  } finally {
    await a.disconnect();
  }
}

/** Appends `count` records (cycling `records`), 5,000 a send, acks=all: the read phase's input. */
export async function seedBenchTopic(
  brokers: readonly string[],
  records: readonly LedgerRecord[],
  count: number,
): Promise<void> {
  const kafka = new Kafka({
    clientId: 'saylau-bench-seed',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let sent = 0; sent < count; ) {
      const n = Math.min(5000, count - sent);
      const messages = new Array(n);
      for (let i = 0; i < n; i++) {
        const r = records[(sent + i) % records.length]!;
        messages[i] = { partition: r.partition, value: r.value, timestamp: String(r.timestampMs) };
      }
      await producer.sendBatch({ topicMessages: [{ topic: BENCH_TOPIC, messages }], acks: -1 });
      sent += n;
    }
  } finally {
    await producer.disconnect();
  }
}

export function rangeRecords(ranges: readonly PartitionRange[]): number {
  let n = 0;
  for (const r of ranges) n += Number(BigInt(r.end) - BigInt(r.start));
  return n;
}
