/**
 * Proves the migration runner's promises: versions are recorded and a
 * re-run is a no-op; a failing statement stops the run with the statement
 * and the server's message and leaves its version unrecorded; a new
 * ClickHouse consumer group is pointed at the start of its topic.
 *
 * The runner is exercised on a throwaway database with target-table-only
 * migrations, so no extra Kafka consumers read the shared topics; the real
 * schema is checked on the real database.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { seedGroupAtEarliest } from '../aggregator/consumer-groups.js';
import { isAggregatorError } from '../aggregator/errors.js';
import { createKafka } from '../aggregator/kafka.js';
import { migrate } from '../aggregator/migrate.js';
import type { Migration } from '../aggregator/migrations/index.js';
import { MIGRATIONS } from '../aggregator/migrations/index.js';
import { TOPICS } from '../common/records.js';
import { config, log } from './aggregator.support.js';

const scratch = `saylau_test_migrate_${Date.now().toString(36)}`;
const one: Migration = {
  version: 1,
  name: 'a table',
  starts: [],
  statements: () => [
    'CREATE TABLE IF NOT EXISTS t1 (x UInt32) ENGINE = MergeTree() PARTITION BY tuple() ORDER BY x',
  ],
};
const two: Migration = {
  version: 2,
  name: 'another table',
  starts: [],
  statements: () => [
    'CREATE TABLE IF NOT EXISTS t2 (y String) ENGINE = MergeTree() PARTITION BY tuple() ORDER BY y',
  ],
};
const broken: Migration = {
  version: 3,
  name: 'a typo',
  starts: [],
  statements: () => [
    'CREATE TABLE IF NOT EXISTS t3 (z UInt32) ENGINE = MergeTree() PARTITION BY tuple() ORDER BY z',
    'CREATE TABLE IF NOT EXISTS t4 (z NoSuchType) ENGINE = Memory',
  ],
};

const ch = new ClickHouse(config, { database: null });
afterAll(async () => {
  await ch.command(`DROP DATABASE IF EXISTS ${scratch}`);
  await ch.close();
});

const versions = async (): Promise<number[]> =>
  (
    await ch.rows<{ version: number }>(`SELECT version FROM ${scratch}.schema_migrations ORDER BY version`)
  ).map((r) => r.version);

describe('migrate', () => {
  it('applies pending versions in order and records them; running again applies nothing', async () => {
    const first = await migrate(config, log, { database: scratch, migrations: [two, one] });
    expect(first.applied).toEqual([1, 2]);
    const again = await migrate(config, log, { database: scratch, migrations: [one, two] });
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual([1, 2]);
    expect(await versions()).toEqual([1, 2]);
  });

  it('stops at a failing statement with the statement and the server message, leaving the version unrecorded', async () => {
    const error = await migrate(config, log, { database: scratch, migrations: [one, two, broken] }).catch(
      (e: unknown) => e,
    );
    expect(isAggregatorError(error, 'migration_failed')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('migration 3 (a typo) failed at statement 2 of 2');
    expect(message).toContain('CREATE TABLE IF NOT EXISTS t4 (z NoSuchType) ENGINE = Memory');
    expect(message).toMatch(/ClickHouse said: .*Unknown data type family: NoSuchType/);
    expect(await versions()).toEqual([1, 2]);
  });

  it('leaves the real schema applied, with every version recorded once', async () => {
    const result = await migrate(config, log);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = await ch.rows<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = '${config.clickhouse.database}' ORDER BY name`,
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'ballots_raw',
        'tally',
        'issued_turnout',
        'cast_turnout',
        'paper_protocol_versions',
        'paper_dissents',
        'issuance_voters',
        'election_events',
        'tally_queue',
      ]),
    );
  });

  it('points a new consumer group at the earliest offsets, and leaves a group with offsets alone', async () => {
    const kafka = createKafka(config, log, 'saylau-aggregator-test');
    const admin = kafka.admin();
    await admin.connect();
    const group = `saylau-test-seed-${Date.now().toString(36)}`;
    try {
      expect((await seedGroupAtEarliest(admin, group, TOPICS.paper, log)).action).toBe('seeded');
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [TOPICS.paper] });
      const lows = await admin.fetchTopicOffsets(TOPICS.paper);
      expect(
        committed?.partitions.map((p) => [p.partition, p.offset]).sort((a, b) => Number(a[0]) - Number(b[0])),
      ).toEqual(lows.map((p) => [p.partition, p.low]).sort((a, b) => Number(a[0]) - Number(b[0])));
      expect((await seedGroupAtEarliest(admin, group, TOPICS.paper, log)).action).toBe('has-offsets');
    } finally {
      await admin.deleteGroups([group]);
      await admin.disconnect();
    }
  });
});
