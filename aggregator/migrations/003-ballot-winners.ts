/**
 * Version 3: `ballot_winners`, where reconcile records which record of a
 * conflicted ballotId counts (first-record.ts: the first in its partition's
 * log). ClickHouse cannot tell on its own: 18.16's Kafka engine exposes no
 * offsets. One row per decision: the winner's hash and its place in the log;
 * the counting queries take `argMin(ballot_hash, <rank>)` per ballotId
 * (conflicts.ts), so a repeated row changes nothing and a winner displaced by
 * an earlier record (another partition) is outranked, never rewritten.
 * Conflicts are rare: the table holds a handful of rows per election.
 */
import type { Migration } from './types.js';

export const ballotWinners: Migration = {
  version: 3,
  name: 'ballot_winners: the first record of each conflicted ballotId',
  starts: [],
  statements: () => [
    `CREATE TABLE IF NOT EXISTS ballot_winners (
      election String, ballot_id String, ballot_hash String, log_partition UInt32, log_offset UInt64
    ) ENGINE = ReplacingMergeTree() PARTITION BY tuple() ORDER BY (election, ballot_id, log_partition, log_offset)`,
  ],
};
