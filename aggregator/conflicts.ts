/**
 * First record wins — highest revision wins, first in the log among equals —
 * on the ClickHouse side (first-record.ts has the rule).
 *
 * The views count every record: `tally` and `turnout` merge uniqExact states
 * of ballot ids, `ballots_raw` keeps every record. For a ballotId whose
 * records carry one ballotHash that is already right (duplicates collapse).
 * For a conflicted ballotId — more than one hash stored, or a winner recorded
 * by reconcile — the states hold it under every version's candidates and
 * cannot forget it, so the queries correct the few of them after the fact:
 *
 *   raw count (SQL)  −1 for each key that any stored version of the id reaches
 *                    +1 for each key the counted version reaches
 *
 * The counted version is the stored one of the highest revision when it is
 * the only one of that revision (a re-vote: ClickHouse stores `rev`, so it
 * needs no offsets to decide); otherwise, among those of the highest
 * revision, the one with the winner's hash (argMin of the rule's rank in
 * `revision_winners`). While no winner is recorded, or the winner's record is
 * not stored, the id counts nowhere — a snapshot taken then misses one
 * ballot, and reconcile reports it if it lasts. Conflicts are rare, so this
 * costs one GROUP BY over the election's `ballots_raw` rows (~0.2 s at
 * 300,000 ballots here) and a handful of rows per query; every re-vote that
 * changed the choices adds one id to that handful.
 */
import type { ClickHouse } from './client.js';
import { WINNER_RANK_SQL, type Winner } from './first-record.js';
import { idLiteral } from './sql.js';

/** One ballot ClickHouse stores under a conflicted ballotId (all records with one hash). */
export interface StoredVersion {
  readonly ballotHash: string;
  /** The highest revision its records carry (a re-vote may repeat earlier choices). */
  readonly rev: number;
  readonly region: string;
  readonly district: string;
  /** Every arrival minute its records carry (a retry may fall in a later minute). */
  readonly buckets: readonly number[];
  readonly selections: readonly (readonly string[])[];
}

export interface ConflictedBallot {
  readonly ballotId: string;
  readonly versions: readonly StoredVersion[];
  /** The version that counts; null while the winner is not recorded or not stored. */
  readonly counted: StoredVersion | null;
}

/** Separates the parts of a composite key (never part of an id). */
export const KEY_SEPARATOR = '\u0000';

/** The conflicted ballotIds of one election as ClickHouse stores them now. */
export class Conflicts {
  static readonly NONE = new Conflicts([]);
  readonly ballots: readonly ConflictedBallot[];
  /** Ids that count nowhere until their winner is recorded and stored. */
  readonly uncounted: ReadonlySet<string>;

  constructor(ballots: readonly ConflictedBallot[]) {
    this.ballots = ballots;
    this.uncounted = new Set(ballots.filter((b) => b.counted === null).map((b) => b.ballotId));
  }

