/**
 * Prometheus metrics of the aggregator, for whichever process serves
 * `/metrics` (the publisher). Values are read from Kafka when Prometheus
 * scrapes, so nothing polls between scrapes; labels are stream, topic and
 * partition only.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { LagReader, type LagReaderOptions, type PartitionLag } from './lag.js';

export class AggregatorMetrics {
  readonly lag: Gauge<'stream' | 'topic' | 'partition'>;
  readonly lagTotal: Gauge<'stream'>;
  readonly #reader: LagReader;
  readonly #log: Logger;
  /** The read in flight, shared by both gauges' collect so a scrape reads Kafka once. */
  #pending: Promise<readonly PartitionLag[]> | null = null;

  constructor(registry: Registry, config: Config, log: Logger, options: LagReaderOptions = {}) {
    this.#reader = new LagReader(config, log, options);
    this.#log = log;
    const metrics = this;
    this.lagTotal = new Gauge({
      name: 'saylau_aggregator_consumer_lag_total',
      help: "Records on the topic that the stream's ClickHouse consumer group has not committed, all partitions",
      labelNames: ['stream'] as const,
      registers: [registry],
      async collect() {
        await metrics.refresh();
      },
    });
    this.lag = new Gauge({
      name: 'saylau_aggregator_consumer_lag',
      help: "Records on a partition that the stream's ClickHouse consumer group has not committed",
      labelNames: ['stream', 'topic', 'partition'] as const,
      registers: [registry],
      // One Kafka read per scrape fills both gauges (prom-client awaits collect).
      async collect() {
        await metrics.refresh();
      },
    });
  }

  /** Reads the lag now and sets both gauges; a failed read is logged and leaves the last values. */
  refresh(): Promise<readonly PartitionLag[]> {
    this.#pending ??= this.#reader
      .read()
      .then((rows) => {
        this.set(rows);
        return rows;
      })
      .catch((error: unknown) => {
        this.#log.warn({ err: error }, 'could not read consumer lag');
        return [];
      })
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }

  set(rows: readonly PartitionLag[]): void {
    const totals = new Map<string, number>();
    for (const row of rows) {
      this.lag.set({ stream: row.stream, topic: row.topic, partition: String(row.partition) }, row.lag);
      totals.set(row.stream, (totals.get(row.stream) ?? 0) + row.lag);
    }
    for (const [stream, total] of totals) this.lagTotal.set({ stream }, total);
  }

  close(): Promise<void> {
    return this.#reader.close();
  }
}
