/**
 * Version 6: violation reports (issue 16).
 *
 *   reports ─► reports_queue → _mv ───────► reports        (kind = 'report': one row per report)
 *           └► report_triage_queue → _mv ─► report_triage  (kind = 'triage': one row per triage)
 *
 * Counting needs no words: the report's text and attachment stay in Kafka,
 * where only the committee's admin service reads them (election/admin/reports.ts),
 * and never reach ClickHouse, so nothing the publisher can read holds them.
 * The triage's summary is public and is kept. A redelivered record collapses
 * with itself (ReplacingMergeTree on its id); a report's status is its latest
 * triage by `at`, else open (aggregator/queries.ts `reportCounts`).
 *
 * `by` is a keyword in SQL: the queue reads the record's `by` into a quoted
 * column, the table calls it `triaged_by`.
 *
 * The new streams start at the earliest offsets, so the tables fill by
 * replaying the topic.
 */
import { TOPICS } from '../../common/records.js';
import { kafkaEngine } from './kafka-table.js';
import type { Migration, MigrationContext } from './types.js';

const REPORT_COLUMNS = `(
    v UInt8, kind String, id String, election String, region String, district String,
    category String, filedAs String, bucket UInt64,
    report String, status String, summary String, removal String, \`by\` String, at UInt64
  )`;

function statements(ctx: MigrationContext): string[] {
  const queue = (stream: string): string =>
    `CREATE TABLE IF NOT EXISTS ${stream}_queue ${REPORT_COLUMNS} ${kafkaEngine(ctx.brokers, TOPICS.reports, ctx.group(stream), ctx.kafkaMaxBlockSize)}`;
  return [
    `CREATE TABLE IF NOT EXISTS reports (
      election String, id String, region String, district String, category String,
      filed_as String, bucket UInt64
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, id)`,
    `CREATE TABLE IF NOT EXISTS report_triage (
      election String, id String, report String, region String, status String, summary String,
      removal String, triaged_by String, at UInt64
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, report, id)`,
    queue('reports'),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS reports_mv TO reports AS
      SELECT election, id, region, district, category, filedAs AS filed_as, bucket
      FROM reports_queue
      WHERE v = 1 AND kind = 'report' AND election != '' AND id != '' AND category != ''`,
    queue('report_triage'),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS report_triage_mv TO report_triage AS
      SELECT election, id, report, region, status, summary, removal, \`by\` AS triaged_by, at
      FROM report_triage_queue
      WHERE v = 1 AND kind = 'triage' AND election != '' AND report != '' AND status != ''`,
  ];
}

export const reports: Migration = {
  version: 6,
  name: 'violation reports and their triage (counts only: no texts)',
  starts: [
    { name: 'reports', topic: 'reports' },
    { name: 'report_triage', topic: 'reports' },
  ],
  statements,
};
