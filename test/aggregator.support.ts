/**
 * Shared by the aggregator's tests: the migrated schema, a producer, and
 * "produce, then wait until ClickHouse has consumed up to here".
 *
 * Every test makes its own election id, because the topics and the ClickHouse
 * tables are shared with the sample election and other engineers' tests;
 * every assertion filters by that id.
 */
import type { Producer } from 'kafkajs';
import { createKafka } from '../aggregator/kafka.js';
import { awaitSettled, type EndOffsets, LagReader } from '../aggregator/lag.js';
import { migrate } from '../aggregator/migrate.js';
import { STREAMS, type StreamSpec } from '../aggregator/streams.js';
import { connectProducer } from '../aggregator/synthetic.js';
import { createLogger } from '../common/log.js';
import { TOPICS } from '../common/records.js';
import { config } from './support/stack.js';

export { config };
export const log = createLogger('aggregator-test', process.env.LOG_LEVEL ?? 'warn');
export const BALLOT_STREAMS = STREAMS.filter((s) => s.topic === TOPICS.ballots);

export function testElection(name: string): string {
  return `agg-${name}-${Date.now().toString(36)}`;
}

/** Applies the real migrations to the real database (a no-op once applied). */
export async function migrated(): Promise<void> {
  await migrate(config, log);
}

export async function producer(): Promise<Producer> {
  return connectProducer(createKafka(config, log, 'saylau-aggregator-test'));
}

export async function partitionCount(topic: string = TOPICS.ballots): Promise<number> {
  const reader = new LagReader(config, log, { streams: [] });
  try {
    return (await reader.watermarks([topic])).ends.size;
  } finally {
    await reader.close();
  }
}

export async function endOffsets(topics: readonly string[]): Promise<EndOffsets> {
  const reader = new LagReader(config, log, { streams: [] });
  try {
    return (await reader.watermarks(topics)).ends;
  } finally {
    await reader.close();
  }
}

/** Waits until the given streams have committed past everything on their topics right now. */
export async function settled(
  streams: readonly StreamSpec[] = BALLOT_STREAMS,
  timeoutMs = 120_000,
): Promise<void> {
  const target = await endOffsets([...new Set(streams.map((s) => s.topic))]);
  await awaitSettled(config, log, { streams, target, timeoutMs });
}

/**
 * Polls `read` until it equals `expected` or `timeoutMs` passes, then returns
 * the last value. On 18.16 the engine may commit a moment before its last
 * block is written (README, "Exactly once on 18.16"), so right after the lag
 * reaches zero a count can still be rising for a few hundred milliseconds.
 */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (JSON.stringify(value) === JSON.stringify(expected) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
