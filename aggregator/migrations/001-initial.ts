/**
 * Version 1: the target tables, then one Kafka table + materialized view per
 * stream (`streams.ts`). Every statement was run on the 18.16.1 server.
 *
 * Validity filter in every view: `v = 1` (a reader refuses record versions it
 * does not know, common/records.ts) and non-empty keys. A record that fails
 * it is consumed and dropped here; `reconcile` applies the same rule on the
 * Kafka side, so both sides count the same records.
 */
import { TOPICS } from '../../common/records.js';
import { kafkaEngine } from './kafka-table.js';
import type { Migration, MigrationContext } from './types.js';

/** Columns of a `ballots` record, named as in the JSON (common/records.ts). */
const BALLOT_COLUMNS = `(
    v UInt8, election String, region String, district String, ballotId String, ballotHash String,
    rev UInt32, bucket UInt32, selections Array(Array(String))
  )`;
const BALLOT_VALID = `v = 1 AND election != '' AND region != '' AND ballotId != ''`;

const ISSUANCE_COLUMNS = `(
    v UInt8, election String, region String, district String, voterHash String, channel String, bucket UInt32
  )`;

const PAPER_COLUMNS = `(
    v UInt8, election String, region String, district String, precinct String, version UInt32,
    issued UInt32, spoiled UInt32, results Array(Array(String))
  )`;

const EVENT_COLUMNS = `(
    v UInt8, id String, election String, type String, at UInt64, race String, candidate String,
    region String, district String, precinct String, detail String
  )`;

function targets(): string[] {
  return [
    // One row per ballot record as delivered (redeliveries included): the
    // audit trail. Count with uniqExact(ballot_id), never count().
    `CREATE TABLE IF NOT EXISTS ballots_raw (
      election String, region String, district String, ballot_id String, ballot_hash String,
      rev UInt32, bucket UInt32, selections Array(Array(String))
    ) ENGINE = MergeTree() PARTITION BY toYYYYMM(toDateTime(bucket)) ORDER BY (election, region, ballot_id)`,
    // uniqExact states of ballot ids: merging a redelivered ballot adds nothing.
    `CREATE TABLE IF NOT EXISTS tally (
      election String, race String, region String, district String, candidate String,
      ballots AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree() PARTITION BY tuple() ORDER BY (election, race, region, district, candidate)`,
    // Two streams write here; each fills the other's columns with empty states.
    `CREATE TABLE IF NOT EXISTS turnout (
      election String, region String, district String, bucket UInt32,
      issued_online AggregateFunction(uniqExact, String),
      issued_paper AggregateFunction(uniqExact, String),
      ballots_cast AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree() PARTITION BY tuple() ORDER BY (election, region, district, bucket)`,
    // The highest version of a precinct's protocol wins (after merges, or with FINAL / argMax).
    `CREATE TABLE IF NOT EXISTS paper_protocols (
      election String, region String, district String, precinct String, version UInt32,
      issued UInt32, spoiled UInt32, results Array(Array(String))
    ) ENGINE = ReplacingMergeTree(version) PARTITION BY tuple() ORDER BY (election, precinct)`,
    // A redelivered event has the same (election, at, id) and collapses with itself.
    `CREATE TABLE IF NOT EXISTS election_events (
      election String, id String, type String, at UInt64, race String, candidate String,
      region String, district String, precinct String, detail String
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, at, id)`,
  ];
}

function streams(ctx: MigrationContext): string[] {
  const queue = (stream: string, columns: string, topic: string): string =>
    `CREATE TABLE IF NOT EXISTS ${stream}_queue ${columns} ${kafkaEngine(ctx.brokers, topic, ctx.group(stream), ctx.kafkaMaxBlockSize)}`;
  return [
    queue('ballots_raw', BALLOT_COLUMNS, TOPICS.ballots),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ballots_raw_mv TO ballots_raw AS
      SELECT election, region, district, ballotId AS ballot_id, ballotHash AS ballot_hash, rev, bucket, selections
      FROM ballots_raw_queue WHERE ${BALLOT_VALID}`,

    queue('tally', BALLOT_COLUMNS, TOPICS.ballots),
    // selections = [[race, cand…]…]: ARRAY JOIN gives one row per race, arrayJoin one per chosen candidate.
    `CREATE MATERIALIZED VIEW IF NOT EXISTS tally_mv TO tally AS
      SELECT election, sel[1] AS race, region, district, arrayJoin(arraySlice(sel, 2)) AS candidate,
        uniqExactState(ballotId) AS ballots
      FROM tally_queue ARRAY JOIN selections AS sel
      WHERE ${BALLOT_VALID}
      GROUP BY election, race, region, district, candidate`,

    queue('turnout_cast', BALLOT_COLUMNS, TOPICS.ballots),
    // A view must fill every column of its TO table (18.16: "Expected column …");
    // uniqExactStateIf(x, 0) is an empty state of exactly the column's type.
    `CREATE MATERIALIZED VIEW IF NOT EXISTS turnout_cast_mv TO turnout AS
      SELECT election, region, district, bucket,
        uniqExactStateIf(ballotId, 0) AS issued_online, uniqExactStateIf(ballotId, 0) AS issued_paper,
        uniqExactState(ballotId) AS ballots_cast
      FROM turnout_cast_queue WHERE ${BALLOT_VALID}
      GROUP BY election, region, district, bucket`,

    queue('turnout_issued', ISSUANCE_COLUMNS, TOPICS.issuance),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS turnout_issued_mv TO turnout AS
      SELECT election, region, district, bucket,
        uniqExactStateIf(voterHash, channel = 'online') AS issued_online,
        uniqExactStateIf(voterHash, channel = 'paper') AS issued_paper,
        uniqExactStateIf(voterHash, 0) AS ballots_cast
      FROM turnout_issued_queue WHERE v = 1 AND election != '' AND voterHash != ''
      GROUP BY election, region, district, bucket`,

    queue('paper_protocols', PAPER_COLUMNS, TOPICS.paper),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS paper_protocols_mv TO paper_protocols AS
      SELECT election, region, district, precinct, version, issued, spoiled, results
      FROM paper_protocols_queue WHERE v = 1 AND election != '' AND precinct != ''`,

    queue('election_events', EVENT_COLUMNS, TOPICS.electionEvents),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS election_events_mv TO election_events AS
      SELECT election, id, type, at, race, candidate, region, district, precinct, detail
      FROM election_events_queue WHERE v = 1 AND election != '' AND type != ''`,
  ];
}

export const initial: Migration = {
  version: 1,
  name: 'tables, Kafka streams and views',
  starts: [
    { name: 'ballots_raw', topic: 'ballots' },
    { name: 'tally', topic: 'ballots' },
    { name: 'turnout_cast', topic: 'ballots' },
    { name: 'turnout_issued', topic: 'issuance' },
    { name: 'paper_protocols', topic: 'paper' },
    { name: 'election_events', topic: 'election-events' },
  ],
  statements: (ctx) => [...targets(), ...streams(ctx)],
};
