/**
 * DESIGN §1.3 at the schema level: no ClickHouse table holds the issuance
 * side (voterHash) and the cast side (ballotId) together. Checked from the
 * server's own catalogue, not from our migration files: every table is
 * classified by the record columns it has or is fed from (a Kafka or Null
 * table with `voterHash` is issuance, with `ballotId` ballots), following
 * each materialized view from its source to its target; a table reached
 * from both sides — as `turnout` was, per district and minute — fails.
 * The cast side's only time is the coarse cast bucket, and it never sits
 * next to an issuance time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouse } from '../aggregator/client.js';
import { migrate } from '../aggregator/migrate.js';
import { MIGRATIONS, type Migration } from '../aggregator/migrations/index.js';
import { config, log, migrated } from './aggregator.support.js';

type Side = 'issuance' | 'ballots';

/** Columns that carry one side's identifiers, in the records (camelCase) or the tables (snake_case). */
const SIDE_COLUMNS: Readonly<Record<Side, readonly string[]>> = {
  issuance: ['voterHash', 'voter_hash', 'blindedHash', 'blinded_hash'],
  ballots: ['ballotId', 'ballot_id', 'ballotHash', 'ballot_hash'],
};

let ch: ClickHouse;
const scratch = `saylau_secrecy_${Date.now().toString(36)}`;

/**
 * A migration as it would run, but reading no topic: its Kafka tables become
 * Null tables (same columns, so the views and the check see the same shape).
 */
function offline(migration: Migration): Migration {
  return {
    ...migration,
    starts: [],
    statements: (ctx) =>
      migration
        .statements(ctx)
        .map((sql) => sql.replace(/ENGINE = Kafka\(\) SETTINGS[\s\S]*$/, 'ENGINE = Null')),
  };
}

beforeAll(async () => {
  await migrated();
  ch = new ClickHouse(config, { database: null });
});

afterAll(async () => {
  await ch?.command(`DROP DATABASE IF EXISTS ${scratch}`);
  await ch?.close();
});

/** Every table's sides: its own identifier columns, then what its views feed it, to a fixed point. */
async function sidesByTable(db: string): Promise<Map<string, Set<Side>>> {
  const columns = await ch.rows<{ table: string; name: string }>(
    `SELECT table, name FROM system.columns WHERE database = '${db}'`,
  );
  const sides = new Map<string, Set<Side>>();
  for (const { table, name } of columns) {
    const set = sides.get(table) ?? new Set<Side>();
    for (const side of ['issuance', 'ballots'] as const) if (SIDE_COLUMNS[side].includes(name)) set.add(side);
    sides.set(table, set);
  }
  const views = await ch.rows<{ name: string; create_table_query: string }>(
    `SELECT name, create_table_query FROM system.tables WHERE database = '${db}' AND engine = 'MaterializedView'`,
  );
  const edges: [from: string, to: string][] = [];
  for (const view of views) {
    const to = new RegExp(`\\bTO ${db}\\.(\\w+)`).exec(view.create_table_query)?.[1];
    const from = [...view.create_table_query.matchAll(new RegExp(`\\b(?:FROM|JOIN) ${db}\\.(\\w+)`, 'g'))];
    expect(to, `view ${view.name} writes to a table`).toBeDefined();
    for (const source of from) edges.push([source[1]!, to!]);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [from, to] of edges) {
      const target = sides.get(to) ?? new Set<Side>();
      for (const side of sides.get(from) ?? []) {
        if (!target.has(side)) {
          target.add(side);
          changed = true;
        }
      }
      sides.set(to, target);
    }
  }
  return sides;
}

function bothSides(sides: Map<string, Set<Side>>): string[] {
  return [...sides].filter(([, s]) => s.size === 2).map(([table]) => table);
}

describe('ClickHouse schema secrecy', () => {
  it('flags the schema before migration 4 (turnout), and passes after it on the same database', async () => {
    const before = MIGRATIONS.filter((m) => m.version < 4).map(offline);
    await migrate(config, log, { database: scratch, migrations: before });
    expect(bothSides(await sidesByTable(scratch))).toEqual(['turnout']);
    await migrate(config, log, { database: scratch, migrations: MIGRATIONS.map(offline) });
    const after = await sidesByTable(scratch);
    expect(bothSides(after)).toEqual([]);
    expect(after.has('turnout')).toBe(false);
  });

  it('no table of the live schema holds or is fed both voterHash and ballotId', async () => {
    const sides = await sidesByTable(config.clickhouse.database);
    expect(bothSides(sides)).toEqual([]);
    // The check sees both sides at all (it is not vacuous).
    expect(sides.get('issued_turnout')).toEqual(new Set(['issuance']));
    expect(sides.get('cast_turnout')).toEqual(new Set(['ballots']));
    expect(sides.get('tally')).toEqual(new Set(['ballots']));
  });

  it('no table keyed by time is fed from both topics (cast and issuance counted apart)', async () => {
    const db = config.clickhouse.database;
    const sides = await sidesByTable(db);
    const keyed = await ch.rows<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = '${db}' AND sorting_key LIKE '%bucket%'`,
    );
    expect(keyed.map((t) => t.name).sort()).toEqual(['cast_turnout', 'issued_turnout']);
    for (const { name } of keyed) {
      expect(sides.get(name)?.size ?? 0, `${name} is fed one side at most`).toBeLessThanOrEqual(1);
    }
  });
});
