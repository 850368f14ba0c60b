/**
 * The Kafka → ClickHouse streams of the current schema: one Kafka engine
 * table, one consumer group and one materialized view per target table.
 *
 *   topic              stream (Kafka table → MV)        target table
 *   ballots ─────────► ballots_raw_queue → _mv ───────► ballots_raw      (audit trail)
 *           ├────────► tally_queue → _mv ─────────────► tally            (uniqExact per candidate)
 *           └────────► cast_turnout_queue → _mv ──────► cast_turnout     (ballots cast, per cast bucket)
 *   issuance ────────► issued_turnout_queue → _mv ────► issued_turnout   (credentials issued, per minute)
 *            └───────► issuance_voters_queue → _mv ───► issuance_voters  (per voter and blindedHash: check-ins)
 *   paper ───────────► paper_protocol_versions_queue → _mv ► paper_protocol_versions (every version)
 *         └──────────► paper_dissents_queue → _mv ────► paper_dissents
 *   election-events ─► election_events_queue → _mv ───► election_events
 *   reports ─────────► reports_queue → _mv ───────────► reports          (kind report; no texts)
 *           └────────► report_triage_queue → _mv ─────► report_triage    (kind triage)
 *
 * Why not one Kafka table per topic with several views on it: 18.16 starts
 * consuming (and committing) as soon as the first view is attached, so views
 * created after it miss records; and it cannot chain views through a `TO`
 * table (tested: an MV reading a `TO` target never fires), while current
 * releases chain only that way. Separate groups avoid both, cost one more
 * JSON parse per ballot per view, and let `lag` and `reconcile` see each
 * view's progress on its own.
 */
import type { TopicName } from '../common/records.js';

export interface StreamSpec {
  readonly name: string;
  readonly topic: TopicName;
}

export const STREAMS = [
  { name: 'ballots_raw', topic: 'ballots' },
  { name: 'tally', topic: 'ballots' },
  { name: 'cast_turnout', topic: 'ballots' },
  { name: 'issued_turnout', topic: 'issuance' },
  { name: 'issuance_voters', topic: 'issuance' },
  { name: 'paper_protocol_versions', topic: 'paper' },
  { name: 'paper_dissents', topic: 'paper' },
  { name: 'election_events', topic: 'election-events' },
  { name: 'reports', topic: 'reports' },
  { name: 'report_triage', topic: 'reports' },
] as const satisfies readonly StreamSpec[];

export type StreamName = (typeof STREAMS)[number]['name'];

/** The consumer group of a stream's Kafka table; the database keeps test schemas apart. */
export function streamGroup(database: string, stream: string): string {
  return `clickhouse-${database}-${stream}`;
}
