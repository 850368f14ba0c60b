/**
 * The publisher's queries (DESIGN §6), one named function each. Every count
 * comes from merging uniqExact states or from distinct ids, so a record that
 * Kafka delivered twice is never counted twice.
 *
 * Results are plain typed rows, sorted, numbers as numbers (ClickHouse sends
 * 64-bit integers as JSON strings; each function converts).
 */
import type { ClickHouse } from './client.js';
import { idLiteral } from './sql.js';

/** Online votes of one candidate in one district. */
export interface TallyRow {
  readonly race: string;
  readonly region: string;
  readonly district: string;
  readonly candidate: string;
  readonly votes: number;
}

export interface RegionTallyRow {
  readonly race: string;
  readonly region: string;
  readonly candidate: string;
  readonly votes: number;
}

export interface RaceTallyRow {
  readonly race: string;
  readonly candidate: string;
  readonly votes: number;
}

/** Per region and race: ballots that marked the race, and the marks (votes) they carry. */
export interface RaceBallotsRow {
  readonly region: string;
  readonly race: string;
  readonly ballots: number;
  readonly marks: number;
}

export interface TurnoutRow {
  readonly region: string;
  readonly district: string;
  readonly issuedOnline: number;
  readonly issuedPaper: number;
  readonly castOnline: number;
}

/** One minute of the live turnout feed, all districts together. */
export interface TurnoutBucketRow {
  /** Unix seconds, start of the minute. */
  readonly bucket: number;
  readonly issuedOnline: number;
  readonly issuedPaper: number;
  readonly castOnline: number;
}

export interface PaperVoteRow {
  readonly race: string;
  readonly district: string;
  readonly candidate: string;
  readonly votes: number;
}

export interface PaperPrecinctRow {
  readonly precinct: string;
  readonly region: string;
  readonly district: string;
  /** Ballot papers handed out, as the latest protocol states. */
  readonly ballots: number;
  readonly spoiled: number;
  readonly version: number;
}

export interface ElectionEventRow {
  readonly id: string;
  readonly type: string;
  readonly at: number;
  readonly race: string;
  readonly candidate: string;
  readonly region: string;
  readonly district: string;
  readonly precinct: string;
  readonly detail: string;
}

type Wire<T> = { readonly [K in keyof T]: T[K] extends number ? number | string : T[K] };

function numbers<T extends object>(rows: readonly Wire<T>[], fields: readonly (keyof T)[]): T[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = { ...row };
    for (const field of fields) out[field as string] = Number(row[field]);
    return out as T;
  });
}

/** Votes per candidate per district: the tally at its finest grain. */
export async function tallyByDistrict(ch: ClickHouse, election: string): Promise<TallyRow[]> {
  const rows = await ch.rows<Wire<TallyRow>>(
    `SELECT race, region, district, candidate, uniqExactMerge(ballots) AS votes
     FROM tally WHERE election = ${idLiteral(election)}
     GROUP BY race, region, district, candidate
     ORDER BY race, region, district, candidate`,
  );
  return numbers<TallyRow>(rows, ['votes']);
}

export async function tallyByRegion(ch: ClickHouse, election: string): Promise<RegionTallyRow[]> {
  const rows = await ch.rows<Wire<RegionTallyRow>>(
    `SELECT race, region, candidate, uniqExactMerge(ballots) AS votes
     FROM tally WHERE election = ${idLiteral(election)}
     GROUP BY race, region, candidate
     ORDER BY race, region, candidate`,
  );
  return numbers<RegionTallyRow>(rows, ['votes']);
}

export async function tallyByRace(ch: ClickHouse, election: string): Promise<RaceTallyRow[]> {
  const rows = await ch.rows<Wire<RaceTallyRow>>(
    `SELECT race, candidate, uniqExactMerge(ballots) AS votes
     FROM tally WHERE election = ${idLiteral(election)}
     GROUP BY race, candidate
     ORDER BY race, candidate`,
  );
  return numbers<RaceTallyRow>(rows, ['votes']);
}

/**
 * Per region and race: distinct ballots in the tally (the candidates' states
 * merged, so a ballot marking two candidates counts once) and the sum of the
 * candidates' votes. What `reconcile` compares with Kafka.
 */
export async function raceBallots(ch: ClickHouse, election: string): Promise<RaceBallotsRow[]> {
  const rows = await ch.rows<Wire<RaceBallotsRow>>(
    `SELECT region, race, uniqExactMerge(state) AS ballots, sum(votes) AS marks
     FROM (
       SELECT region, race, candidate, uniqExactMergeState(ballots) AS state, uniqExactMerge(ballots) AS votes
       FROM tally WHERE election = ${idLiteral(election)}
       GROUP BY region, race, candidate
     )
     GROUP BY region, race
     ORDER BY region, race`,
  );
  return numbers<RaceBallotsRow>(rows, ['ballots', 'marks']);
}

