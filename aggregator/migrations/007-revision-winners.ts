/**
 * Version 7: `revision_winners`, `ballot_winners` (version 3) with the
 * winner's revision (re-voting: first-record.ts ranks the highest revision
 * first, then the log position). A new table, not `ADD COLUMN`: 18.16 has no
 * `ADD COLUMN IF NOT EXISTS`, and every statement must be safe to run again.
 * The rows of `ballot_winners` are copied with rev 0, which every record
 * carried before re-voting; a second copy repeats rows (same sorting key:
 * ReplacingMergeTree folds them, and argMin over the rank is unchanged).
 * From here on reconcile writes and the queries read `revision_winners`.
 *
 * Version 6 is the reports part's (issue 16); versions are a set applied in
 * order, so this one does not wait for it.
 */
import type { Migration } from './types.js';

export const revisionWinners: Migration = {
  version: 7,
  name: 'revision_winners: the highest revision wins, then the first record (re-voting)',
  starts: [],
  statements: () => [
    `CREATE TABLE IF NOT EXISTS revision_winners (
      election String, ballot_id String, ballot_hash String, rev UInt32, log_partition UInt32, log_offset UInt64
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, ballot_id, log_partition, log_offset)`,
    `INSERT INTO revision_winners (election, ballot_id, ballot_hash, rev, log_partition, log_offset)
      SELECT election, ballot_id, ballot_hash, toUInt32(0), log_partition, log_offset FROM ballot_winners`,
  ],
};
