import type { StreamSpec } from '../streams.js';

/** What a migration's statements are rendered with: one environment's endpoints and group names. */
export interface MigrationContext {
  /** Comma-separated `host:port` list for the Kafka engine. */
  readonly brokers: string;
  /** The consumer group of a stream's Kafka table. */
  readonly group: (stream: string) => string;
  /** Messages per block for new Kafka tables; only the benchmark changes it. */
  readonly kafkaMaxBlockSize: number;
}

/**
 * One schema step. Statements run in order and each must be idempotent on its
 * own (`IF NOT EXISTS`), so a migration that failed half-way can simply run
 * again once the cause is fixed. A version is never edited after it shipped:
 * a change is a new version.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /**
   * Streams this migration starts. Their consumer groups are pointed at the
   * earliest offsets before any statement runs (see `consumer-groups.ts` for
   * why the server's own default would lose records).
   */
  readonly starts: readonly StreamSpec[];
  readonly statements: (ctx: MigrationContext) => readonly string[];
}
