/**
 * Version 4: issuance and cast counted apart (DESIGN §1.3).
 *
 * `turnout` held, per district and minute, the set of issued voterHashes
 * next to the set of cast ballotIds: with a few ballots per district-minute,
 * an issuance time narrowed a ballot to a handful. It is replaced by two
 * tables that share no fine-grained time key:
 *
 *   issuance ─► issued_turnout_queue → _mv ─► issued_turnout  per district and minute (live feed)
 *   ballots ──► cast_turnout_queue → _mv ───► cast_turnout    per district and cast bucket
 *               ballots_replay → cast_turnout_replay_mv ─┘     (repair, 002)
 *
 * A ballot's bucket is the election's coarse cast bucket (30 min unless
 * configured, common/records.ts); ballots written before it carry minutes,
 * and Kafka, the system of record, keeps them so.
 *
 * The new streams' consumer groups start at the earliest offsets, so on an
 * existing deployment the new tables fill by replaying both topics: every
 * count is of distinct ids, and nothing is read from the old table. The old
 * table, its views and their Kafka tables are dropped first (views before
 * what they read and write), so no statement ever writes to it again.
 */
import { TOPICS } from '../../common/records.js';
import { kafkaEngine } from './kafka-table.js';
import type { Migration, MigrationContext } from './types.js';

const BALLOT_COLUMNS = `(
    v UInt8, election String, region String, district String, ballotId String, ballotHash String,
    rev UInt32, bucket UInt32, selections Array(Array(String))
  )`;
const BALLOT_VALID = `v = 1 AND election != '' AND region != '' AND ballotId != ''`;

const ISSUANCE_COLUMNS = `(
    v UInt8, election String, region String, district String, voterHash String, channel String, bucket UInt32
  )`;

const CAST_VIEW = (from: string): string => `SELECT election, region, district, bucket,
        uniqExactState(ballotId) AS ballots_cast
      FROM ${from} WHERE ${BALLOT_VALID}
      GROUP BY election, region, district, bucket`;

function statements(ctx: MigrationContext): string[] {
  const queue = (stream: string, columns: string, topic: string): string =>
    `CREATE TABLE IF NOT EXISTS ${stream}_queue ${columns} ${kafkaEngine(ctx.brokers, topic, ctx.group(stream), ctx.kafkaMaxBlockSize)}`;
  return [
    'DROP TABLE IF EXISTS turnout_cast_mv',
    'DROP TABLE IF EXISTS turnout_issued_mv',
    'DROP TABLE IF EXISTS turnout_cast_replay_mv',
    'DROP TABLE IF EXISTS turnout_cast_queue',
    'DROP TABLE IF EXISTS turnout_issued_queue',
    'DROP TABLE IF EXISTS turnout',
    `CREATE TABLE IF NOT EXISTS issued_turnout (
      election String, region String, district String, bucket UInt32,
      issued_online AggregateFunction(uniqExact, String),
      issued_paper AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree() PARTITION BY tuple() ORDER BY (election, region, district, bucket)`,
    `CREATE TABLE IF NOT EXISTS cast_turnout (
      election String, region String, district String, bucket UInt32,
      ballots_cast AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree() PARTITION BY tuple() ORDER BY (election, region, district, bucket)`,
    queue('issued_turnout', ISSUANCE_COLUMNS, TOPICS.issuance),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS issued_turnout_mv TO issued_turnout AS
      SELECT election, region, district, bucket,
        uniqExactStateIf(voterHash, channel = 'online') AS issued_online,
        uniqExactStateIf(voterHash, channel = 'paper') AS issued_paper
      FROM issued_turnout_queue WHERE v = 1 AND election != '' AND voterHash != ''
      GROUP BY election, region, district, bucket`,
    queue('cast_turnout', BALLOT_COLUMNS, TOPICS.ballots),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS cast_turnout_mv TO cast_turnout AS ${CAST_VIEW('cast_turnout_queue')}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS cast_turnout_replay_mv TO cast_turnout AS ${CAST_VIEW('ballots_replay')}`,
  ];
}

export const separateTurnout: Migration = {
  version: 4,
  name: 'issued_turnout and cast_turnout apart, replacing turnout',
  starts: [
    { name: 'issued_turnout', topic: 'issuance' },
    { name: 'cast_turnout', topic: 'ballots' },
  ],
  statements,
};
