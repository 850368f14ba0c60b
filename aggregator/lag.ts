/**
 * Consumer lag of ClickHouse's Kafka engine: per stream (one consumer group
 * each, `streams.ts`), per topic partition, the topic's end offset minus the
 * group's committed offset.
 *
 * What "committed" means on 18.16: the engine commits when a read stream ends
 * (after `stream_flush_interval_ms`, 7.5 s by default, or after 500 ms without
 * messages), while rows become visible block by block before that. So lag is
 * an upper bound on what is missing from the tables, and it reaches zero only
 * after a short quiet spell.
 */
import type { Admin } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import type { TopicName } from '../common/records.js';
import { AggregatorError } from './errors.js';
import { createKafka, withKafkaRetry } from './kafka.js';
import { STREAMS, type StreamSpec, streamGroup } from './streams.js';

export interface PartitionLag {
  readonly stream: string;
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** The partition's end offset (high watermark). */
  readonly end: number;
  /** The group's committed offset; null when it never committed on this partition. */
  readonly committed: number | null;
  readonly lag: number;
}

/** End offsets of some topics, keyed `topic/partition`. */
export type EndOffsets = ReadonlyMap<string, number>;

const key = (topic: string, partition: number): string => `${topic}/${partition}`;

export interface LagReaderOptions {
  /** The ClickHouse database whose groups to read. @default config.clickhouse.database */
  readonly database?: string;
  readonly streams?: readonly StreamSpec[];
}

/** Reads lag with one admin connection; reuse it when polling. */
export class LagReader {
  readonly #admin: Admin;
  readonly #database: string;
  readonly #streams: readonly StreamSpec[];
  #connected = false;

  constructor(config: Config, log: Logger, options: LagReaderOptions = {}) {
    this.#admin = createKafka(config, log, 'saylau-aggregator-lag').admin();
    this.#database = options.database ?? config.clickhouse.database;
    this.#streams = options.streams ?? STREAMS;
  }

  async #connect(): Promise<Admin> {
    if (!this.#connected) {
      await withKafkaRetry(() => this.#admin.connect());
      this.#connected = true;
    }
    return this.#admin;
  }

  async endOffsets(topics: readonly string[] = this.#topics()): Promise<EndOffsets> {
    return (await this.watermarks(topics)).ends;
  }

  /** Low and high watermarks of each partition of `topics`. */
  async watermarks(topics: readonly string[]): Promise<{ lows: EndOffsets; ends: EndOffsets }> {
    const admin = await this.#connect();
    const lows = new Map<string, number>();
    const ends = new Map<string, number>();
    for (const topic of topics) {
      for (const p of await withKafkaRetry(() => admin.fetchTopicOffsets(topic))) {
        lows.set(key(topic, p.partition), Number(p.low));
        ends.set(key(topic, p.partition), Number(p.high));
      }
    }
    return { lows, ends };
  }

  /** Lag of every stream; with `against`, measured to those offsets instead of the current ends. */
  async read(against?: EndOffsets): Promise<PartitionLag[]> {
    const admin = await this.#connect();
    const marks = await this.watermarks(this.#topics());
    const ends = against ?? marks.ends;
    const lows = marks.lows;
    const rows: PartitionLag[] = [];
    for (const stream of this.#streams) {
      const group = streamGroup(this.#database, stream.name);
      const [committed] = await withKafkaRetry(() =>
        admin.fetchOffsets({ groupId: group, topics: [stream.topic] }),
      );
      for (const p of committed?.partitions ?? []) {
        const end = ends.get(key(stream.topic, p.partition));
        if (end === undefined) continue;
        const at = p.offset === '-1' ? null : Number(p.offset);
        // Never committed: everything from the low watermark on is unread.
        const from = at ?? lows.get(key(stream.topic, p.partition)) ?? 0;
        rows.push({
          stream: stream.name,
          group,
          topic: stream.topic,
          partition: p.partition,
          end,
          committed: at,
          lag: Math.max(0, end - from),
        });
      }
    }
    return rows;
  }

  #topics(): TopicName[] {
    return [...new Set(this.#streams.map((s) => s.topic))];
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#admin.disconnect();
    this.#connected = false;
  }
}

export async function readLag(
  config: Config,
  log: Logger,
  options: LagReaderOptions = {},
): Promise<PartitionLag[]> {
  const reader = new LagReader(config, log, options);
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}

export interface AwaitSettledOptions extends LagReaderOptions {
  readonly timeoutMs: number;
  /** Offsets to reach; @default the end offsets when the call starts. */
  readonly target?: EndOffsets;
  /** @default 250 */
  readonly pollMs?: number;
}

/**
 * Resolves once every stream has committed up to the end offsets as they
 * were when the call started (records produced meanwhile do not move the
 * goal, so a busy topic still settles). Rejects with `lag_not_settled`.
 */
export async function awaitSettled(config: Config, log: Logger, options: AwaitSettledOptions): Promise<void> {
  const reader = new LagReader(config, log, options);
  try {
    const target = options.target ?? (await reader.endOffsets());
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const behind = (await reader.read(target)).filter((row) => row.lag > 0);
      if (behind.length === 0) return;
      if (Date.now() >= deadline) {
        const total = behind.reduce((sum, row) => sum + row.lag, 0);
        const streams = [...new Set(behind.map((row) => row.stream))].join(', ');
        throw new AggregatorError(
          'lag_not_settled',
          `ClickHouse is still ${total} records behind after ${options.timeoutMs} ms (${streams})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  } finally {
    await reader.close();
  }
}

/** Sums lag per stream and topic, then lists partitions that lag. */
export function formatLagTable(rows: readonly PartitionLag[]): string {
  const lines = ['stream            topic            partitions  lag'];
  const streams = [...new Set(rows.map((r) => r.stream))];
  for (const stream of streams) {
    const mine = rows.filter((r) => r.stream === stream);
    const total = mine.reduce((sum, r) => sum + r.lag, 0);
    lines.push(
      `${stream.padEnd(18)}${(mine[0]?.topic ?? '').padEnd(17)}${String(mine.length).padStart(10)}  ${total}`,
    );
    for (const r of mine.filter((x) => x.lag > 0)) {
      lines.push(`  ${r.topic}[${r.partition}] end ${r.end} committed ${r.committed ?? 'none'} lag ${r.lag}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
