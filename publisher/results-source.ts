/**
 * What the publisher needs from the aggregator (DESIGN §5), as a narrow
 * interface: the ClickHouse implementation lives in `clickhouse-source.ts`
 * and delegates to `aggregator/`'s typed queries; tests may pass any
 * implementation, but the snapshot test uses the real one.
 *
 * Every row is already summed with duplicate-immune states (`uniqExact`), so
 * the publisher never counts ballots itself.
 */

import type {
  PaperCheckInRow,
  PaperDissentRow,
  PaperProtocolRow,
  ReportCounts,
  TallyRow,
  TurnoutRow,
} from '../aggregator/queries.js';

// Rows the aggregator's queries already return as they are; re-exported so
// the publisher's modules keep importing them from here.
export type { PaperCheckInRow, PaperDissentRow, PaperProtocolRow, TallyRow, TurnoutRow };

/** An administrative event (aggregator `election_events`); only candidate status changes matter here. */
export interface ElectionEventRow {
  readonly type: string;
  readonly race: string;
  readonly candidate: string;
}

export interface ReconcileOutcome {
  readonly ok: boolean;
  /** One line per mismatch (`KZ-75: acknowledged 10 ≠ stored 9`); empty when ok. */
  readonly problems: readonly string[];
  /**
   * BallotIds with a second, different ballot in the log. Each counts once,
   * as its first record, in every query: reported, never a reason to refuse.
   */
  readonly conflicts: number;
}

export interface ResultsSource {
  /**
   * Resolves once every consumer of the election's topics has caught up;
   * rejects with `lag_not_settled` if that has not happened within `timeoutMs`.
   */
  awaitSettled(election: string, timeoutMs: number): Promise<void>;
  /** Acknowledged = distinct ballotIds stored = tally sum, per region, first record wins (DESIGN §5). */
  reconcile(election: string): Promise<ReconcileOutcome>;
  tally(election: string): Promise<readonly TallyRow[]>;
  /** Every stored version of every precinct's protocol (the builder decides which counts). */
  paperProtocols(election: string): Promise<readonly PaperProtocolRow[]>;
  paperDissents(election: string): Promise<readonly PaperDissentRow[]>;
  paperCheckIns(election: string): Promise<readonly PaperCheckInRow[]>;
  turnout(election: string): Promise<readonly TurnoutRow[]>;
  /** Every counted ballot code, distinct, sorted ascending. */
  codes(election: string): Promise<readonly string[]>;
  /** The election's events, oldest first. */
  electionEvents(election: string): Promise<readonly ElectionEventRow[]>;
  /** Violation reports by category and status (no texts: ClickHouse has none). */
  reportCounts(election: string): Promise<ReportCounts>;
}

/** Members on the roll: computed for sample rolls, read from the roll's marker in Redis for imported ones. */
export interface RollSource {
  /** Every district of the config, in its order. */
  rollByDistrict(election: string): Promise<ReadonlyMap<string, number>>;
  /** Every region of the config: the sums of its districts (one read). */
  rollByRegion(election: string): Promise<ReadonlyMap<string, number>>;
}

/** Everything one snapshot is built from, read after reconciliation succeeded. */
export interface ResultsInput {
  readonly tally: readonly TallyRow[];
  readonly paperProtocols: readonly PaperProtocolRow[];
  readonly paperDissents: readonly PaperDissentRow[];
  readonly paperCheckIns: readonly PaperCheckInRow[];
  readonly turnout: readonly TurnoutRow[];
  readonly codes: readonly string[];
  /** Members on the roll per district id. */
  readonly roll: ReadonlyMap<string, number>;
  /** Oldest first; candidate status changes are applied over the config's statuses. */
  readonly events: readonly ElectionEventRow[];
  /** Violation reports by category and status; none when absent. */
  readonly reports?: ReportCounts;
}
