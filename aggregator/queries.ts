/**
 * The publisher's queries (DESIGN §6), one named function each. Every count
 * comes from merging uniqExact states or from distinct ids, so a record that
 * Kafka delivered twice is never counted twice; and every count of ballots
 * follows "first record wins" (first-record.ts): a conflicted ballotId counts
 * once, as its winner, corrected by conflicts.ts. Each counting function reads
 * the election's conflicts itself unless given them (one read for several
 * queries that must agree, as reconcile's).
 *
 * Results are plain typed rows, sorted, numbers as numbers (ClickHouse sends
 * 64-bit integers as JSON strings; each function converts).
 */
import type { ClickHouse } from './client.js';
import { adjust, type Conflicts, loadConflicts, marks, KEY_SEPARATOR as S } from './conflicts.js';
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

/** One minute of credentials issued, all districts together. */
export interface IssuedBucketRow {
  /** Unix seconds, start of the minute. */
  readonly bucket: number;
  readonly issuedOnline: number;
  readonly issuedPaper: number;
}

/** One cast bucket of ballots, all districts together. */
export interface CastBucketRow {
  /** Unix seconds, start of the election's cast bucket. */
  readonly bucket: number;
  readonly castOnline: number;
}

/** One stored version of a precinct's protocol (every version is kept; the publisher picks). */
export interface PaperProtocolRow {
  readonly precinct: string;
  readonly region: string;
  readonly district: string;
  readonly version: number;
  readonly reason: string;
  /** Ballot papers handed out (spoiled included), spoiled, and received but not handed out. */
  readonly issued: number;
  readonly spoiled: number;
  readonly unused: number;
  /** [race, candidate, votes as a decimal string] */
  readonly results: readonly (readonly string[])[];
  readonly keyId: string;
  readonly signature: string;
  readonly submittedBy: string;
  readonly at: number;
}

/** An observer's note on one protocol version. */
export interface PaperDissentRow {
  readonly precinct: string;
  readonly version: number;
  readonly id: string;
  readonly author: string;
  readonly text: string;
  readonly at: number;
}

/**
 * Members checked in on paper at a precinct: voters whose only issuance
 * (every record of both channels carries one blindedHash) is this precinct's
 * check-in. A conflicted voter — a paper record here and a record with
 * another hash — counts nowhere until its winner is known ({@link paperCheckIns}).
 */
