/**
 * Points a new ClickHouse consumer group at the start of its topic.
 *
 * librdkafka (which the Kafka engine uses) starts a group that has no
 * committed offset at the *end* of each partition (`auto.offset.reset =
 * largest`), so records produced before the engine first joined would never
 * be counted; we saw it happen on 18.16 with partitions that received their
 * first record before the first commit. Committing the low watermark for every
 * partition before the Kafka table exists makes the engine start there.
 * Groups that already have offsets, or members, are left alone.
 *
 * Partitions added to a topic later have no committed offset either: the
 * server-side fix is `auto_offset_reset = smallest` in the `<kafka>` section
 * of config.xml (README, "Server settings").
 */
import type { Admin } from 'kafkajs';
import type { Logger } from '../common/log.js';
import { AggregatorError } from './errors.js';
import { withKafkaRetry } from './kafka.js';
import type { StreamSpec } from './streams.js';

export interface SeedOutcome {
  readonly group: string;
  readonly topic: string;
  readonly action: 'seeded' | 'has-offsets' | 'active';
}

export async function seedGroupAtEarliest(
  admin: Admin,
  group: string,
  topic: string,
  log: Logger,
): Promise<SeedOutcome> {
  await awaitTopic(admin, topic);
  const [committed] = await withKafkaRetry(() => admin.fetchOffsets({ groupId: group, topics: [topic] }));
  if (committed?.partitions.some((p) => p.offset !== '-1')) {
    return { group, topic, action: 'has-offsets' };
  }
  const { groups } = await withKafkaRetry(() => admin.describeGroups([group]));
  const state = groups[0]?.state ?? 'Dead';
  if (state !== 'Empty' && state !== 'Dead') return { group, topic, action: 'active' };
  const offsets = await withKafkaRetry(() => admin.fetchTopicOffsets(topic));
  await withKafkaRetry(() =>
    admin.setOffsets({
      groupId: group,
      topic,
      partitions: offsets.map((p) => ({ partition: p.partition, offset: p.low })),
    }),
  );
  log.info({ group, topic, partitions: offsets.length }, 'consumer group pointed at the earliest offsets');
  return { group, topic, action: 'seeded' };
}

/**
 * In KRaft each broker applies the metadata log on its own, so a topic just
 * created through one broker can be unknown to the broker this client asks
 * for a moment (CI saw exactly that on a fresh cluster). Wait a little before
 * calling the topic missing.
 */
async function awaitTopic(admin: Admin, topic: string, timeoutMs = TOPIC_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const topics = await withKafkaRetry(() => admin.listTopics());
    if (topics.includes(topic)) return;
    if (Date.now() > deadline) {
      throw new AggregatorError(
        'topic_missing',
        `topic "${topic}" does not exist (waited ${timeoutMs / 1000} s); create the topics first`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const TOPIC_WAIT_MS = 15_000;

export async function seedStreams(
  admin: Admin,
  streams: readonly StreamSpec[],
  groupOf: (stream: string) => string,
  log: Logger,
): Promise<SeedOutcome[]> {
  // In parallel: kafkajs commits a group's offsets by joining it, which waits
  // out the broker's initial rebalance delay (about 5 s per group here).
  return Promise.all(
    streams.map(async (stream) => {
      try {
        return await seedGroupAtEarliest(admin, groupOf(stream.name), stream.topic, log);
      } catch (error) {
        if (error instanceof AggregatorError) throw error;
        throw new AggregatorError('kafka_failed', `seeding group ${groupOf(stream.name)}: ${String(error)}`, {
          cause: error,
        });
      }
    }),
  );
}
