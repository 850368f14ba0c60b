/**
 * What tests use to reach and fault-inject the real stack.
 * Killing a service is always paired with `restore()` in a finally block.
 */
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../common/config.js';
import { Stack } from '../../infra/stack/stack.js';
import { awaitCluster } from '../../infra/topics.js';

export const config = loadConfig();
export const stack = new Stack(config);

export function kafkaClient(clientId = 'saylau-test'): Kafka {
  return new Kafka({ clientId, brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING });
}

/**
 * Starts every stopped service again and waits until Kafka has all brokers.
 * Goes through `up`, which launches all stopped services before waiting for
 * any: a lone KRaft node cannot reach its quorum, so brokers stopped together
 * must start together.
 */
export async function restore(): Promise<void> {
  await stack.up();
  await awaitCluster(config);
}
