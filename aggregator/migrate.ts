/**
 * Applies the schema: `npm run aggregator -- migrate`, and step 3 of `npm start`.
 *
 *   CREATE DATABASE IF NOT EXISTS <db>
 *   CREATE TABLE IF NOT EXISTS <db>.schema_migrations
 *   for each migration whose version is not recorded:
 *     point the consumer groups it starts at the earliest offsets
 *     run its statements in order (each idempotent)
 *     record the version
 *
 * Re-running is a no-op. A failing statement stops the run with
 * `migration_failed`, naming the version, the statement and the server's
 * message; nothing after it runs and the version stays unrecorded, so the
 * next run resumes there.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { ClickHouse } from './client.js';
import { seedStreams } from './consumer-groups.js';
import { AggregatorError } from './errors.js';
import { createKafka } from './kafka.js';
import { MIGRATIONS, type Migration, type MigrationContext } from './migrations/index.js';
import { KAFKA_MAX_BLOCK_SIZE } from './migrations/kafka-table.js';
import { checkServerSettings } from './server-settings.js';
import { stringLiteral } from './sql.js';
import { streamGroup } from './streams.js';

export interface MigrateOptions {
  /** The database to migrate. @default config.clickhouse.database */
  readonly database?: string;
  /** The migrations to apply (tests pass their own). @default MIGRATIONS */
  readonly migrations?: readonly Migration[];
  /** Block size of new Kafka tables (the benchmark compares values). @default KAFKA_MAX_BLOCK_SIZE */
  readonly kafkaMaxBlockSize?: number;
}

export interface MigrateResult {
  readonly database: string;
  readonly applied: readonly number[];
  readonly alreadyApplied: readonly number[];
  /** Server settings the pipeline relies on that are missing (README "Server settings"). */
  readonly warnings: readonly string[];
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32, name String, checksum String, applied_at DateTime
  ) ENGINE = MergeTree() PARTITION BY tuple() ORDER BY version`;

function checksum(statements: readonly string[]): string {
  return createHash('sha256').update(statements.join('\n;\n')).digest('hex').slice(0, 16);
}

export async function migrate(
  config: Config,
  log: Logger,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const database = options.database ?? config.clickhouse.database;
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const ctx: MigrationContext = {
    brokers: config.kafka.brokers.join(','),
    group: (stream) => streamGroup(database, stream),
    kafkaMaxBlockSize: options.kafkaMaxBlockSize ?? KAFKA_MAX_BLOCK_SIZE,
  };

  const server = new ClickHouse(config, { database: null });
  try {
    await server.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  } finally {
    await server.close();
  }

  const ch = new ClickHouse(config, { database });
  const kafka = createKafka(config, log);
  const admin = kafka.admin();
  let adminConnected = false;
  try {
    await ch.command(MIGRATIONS_TABLE);
    const done = new Set(
      (await ch.rows<{ version: number }>('SELECT DISTINCT version FROM schema_migrations')).map(
        (r) => r.version,
      ),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      const statements = migration.statements(ctx);
      log.info({ version: migration.version, name: migration.name }, 'applying migration');
      if (migration.starts.length > 0) {
        if (!adminConnected) {
          await admin.connect();
          adminConnected = true;
        }
        await seedStreams(admin, migration.starts, ctx.group, log);
      }
      for (const [index, statement] of statements.entries()) {
        try {
          await ch.command(statement);
        } catch (error) {
          const reply = error instanceof Error ? error.message.split(' — in: ')[0] : String(error);
          throw new AggregatorError(
            'migration_failed',
            `migration ${migration.version} (${migration.name}) failed at statement ${index + 1} of ${statements.length}:\n` +
              `${statement}\nClickHouse said: ${reply}`,
            { cause: error },
          );
        }
      }
      await ch.command(
        `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (${migration.version}, ` +
          `${stringLiteral(migration.name)}, ${stringLiteral(checksum(statements))}, now())`,
      );
      applied.push(migration.version);
    }
    const warnings = await checkServerSettings(ch);
    for (const warning of warnings) log.warn(warning);
    return {
      database,
      applied,
      alreadyApplied: migrations.filter((m) => done.has(m.version)).map((m) => m.version),
      warnings,
    };
  } finally {
    if (adminConnected) await admin.disconnect();
    await ch.close();
  }
}
