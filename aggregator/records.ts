/**
 * Record format of the `election-events` topic, which the aggregator is the
 * first to read. The record is defined with the others in `common/records.ts`
 * (operators sign it, ingest and the publisher follow it); ClickHouse stores
 * these fields of it (18.16's JSONEachRow reader, no per-field settings):
 *
 *   election-events  {v, id, election, type, at, race, candidate, region, district, precinct, detail}
 *
 * `detail` is the event's reason. Tolerance: fields the tables do not know
 * (`by`, `reference`, `until`, `signature`) are skipped (the Kafka engine
 * forces `input_format_skip_unknown_fields`), missing fields read as '' or 0,
 * and numbers may also arrive quoted. A record whose `v` is not 1 is read but
 * not stored, like a ballot of an unknown version. Types are stored as they
 * come, so a new type needs no migration.
 */
export type { ElectionEventRecord, ElectionEventType } from '../common/records.js';