/** Distinct ballot ids in `ballots_raw`, per region. */
export async function storedBallots(ch: ClickHouse, election: string): Promise<Map<string, number>> {
  const rows = await ch.rows<{ region: string; ballots: string }>(
    `SELECT region, uniqExact(ballot_id) AS ballots
     FROM ballots_raw WHERE election = ${idLiteral(election)}
     GROUP BY region ORDER BY region`,
  );
  return new Map(rows.map((r) => [r.region, Number(r.ballots)]));
}

/** Elections present in the ClickHouse tables. */
export async function storedElections(ch: ClickHouse): Promise<string[]> {
  const rows = await ch.rows<{ election: string }>(
    `SELECT DISTINCT election FROM (
       SELECT DISTINCT election FROM ballots_raw UNION ALL SELECT DISTINCT election FROM tally
     ) ORDER BY election`,
  );
  return rows.map((r) => r.election);
}

export async function turnout(ch: ClickHouse, election: string): Promise<TurnoutRow[]> {
  const rows = await ch.rows<Wire<TurnoutRow>>(
    `SELECT region, district,
       uniqExactMerge(issued_online) AS issuedOnline,
       uniqExactMerge(issued_paper) AS issuedPaper,
       uniqExactMerge(ballots_cast) AS castOnline
     FROM turnout WHERE election = ${idLiteral(election)}
     GROUP BY region, district
     ORDER BY region, district`,
  );
  return numbers<TurnoutRow>(rows, ['issuedOnline', 'issuedPaper', 'castOnline']);
}

/**
 * Turnout per minute for the live feed. A ballot re-produced in a later
 * minute (a retry after a produce timeout, DESIGN §3) appears in both
 * minutes here, while {@link turnout} counts it once.
 */
export async function turnoutByMinute(ch: ClickHouse, election: string): Promise<TurnoutBucketRow[]> {
  const rows = await ch.rows<Wire<TurnoutBucketRow>>(
    `SELECT bucket,
       uniqExactMerge(issued_online) AS issuedOnline,
       uniqExactMerge(issued_paper) AS issuedPaper,
       uniqExactMerge(ballots_cast) AS castOnline
     FROM turnout WHERE election = ${idLiteral(election)}
     GROUP BY bucket ORDER BY bucket`,
  );
  return numbers<TurnoutBucketRow>(rows, ['bucket', 'issuedOnline', 'issuedPaper', 'castOnline']);
}

/** Every counted ballot code (receipt), distinct, ascending. */
export async function codes(ch: ClickHouse, election: string): Promise<string[]> {
  const rows = await ch.rows<{ ballot_id: string }>(
    `SELECT DISTINCT ballot_id FROM ballots_raw WHERE election = ${idLiteral(election)} ORDER BY ballot_id`,
  );
  return rows.map((r) => r.ballot_id);
}

/** Paper votes per candidate and district, from the latest protocol of each precinct. */
export async function paperVotes(ch: ClickHouse, election: string): Promise<PaperVoteRow[]> {
  const rows = await ch.rows<Wire<PaperVoteRow>>(
    `SELECT result[1] AS race, district, result[2] AS candidate, sum(toUInt64(toUInt32OrZero(result[3]))) AS votes
     FROM paper_protocols FINAL ARRAY JOIN results AS result
     WHERE election = ${idLiteral(election)}
     GROUP BY race, district, candidate
     ORDER BY race, district, candidate`,
  );
  return numbers<PaperVoteRow>(rows, ['votes']);
}

/** The latest protocol of each precinct, without its choices. */
export async function paperPrecincts(ch: ClickHouse, election: string): Promise<PaperPrecinctRow[]> {
  const rows = await ch.rows<Wire<PaperPrecinctRow>>(
    `SELECT precinct, region, district, issued AS ballots, spoiled, version
     FROM paper_protocols FINAL WHERE election = ${idLiteral(election)}
     ORDER BY precinct`,
  );
  return numbers<PaperPrecinctRow>(rows, ['ballots', 'spoiled', 'version']);
}

/** The election's administrative events, oldest first, redeliveries collapsed. */
export async function electionEvents(ch: ClickHouse, election: string): Promise<ElectionEventRow[]> {
  const rows = await ch.rows<Wire<ElectionEventRow>>(
    `SELECT id, type, at, race, candidate, region, district, precinct, detail
     FROM election_events FINAL WHERE election = ${idLiteral(election)}
     ORDER BY at, id`,
  );
  return numbers<ElectionEventRow>(rows, ['at']);
}
