/** The aggregator's kafkajs client: the configured brokers, kafkajs's own logs routed to pino. */
import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';

export function createKafka(config: Config, log: Logger, clientId = 'saylau-aggregator'): Kafka {
  const child = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...config.kafka.brokers],
    // kafkajs logs every retried connection at ERROR while a broker restarts;
    // WARN and up, at pino's debug, keeps them findable without alarming anyone.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        child.debug({ namespace, ...rest }, message);
      },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries a Kafka admin read while the cluster moves leaders (a broker
 * restarting answers NOT_LEADER_FOR_PARTITION or refuses connections for a
 * few seconds, and kafkajs does not retry every admin call on its own).
 * Non-retriable errors are thrown at once. About 20 s in all.
 */
export async function withKafkaRetry<T>(read: () => Promise<T>, attempts = 12): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      const retriable = (error as { retriable?: unknown }).retriable === true || isConnectionError(error);
      if (!retriable || attempt >= attempts) throw error;
      await sleep(Math.min(3000, 200 * 2 ** attempt));
    }
  }
}

function isConnectionError(error: unknown): boolean {
  const name = (error as { name?: unknown }).name;
  return name === 'KafkaJSConnectionError' || name === 'KafkaJSNumberOfRetriesExceeded';
}
