/**
 * The one ClickHouse client of the aggregator: `@clickhouse/client` over HTTP,
 * narrowed to what 18.16 understands.
 *
 * Checked against the 18.16.1 server: plain queries, commands, JSONEachRow
 * results and INSERT … FORMAT JSONEachRow work; query parameters do not (the
 * client sends `param_x`, which 18.16 rejects as an unknown setting), so
 * callers splice ids with `sql.ts`. The library's own console logger is
 * switched off: failures surface as {@link AggregatorError}s that carry the
 * statement and the server's message, and the caller logs them with pino.
 */
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { Config } from '../common/config.js';
import { AggregatorError } from './errors.js';

export interface ClickHouseOptions {
  /** The current database for every statement; `null` for the server's default (to create ours). */
  readonly database?: string | null;
  /** Per-request timeout. @default 60000 */
  readonly requestTimeoutMs?: number;
}

/** The first line of the server's reply, which is what a person needs to act on. */
function serverMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

function shorten(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

export class ClickHouse {
  readonly database: string;
  readonly #client: ClickHouseClient;

  constructor(config: Config, options: ClickHouseOptions = {}) {
    const database = options.database === undefined ? config.clickhouse.database : options.database;
    this.database = database ?? 'default';
    this.#client = createClient({
      url: config.clickhouse.url,
      database: this.database,
      request_timeout: options.requestTimeoutMs ?? 60_000,
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** Runs a statement that returns no rows (DDL, INSERT … SELECT, ALTER). */
  async command(sql: string): Promise<void> {
    try {
      await this.#client.command({ query: sql });
    } catch (error) {
      throw new AggregatorError('clickhouse_failed', `${serverMessage(error)} — in: ${shorten(sql)}`, {
        cause: error,
      });
    }
  }

  /** Runs a SELECT and returns its rows as objects (64-bit integers arrive as strings). */
  async rows<Row>(sql: string): Promise<Row[]> {
    try {
      const result = await this.#client.query({ query: sql, format: 'JSONEachRow' });
      return await result.json<Row>();
    } catch (error) {
      throw new AggregatorError('clickhouse_failed', `${serverMessage(error)} — in: ${shorten(sql)}`, {
        cause: error,
      });
    }
  }

  /**
   * Inserts objects with JSONEachRow. Error tolerance is pinned to zero here
   * because the server profile may allow errors for the Kafka engine's sake
   * (see README), and our own inserts must never drop a row silently.
   */
  async insert(table: string, values: readonly object[]): Promise<void> {
    if (values.length === 0) return;
    try {
      await this.#client.insert({
        table,
        values: values as object[],
        format: 'JSONEachRow',
        clickhouse_settings: { input_format_allow_errors_num: '0', input_format_allow_errors_ratio: 0 },
      });
    } catch (error) {
      throw new AggregatorError('clickhouse_failed', `${serverMessage(error)} — inserting into ${table}`, {
        cause: error,
      });
    }
  }

  async ping(): Promise<boolean> {
    const result = await this.#client.ping();
    return result.success;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
