/**
 * Creates the design's topics with explicit region partitioning: the
 * partition count is the election's (one or more partitions per region,
 * as its config says), replication factor 3 and min.insync.replicas 2.
 * Existing topics are grown, never shrunk or recreated.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../common/config.js';
import { ALL_TOPICS } from '../common/records.js';
import { waitFor } from './stack/supervisor.js';

export interface TopicPlan {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

export function topicPlan(config: Config, partitionCount: number): TopicPlan[] {
  return ALL_TOPICS.map((topic) => ({
    topic,
    partitions: partitionCount,
    replicationFactor: config.kafka.replicationFactor,
    minInsyncReplicas: config.kafka.minInsyncReplicas,
  }));
}

/** Waits until every configured broker is in the cluster metadata. */
export async function awaitCluster(config: Config, timeoutMs = 60_000): Promise<void> {
  const kafka = new Kafka({
    clientId: 'saylau-infra',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    const ok = await waitFor(
      async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length >= config.kafka.brokerPorts.length && cluster.controller !== null;
      },
      timeoutMs,
      500,
    );
    if (!ok)
      throw new Error(`Kafka: fewer than ${config.kafka.brokerPorts.length} brokers joined the cluster`);
  } finally {
    await admin.disconnect();
  }
}

/** Creates or grows the topics; returns a line per topic describing what it did. */
export async function ensureTopics(config: Config, partitionCount: number): Promise<string[]> {
  const kafka = new Kafka({
    clientId: 'saylau-infra',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const plan = topicPlan(config, partitionCount);
    const existing = new Set(await admin.listTopics());
    const lines: string[] = [];
    const toCreate = plan.filter((p) => !existing.has(p.topic));
    if (toCreate.length > 0) {
      // kafkajs's own waitForLeaders races the metadata of fresh topics
      // (UNKNOWN_TOPIC_OR_PARTITION); poll the metadata ourselves instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: toCreate.map((p) => ({
          topic: p.topic,
          numPartitions: p.partitions,
          replicationFactor: p.replicationFactor,
          configEntries: [
            { name: 'min.insync.replicas', value: String(p.minInsyncReplicas) },
            { name: 'unclean.leader.election.enable', value: 'false' },
          ],
        })),
      });
      const led = await waitFor(
        async () => {
          const meta = await admin.fetchTopicMetadata({ topics: toCreate.map((p) => p.topic) });
          return meta.topics.every(
            (t) => t.partitions.length > 0 && t.partitions.every((q) => q.leader >= 0),
          );
        },
        60_000,
        500,
      );
      if (!led) throw new Error('Kafka: new topics got no partition leaders within 60 s');
      for (const p of toCreate) {
        lines.push(
          `${p.topic}: created, ${p.partitions} partitions, RF ${p.replicationFactor}, min ISR ${p.minInsyncReplicas}`,
        );
      }
    }
    const present = plan.filter((p) => existing.has(p.topic));
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((p) => p.topic) });
      for (const p of present) {
        const have = meta.topics.find((t) => t.name === p.topic)?.partitions.length ?? 0;
        if (have < p.partitions) {
          await admin.createPartitions({ topicPartitions: [{ topic: p.topic, count: p.partitions }] });
          lines.push(`${p.topic}: grown from ${have} to ${p.partitions} partitions`);
        } else {
          lines.push(`${p.topic}: present, ${have} partitions`);
        }
      }
    }
    return lines;
  } finally {
    await admin.disconnect();
  }
}
