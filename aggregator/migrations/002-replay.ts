/**
 * Version 2: a way back in for ballots the Kafka engine lost.
 *
 * On 18.16 a block can be committed without reaching a view (README,
 * "Exactly once on 18.16"); `reconcile` finds it, and `repair` re-inserts
 * the election's records from Kafka into `ballots_replay`, a Null table
 * whose views are the three ballot views again. Every target counts ids, so
 * re-inserting ballots that were already counted changes no count.
 */
import type { Migration } from './types.js';

const BALLOT_VALID = `v = 1 AND election != '' AND region != '' AND ballotId != ''`;

export const replay: Migration = {
  version: 2,
  name: 'ballots_replay for repair',
  starts: [],
  statements: () => [
    `CREATE TABLE IF NOT EXISTS ballots_replay (
      v UInt8, election String, region String, district String, ballotId String, ballotHash String,
      rev UInt32, bucket UInt32, selections Array(Array(String))
    ) ENGINE = Null`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ballots_raw_replay_mv TO ballots_raw AS
      SELECT election, region, district, ballotId AS ballot_id, ballotHash AS ballot_hash, rev, bucket, selections
      FROM ballots_replay WHERE ${BALLOT_VALID}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS tally_replay_mv TO tally AS
      SELECT election, sel[1] AS race, region, district, arrayJoin(arraySlice(sel, 2)) AS candidate,
        uniqExactState(ballotId) AS ballots
      FROM ballots_replay ARRAY JOIN selections AS sel
      WHERE ${BALLOT_VALID}
      GROUP BY election, race, region, district, candidate`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS turnout_cast_replay_mv TO turnout AS
      SELECT election, region, district, bucket,
        uniqExactStateIf(ballotId, 0) AS issued_online, uniqExactStateIf(ballotId, 0) AS issued_paper,
        uniqExactState(ballotId) AS ballots_cast
      FROM ballots_replay WHERE ${BALLOT_VALID}
      GROUP BY election, region, district, bucket`,
  ],
};