export interface PaperCheckInRow {
  readonly precinct: string;
  readonly region: string;
  readonly district: string;
  readonly checkIns: number;
  /** Conflicted voters with a paper record at this precinct: counted nowhere, shown in reports. */
  readonly conflicted: number;
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
export async function tallyByDistrict(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<TallyRow[]> {
  const [rows, fix] = await Promise.all([
    ch.rows<Wire<TallyRow>>(
      `SELECT race, region, district, candidate, uniqExactMerge(ballots) AS votes
       FROM tally WHERE election = ${idLiteral(election)}
       GROUP BY race, region, district, candidate
       ORDER BY race, region, district, candidate`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const delta = fix.delta((v) => marks(v, (race, c) => `${race}${S}${v.region}${S}${v.district}${S}${c}`));
  const key = (r: TallyRow) => `${r.race}${S}${r.region}${S}${r.district}${S}${r.candidate}`;
  return adjust(numbers<TallyRow>(rows, ['votes']), key, 'votes', delta, true);
}

export async function tallyByRegion(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<RegionTallyRow[]> {
  const [rows, fix] = await Promise.all([
    ch.rows<Wire<RegionTallyRow>>(
      `SELECT race, region, candidate, uniqExactMerge(ballots) AS votes
       FROM tally WHERE election = ${idLiteral(election)}
       GROUP BY race, region, candidate
       ORDER BY race, region, candidate`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const delta = fix.delta((v) => marks(v, (race, c) => `${race}${S}${v.region}${S}${c}`));
  const key = (r: RegionTallyRow) => `${r.race}${S}${r.region}${S}${r.candidate}`;
  return adjust(numbers<RegionTallyRow>(rows, ['votes']), key, 'votes', delta, true);
}

export async function tallyByRace(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<RaceTallyRow[]> {
  const [rows, fix] = await Promise.all([
    ch.rows<Wire<RaceTallyRow>>(
      `SELECT race, candidate, uniqExactMerge(ballots) AS votes
       FROM tally WHERE election = ${idLiteral(election)}
       GROUP BY race, candidate
       ORDER BY race, candidate`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const delta = fix.delta((v) => marks(v, (race, c) => `${race}${S}${c}`));
  const key = (r: RaceTallyRow) => `${r.race}${S}${r.candidate}`;
  return adjust(numbers<RaceTallyRow>(rows, ['votes']), key, 'votes', delta, true);
}

/**
 * Per region and race: distinct ballots in the tally (the candidates' states
 * merged, so a ballot marking two candidates counts once) and the sum of the
 * candidates' votes. What `reconcile` compares with Kafka.
 */
export async function raceBallots(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<RaceBallotsRow[]> {
  const [rows, fix] = await Promise.all([
    ch.rows<Wire<RaceBallotsRow>>(
      `SELECT region, race, uniqExactMerge(state) AS ballots, sum(votes) AS marks
       FROM (
         SELECT region, race, candidate, uniqExactMergeState(ballots) AS state, uniqExactMerge(ballots) AS votes
         FROM tally WHERE election = ${idLiteral(election)}
         GROUP BY region, race, candidate
       )
       GROUP BY region, race
       ORDER BY region, race`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  // Ballots: per race a version marks at all; marks: per candidate, folded to the race.
  const ballots = fix.delta((v) => new Set(marks(v, (race) => `${v.region}${S}${race}`)));
  const marksDelta = new Map<string, number>();
  for (const [key, n] of fix.delta((v) => marks(v, (race, c) => `${v.region}${S}${race}${S}${c}`))) {
    const race = key.slice(0, key.lastIndexOf(S));
    marksDelta.set(race, (marksDelta.get(race) ?? 0) + n);
  }
  const key = (r: RaceBallotsRow) => `${r.region}${S}${r.race}`;
  const counted = adjust(numbers<RaceBallotsRow>(rows, ['ballots', 'marks']), key, 'ballots', ballots, true);
  return adjust(counted, key, 'marks', marksDelta, false);
}

/** Distinct ballot ids in `ballots_raw` that count, per region. */
export async function storedBallots(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<Map<string, number>> {
  const [rows, fix] = await Promise.all([
    ch.rows<{ region: string; ballots: string }>(
      `SELECT region, uniqExact(ballot_id) AS ballots
       FROM ballots_raw WHERE election = ${idLiteral(election)}
       GROUP BY region ORDER BY region`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const delta = fix.delta((v) => [v.region]);
  const out = new Map<string, number>();
  for (const r of rows) {
    const n = Number(r.ballots) + (delta.get(r.region) ?? 0);
    if (n > 0) out.set(r.region, n);
  }
  return out;
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

/**
 * Issued and cast per district. The two sides are kept in separate tables
 * with no shared fine-grained time key (migration 004) and are joined here,
 * by district only.
 */
export async function turnout(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<TurnoutRow[]> {
  const e = idLiteral(election);
  const [issued, cast, fix] = await Promise.all([
    ch.rows<Wire<Omit<TurnoutRow, 'castOnline'>>>(
      `SELECT region, district,
         uniqExactMerge(issued_online) AS issuedOnline,
         uniqExactMerge(issued_paper) AS issuedPaper
       FROM issued_turnout WHERE election = ${e}
       GROUP BY region, district`,
    ),
    ch.rows<{ region: string; district: string; castOnline: number | string }>(
      `SELECT region, district, uniqExactMerge(ballots_cast) AS castOnline
       FROM cast_turnout WHERE election = ${e}
       GROUP BY region, district`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const key = (r: { region: string; district: string }) => `${r.region}${S}${r.district}`;
  const rows = new Map<string, Wire<TurnoutRow>>();
  for (const r of issued) rows.set(key(r), { ...r, castOnline: 0 });
  for (const r of cast) {
    const row = rows.get(key(r)) ?? {
      region: r.region,
      district: r.district,
      issuedOnline: 0,
      issuedPaper: 0,
    };
    rows.set(key(r), { ...row, castOnline: r.castOnline });
  }
  const sorted = [...rows.values()].sort((a, b) =>
    a.region === b.region ? (a.district < b.district ? -1 : 1) : a.region < b.region ? -1 : 1,
  );
  const delta = fix.delta((v) => [`${v.region}${S}${v.district}`]);
  return adjust(
    numbers<TurnoutRow>(sorted, ['issuedOnline', 'issuedPaper', 'castOnline']),
    key,
    'castOnline',
    delta,
    false,
  );
}

/** Credentials issued per minute, all districts together: the live feed's finest grain. */
export async function issuedByMinute(ch: ClickHouse, election: string): Promise<IssuedBucketRow[]> {
  const rows = await ch.rows<Wire<IssuedBucketRow>>(
    `SELECT bucket,
       uniqExactMerge(issued_online) AS issuedOnline,
       uniqExactMerge(issued_paper) AS issuedPaper
     FROM issued_turnout WHERE election = ${idLiteral(election)}
     GROUP BY bucket ORDER BY bucket`,
  );
  return numbers<IssuedBucketRow>(rows, ['bucket', 'issuedOnline', 'issuedPaper']);
}

/**
 * Ballots cast per cast bucket (the election's `castBucketSec`), all
 * districts together. A ballot re-produced in a later bucket (a retry after
 * a produce timeout, DESIGN §3) appears in both buckets here, while
 * {@link turnout} counts it once.
 */
export async function castByBucket(
  ch: ClickHouse,
  election: string,
  conflicts?: Conflicts,
): Promise<CastBucketRow[]> {
  const [rows, fix] = await Promise.all([
    ch.rows<Wire<CastBucketRow>>(
      `SELECT bucket, uniqExactMerge(ballots_cast) AS castOnline
       FROM cast_turnout WHERE election = ${idLiteral(election)}
       GROUP BY bucket ORDER BY bucket`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const delta = fix.delta((v) => v.buckets.map(String));
  return adjust(
    numbers<CastBucketRow>(rows, ['bucket', 'castOnline']),
    (r) => String(r.bucket),
    'castOnline',
    delta,
    false,
  );
}

/** Every counted ballot code (receipt), distinct, ascending; a conflicted id only once its winner counts. */
export async function codes(ch: ClickHouse, election: string, conflicts?: Conflicts): Promise<string[]> {
  const [rows, fix] = await Promise.all([
    ch.rows<{ ballot_id: string }>(
      `SELECT DISTINCT ballot_id FROM ballots_raw WHERE election = ${idLiteral(election)} ORDER BY ballot_id`,
    ),
    conflicts ?? loadConflicts(ch, election),
  ]);
  const ids = rows.map((r) => r.ballot_id);
  return fix.uncounted.size === 0 ? ids : ids.filter((id) => !fix.uncounted.has(id));
}

/**
 * Every stored protocol version of every precinct, redeliveries collapsed,
 * by precinct and version. Two different protocols of one version are both
 * returned (the publisher refuses that version).
 */
export async function paperProtocols(ch: ClickHouse, election: string): Promise<PaperProtocolRow[]> {
  const rows = await ch.rows<Wire<PaperProtocolRow>>(
    `SELECT precinct, region, district, version, reason, issued, spoiled, unused, results,
       keyId, signature, submittedBy, at
     FROM paper_protocol_versions FINAL WHERE election = ${idLiteral(election)}
     ORDER BY precinct, version, at, signature`,
  );
  return numbers<PaperProtocolRow>(rows, ['version', 'issued', 'spoiled', 'unused', 'at']);
}

/** Observers' dissents, by precinct, version and time; a resent note once. */
export async function paperDissents(ch: ClickHouse, election: string): Promise<PaperDissentRow[]> {
  const rows = await ch.rows<Wire<PaperDissentRow>>(
    `SELECT precinct, version, id, any(author) AS author, any(text) AS text, min(at) AS at
     FROM paper_dissents WHERE election = ${idLiteral(election)}
     GROUP BY precinct, version, id
     ORDER BY precinct, version, at, id`,
  );
  return numbers<PaperDissentRow>(rows, ['version', 'at']);
}

/** A paper check-in record: channel paper, with its precinct's own dedup hash (common/records.ts). */
const PAPER_RECORD = `channel = 'paper' AND precinct != '' AND blinded_hash = concat('paper:', precinct)`;

/**
 * Paper check-ins per precinct, by "first issuance wins" (DESIGN §3): a
 * voter counts at P only when all its issuance records carry one
 * blindedHash and it is `paper:P`. A second hash (a losing record a fault
 * let into the log, ingest/ledger/ledger.ts) makes the voter conflicted: no
 * view knows which record came first, so, as with a conflicted ballot
 * (conflicts.ts), it counts nowhere — at no precinct and not as a paper
 * check-in at all — and is reported under each precinct it has a paper
 * record at. Recording issuance winners from the log, as reconcile does in
 * `ballot_winners`, would let it count once; not done yet.
 *
 * A precinct appears once any voter has a paper record there. min/max of
 * the hashes tell one from several, redeliveries included. Only voters with
 * a paper record are grouped (0.2 s instead of 0.65 s at 800,000 voters,
 * 10 % on paper, 18.16).
 */
export async function paperCheckIns(ch: ClickHouse, election: string): Promise<PaperCheckInRow[]> {
  const e = idLiteral(election);
  const rows = await ch.rows<Wire<PaperCheckInRow>>(
    `SELECT precinct, any(region) AS region, any(district) AS district,
       countIf(hashes = 1) AS checkIns, countIf(hashes > 1) AS conflicted
     FROM (
       SELECT arrayJoin(precincts) AS precinct, paper_region AS region, paper_district AS district, hashes
       FROM (
         SELECT voter_hash,
           if(min(blinded_hash) = max(blinded_hash), 1, 2) AS hashes,
           groupUniqArrayIf(precinct, ${PAPER_RECORD}) AS precincts,
           anyIf(region, ${PAPER_RECORD}) AS paper_region,
           anyIf(district, ${PAPER_RECORD}) AS paper_district
         FROM issuance_voters
         WHERE election = ${e} AND voter_hash IN (
           SELECT voter_hash FROM issuance_voters WHERE election = ${e} AND ${PAPER_RECORD}
         )
         GROUP BY voter_hash
       )
     )
     GROUP BY precinct
     ORDER BY precinct`,
  );
  return numbers<PaperCheckInRow>(rows, ['checkIns', 'conflicted']);
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

/** Reports per category and status: `{[category]: {[status]: n}}`, only counts above zero. */
export type ReportCounts = Record<string, Record<string, number>>;

/**
 * The election's violation reports, counted by category and status, in
 * total and per region (the region the report names). A report's status is
 * its latest triage by `at`, else `open`; redeliveries collapse (each report
 * and each triage counts by its id). Two different records of one triage id
 * (two admin processes decided on the same state at once; the log's first
 * counts, election/admin/reports.ts) are told apart by the earlier `at`: 18.16's
 * Kafka engine gives no offset, and the loser was decided no earlier unless
 * the admin hosts' clocks disagree. Two reads and a count here rather than a
 * JOIN: an election has thousands of reports, not millions, and the form
 * needs nothing 18.16 and current releases disagree on.
 */
export async function reportCountsByRegion(
  ch: ClickHouse,
  election: string,
): Promise<{ total: ReportCounts; regions: Record<string, ReportCounts> }> {
  const e = idLiteral(election);
  const [reports, triage] = await Promise.all([
    ch.rows<{ id: string; category: string; region: string }>(
      `SELECT id, any(category) AS category, any(region) AS region
       FROM reports WHERE election = ${e} GROUP BY id`,
    ),
    ch.rows<{ report: string; status: string }>(
      `SELECT report, argMax(first_status, first_at) AS status
       FROM (SELECT report, id, argMin(status, at) AS first_status, min(at) AS first_at
             FROM report_triage WHERE election = ${e} GROUP BY report, id)
       GROUP BY report`,
    ),
  ]);
  const statusOf = new Map(triage.map((t) => [t.report, t.status]));
  const total: ReportCounts = {};
  const regions: Record<string, ReportCounts> = {};
  const add = (counts: ReportCounts, category: string, status: string): void => {
    const byStatus = counts[category] ?? {};
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    counts[category] = byStatus;
  };
  for (const r of reports) {
    const status = statusOf.get(r.id) ?? 'open';
    add(total, r.category, status);
    const region = regions[r.region] ?? {};
    add(region, r.category, status);
    regions[r.region] = region;
  }
  return { total, regions };
}

/** `{[category]: {[status]: n}}` of the election's reports (observers' view, snapshots). */
export async function reportCounts(ch: ClickHouse, election: string): Promise<ReportCounts> {
  return (await reportCountsByRegion(ch, election)).total;
}
