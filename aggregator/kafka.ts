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
