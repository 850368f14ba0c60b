/**
 * Version 5: the paper channel (issue 15).
 *
 * `paper_protocols` kept only the highest version of a precinct's protocol
 * and read every `paper` record as one. Now `paper` carries two kinds
 * (common/records.ts), protocols are signed and versioned, and the publisher
 * decides each precinct's latest protocol's status itself (publisher/paper.ts),
 * so every version is kept:
 *
 *   paper ────► paper_protocol_versions_queue → _mv ─► paper_protocol_versions
 *               (kind = 'protocol')                    every version; a redelivery collapses
 *         └───► paper_dissents_queue → _mv ──────────► paper_dissents (kind = 'dissent')
 *   issuance ─► paper_checkins_queue → _mv ──────────► paper_checkins
 *               (channel = 'paper')                    uniqExact voterHash per precinct
 *
 * A redelivered protocol has the same (election, precinct, version,
 * signature) and collapses with itself; two different protocols of one
 * version (possible only when a second was written after the first won the
 * ledger key, ingest/ledger) both stay, and the publisher refuses that version.
 *
 * The new streams start at the earliest offsets, so the new tables fill by
 * replaying the topics. The old view, its Kafka table and its table are
 * dropped first (views before what they read and write), as 004 did.
 */
import { TOPICS } from '../../common/records.js';
import { kafkaEngine } from './kafka-table.js';
import type { Migration, MigrationContext } from './types.js';

const PAPER_COLUMNS = `(
    v UInt8, kind String, election String, region String, district String, precinct String,
    version UInt32, reason String, issued UInt32, spoiled UInt32, unused UInt32,
    results Array(Array(String)), keyId String, signature String, submittedBy String, at UInt64,
    id String, author String, text String
  )`;

const ISSUANCE_COLUMNS = `(
    v UInt8, election String, region String, district String, voterHash String, channel String,
    bucket UInt32, precinct String
  )`;

function statements(ctx: MigrationContext): string[] {
  const queue = (stream: string, columns: string, topic: string): string =>
    `CREATE TABLE IF NOT EXISTS ${stream}_queue ${columns} ${kafkaEngine(ctx.brokers, topic, ctx.group(stream), ctx.kafkaMaxBlockSize)}`;
  return [
    'DROP TABLE IF EXISTS paper_protocols_mv',
    'DROP TABLE IF EXISTS paper_protocols_queue',
    'DROP TABLE IF EXISTS paper_protocols',
    `CREATE TABLE IF NOT EXISTS paper_protocol_versions (
      election String, region String, district String, precinct String, version UInt32, reason String,
      issued UInt32, spoiled UInt32, unused UInt32, results Array(Array(String)),
      keyId String, signature String, submittedBy String, at UInt64
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, precinct, version, signature)`,
    `CREATE TABLE IF NOT EXISTS paper_dissents (
      election String, region String, district String, precinct String, version UInt32,
      id String, author String, text String, at UInt64
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, precinct, version, id)`,
    `CREATE TABLE IF NOT EXISTS paper_checkins (
      election String, region String, district String, precinct String,
      checked_in AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree() PARTITION BY tuple() ORDER BY (election, region, district, precinct)`,
    queue('paper_protocol_versions', PAPER_COLUMNS, TOPICS.paper),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS paper_protocol_versions_mv TO paper_protocol_versions AS
      SELECT election, region, district, precinct, version, reason, issued, spoiled, unused, results,
        keyId, signature, submittedBy, at
      FROM paper_protocol_versions_queue
      WHERE v = 1 AND kind = 'protocol' AND election != '' AND precinct != '' AND version > 0`,
    queue('paper_dissents', PAPER_COLUMNS, TOPICS.paper),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS paper_dissents_mv TO paper_dissents AS
      SELECT election, region, district, precinct, version, id, author, text, at
      FROM paper_dissents_queue
      WHERE v = 1 AND kind = 'dissent' AND election != '' AND precinct != '' AND id != ''`,
    queue('paper_checkins', ISSUANCE_COLUMNS, TOPICS.issuance),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS paper_checkins_mv TO paper_checkins AS
      SELECT election, region, district, precinct, uniqExactState(voterHash) AS checked_in
      FROM paper_checkins_queue
      WHERE v = 1 AND channel = 'paper' AND election != '' AND precinct != '' AND voterHash != ''
      GROUP BY election, region, district, precinct`,
  ];
}

export const paperChannel: Migration = {
  version: 5,
  name: 'paper channel: every protocol version, dissents, check-ins per precinct',
  starts: [
    { name: 'paper_protocol_versions', topic: 'paper' },
    { name: 'paper_dissents', topic: 'paper' },
    { name: 'paper_checkins', topic: 'issuance' },
  ],
  statements,
};