  /**
   * The correction of a count over distinct ids: for each key, −1 per
   * conflicted id any of whose versions reaches it, +1 per id whose counted
   * version does. `keysOf` lists the keys one version reaches.
   */
  delta(keysOf: (version: StoredVersion) => Iterable<string>): Map<string, number> {
    const out = new Map<string, number>();
    for (const ballot of this.ballots) {
      const reached = new Set<string>();
      for (const version of ballot.versions) for (const key of keysOf(version)) reached.add(key);
      for (const key of reached) out.set(key, (out.get(key) ?? 0) - 1);
      if (ballot.counted === null) continue;
      for (const key of new Set(keysOf(ballot.counted))) out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }
}

/** The keys of every mark (race, candidate) a version carries, as the tally view explodes them. */
export function* marks(
  version: StoredVersion,
  key: (race: string, candidate: string) => string,
): Generator<string> {
  for (const [race, ...candidates] of version.selections) {
    if (race === undefined) continue;
    for (const candidate of candidates) yield key(race, candidate);
  }
}

/**
 * Applies `delta` to `field` of the rows keyed by `keyOf`. Keys the SQL did
 * not return stay absent: that stream lost the record, and reconcile says so.
 * With `dropEmpty`, rows that reach 0 go, as the SQL would not return them.
 */
export function adjust<T extends object>(
  rows: readonly T[],
  keyOf: (row: T) => string,
  field: keyof T,
  delta: ReadonlyMap<string, number>,
  dropEmpty: boolean,
): T[] {
  if (delta.size === 0) return [...rows];
  const out: T[] = [];
  for (const row of rows) {
    const change = delta.get(keyOf(row)) ?? 0;
    const value = (row[field] as number) + change;
    if (dropEmpty && value <= 0) continue;
    out.push(change === 0 ? row : { ...row, [field]: value });
  }
  return out;
}

type VersionRow = {
  ballot_id: string;
  ballot_hash: string;
  top_rev: number | string;
  region: string;
  district: string;
  buckets: (number | string)[];
  selections: string[][];
};

/** Reads the conflicted ballotIds of `election`: every stored version and the one that counts. */
export async function loadConflicts(ch: ClickHouse, election: string): Promise<Conflicts> {
  const e = idLiteral(election);
  // Found by 64-bit hashes of the id and the ballot hash: numbers group ~3× faster
  // than 26- and 64-character strings (190 vs 690 ms at 307,000 rows, 18.16).
  // The rows are then grouped by the strings themselves, and an id whose
  // rows turn out to carry one hash and no recorded winner (two ids sharing
  // a cityHash64) is dropped below, so a collision costs a few rows, nothing more.
  // Two hashes of one id sharing a cityHash64 would hide a conflict only until
  // reconcile records its winner: `revision_winners` is matched by id.
  const [rows, winners] = await Promise.all([
    ch.rows<VersionRow>(
      `SELECT ballot_id, ballot_hash, max(rev) AS top_rev, any(region) AS region, any(district) AS district,
         groupUniqArray(bucket) AS buckets, any(selections) AS selections
       FROM ballots_raw
       WHERE election = ${e} AND cityHash64(ballot_id) IN (
         SELECT h FROM (
           SELECT cityHash64(ballot_id) AS h FROM ballots_raw WHERE election = ${e}
           GROUP BY h HAVING min(cityHash64(ballot_hash)) != max(cityHash64(ballot_hash))
         )
         UNION ALL
         SELECT cityHash64(ballot_id) AS h FROM revision_winners WHERE election = ${e}
       )
       GROUP BY ballot_id, ballot_hash
       ORDER BY ballot_id, ballot_hash`,
    ),
    recordedWinners(ch, election),
  ]);
  if (rows.length === 0) return Conflicts.NONE;
  const byId = new Map<string, StoredVersion[]>();
  for (const r of rows) {
    const versions = byId.get(r.ballot_id) ?? [];
    versions.push({
      ballotHash: r.ballot_hash,
      rev: Number(r.top_rev),
      region: r.region,
      district: r.district,
      buckets: r.buckets.map(Number).sort((a, b) => a - b),
      selections: r.selections,
    });
    byId.set(r.ballot_id, versions);
  }
  const ballots = [...byId]
    .filter(([ballotId, versions]) => versions.length > 1 || winners.has(ballotId))
    .map(([ballotId, versions]) => ({
      ballotId,
      versions,
      counted: countedVersion(versions, winners.get(ballotId)),
    }));
  return new Conflicts(ballots);
}

/**
 * The version that counts, or null while that is not known:
 *
 *   recorded winner of a higher revision than any stored   null: ClickHouse lost it (reconcile fails)
 *   recorded winner of the highest stored revision         the version with its hash (null if none)
 *   otherwise (none recorded, or of a lower revision)      the only version of the highest revision;
 *                                                          null if several (a conflict reconcile has
 *                                                          not decided yet)
 */
export function countedVersion(
  versions: readonly StoredVersion[],
  winner: RecordedWinner | undefined,
): StoredVersion | null {
  const top = Math.max(...versions.map((v) => v.rev));
  if (winner !== undefined && winner.rev > top) return null;
  const highest = versions.filter((v) => v.rev === top);
  if (winner !== undefined && winner.rev === top) {
    return highest.find((v) => v.ballotHash === winner.ballotHash) ?? null;
  }
  return highest.length === 1 ? highest[0]! : null;
}

/** What `revision_winners` says counts for one ballotId: the winner's hash and revision. */
export interface RecordedWinner {
  readonly ballotHash: string;
  readonly rev: number;
}

/** ballotId → the winner's ballotHash and revision, as reconcile recorded them for `election`. */
export async function recordedWinners(
  ch: ClickHouse,
  election: string,
): Promise<Map<string, RecordedWinner>> {
  const rows = await ch.rows<{ ballot_id: string; winner: string; winner_rev: number | string }>(
    `SELECT ballot_id, argMin(ballot_hash, ${WINNER_RANK_SQL}) AS winner,
       argMin(rev, ${WINNER_RANK_SQL}) AS winner_rev
     FROM revision_winners WHERE election = ${idLiteral(election)}
     GROUP BY ballot_id`,
  );
  return new Map(rows.map((r) => [r.ballot_id, { ballotHash: r.winner, rev: Number(r.winner_rev) }]));
}

/**
 * Records the winners ClickHouse does not hold yet (or holds another hash or
 * revision for: a winner displaced by a higher revision or an earlier record
 * ranks lower, so argMin moves).
 * Returns how many rows were written.
 */
export async function recordWinners(
  ch: ClickHouse,
  election: string,
  winners: readonly Winner[],
): Promise<number> {
  if (winners.length === 0) return 0;
  const recorded = await recordedWinners(ch, election);
  const rows = winners
    .filter((w) => {
      const known = recorded.get(w.ballotId);
      return known?.ballotHash !== w.ballotHash || known.rev !== w.rev;
    })
    .map((w) => ({
      election,
      ballot_id: w.ballotId,
      ballot_hash: w.ballotHash,
      log_partition: w.partition,
      log_offset: w.offset,
      rev: w.rev,
    }));
  await ch.insert('revision_winners', rows);
  return rows.length;
}
