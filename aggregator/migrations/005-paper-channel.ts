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
 *   issuance ─► issuance_voters_queue → _mv ─────────► issuance_voters
 *               (both channels)                        per voter: each blindedHash, its channel and precinct
 *
 * A redelivered protocol has the same (election, precinct, version,
 * signature) and collapses with itself; two different protocols of one
 * version (possible only when a second was written after the first won the
 * ledger key, ingest/ledger) both stay, and the publisher refuses that version.
 *
 * Check-ins follow "first issuance wins" (DESIGN §3): a voter counts as
 * checked in at P only when all its issuance records carry `paper:P`
 * (aggregator/queries.ts `paperCheckIns`). A losing record with another hash
 * reaches the log only after a fault (ingest/ledger/ledger.ts), and no view
 * can tell which of a voter's records came first, so `issuance_voters` keeps
 * one row per (voter, blindedHash) of both channels and the query leaves a
 * conflicted voter out, as conflicts.ts does with a conflicted ballot. It
 * holds no time (no bucket, no Kafka timestamp): a voter's row says that it
 * was issued a credential, never when (docs/secrecy.md).
 *
 * This migration was changed in place before any release: its first form
 * counted uniqExact voterHash of every channel-paper record per precinct
 * (`paper_checkins`), losing records included; no deployment ran it.
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
    v UInt8, election String, region String, district String, voterHash String, blindedHash String,
    channel String, precinct String
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
    // One row per (voter, blindedHash) once merged; a redelivery collapses. No time column.
    `CREATE TABLE IF NOT EXISTS issuance_voters (
      election String, region String, district String, voter_hash String, blinded_hash String,
      channel String, precinct String
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, voter_hash, blinded_hash)`,
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
    queue('issuance_voters', ISSUANCE_COLUMNS, TOPICS.issuance),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS issuance_voters_mv TO issuance_voters AS
      SELECT election, region, district, voterHash AS voter_hash, blindedHash AS blinded_hash, channel, precinct
      FROM issuance_voters_queue
      WHERE v = 1 AND election != '' AND voterHash != '' AND blindedHash != ''`,
  ];
}

export const paperChannel: Migration = {
  version: 5,
  name: 'paper channel: every protocol version, dissents, issuance per voter (check-ins)',
  starts: [
    { name: 'paper_protocol_versions', topic: 'paper' },
    { name: 'paper_dissents', topic: 'paper' },
    { name: 'issuance_voters', topic: 'issuance' },
  ],
  statements,
};
