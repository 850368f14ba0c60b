/**
 * The snapshot's `reports`: violation reports by category and status, every
 * category and every status present (zeros included), so each snapshot has
 * the same shape and a reader need not know which were empty. Counts only:
 * a report's text never reaches ClickHouse, so no snapshot can carry it.
 */
import type { ReportCounts } from '../aggregator/queries.js';
import { REPORT_CATEGORIES, REPORT_STATUSES } from '../common/records.js';
import type { ReportTable } from './snapshot.js';

/** Fills `counts` out to every category × status; a category or status the catalogue lacks is refused. */
export function reportTable(counts: ReportCounts): ReportTable {
  const table = Object.fromEntries(
    REPORT_CATEGORIES.map((c) => [c, Object.fromEntries(REPORT_STATUSES.map((s) => [s, 0]))]),
  ) as Record<string, Record<string, number>>;
  for (const [category, byStatus] of Object.entries(counts)) {
    for (const [status, n] of Object.entries(byStatus)) {
      const row = table[category];
      if (row === undefined || row[status] === undefined) continue; // not a record ingest or triage writes
      row[status] += n;
    }
  }
  return table as unknown as ReportTable;
}
