/**
 * The record formats written to Kafka, the system of record (DESIGN §4).
 * Everything downstream (ClickHouse, Redis rebuild, reconcile) reads these.
 *
 * JSON, one object per record, chosen so that ClickHouse 18.16's Kafka
 * engine can read it with JSONEachRow without per-field settings:
 *
 *   ballots   {v, election, region, district, ballotId, ballotHash, rev, bucket, selections}
 *             selections = [[race, candidate, candidate…], …]  (race first, then the choices;
 *             positional so ClickHouse reads it as Array(Array(String)))
 *   issuance  {v, election, region, district, voterHash, blindedHash, channel, bucket, precinct?}
 *             channel online: a credential was issued; channel paper: an official checked
 *             the member in at `precinct` (a special polling station) and handed a paper ballot
 *
 * `bucket` is the arrival time truncated, in Unix seconds: to the minute for
 * issuance (the live turnout feed), to the election's coarse cast bucket for
 * ballots (`castBucketSec`, 30 min unless configured), so that a ballot's
 * time says no more than "one of its district's ballots of this half hour".
 * The record's Kafka timestamp is set to the same bucket. No record carries
 * a precise time, an address, a user agent or (in `ballots`) anything that
 * identifies a voter; and the ballots' log order is not arrival order
 * (ingest/ledger/mix.ts).
 *
 * `paper` (protocols and dissents) and `reports` (violation reports and their
 * triage) are described with their types below.
 */
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from './canonical.js';

export const TOPICS = {
  ballots: 'ballots',
  issuance: 'issuance',
  paper: 'paper',
  electionEvents: 'election-events',
  reports: 'reports',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];
export const ALL_TOPICS: readonly TopicName[] = Object.values(TOPICS);

/** Record format version; a reader refuses versions it does not know. */
export const RECORD_VERSION = 1;

/** One race's marks: the race id, then the chosen candidate ids. */
export type SelectionRow = readonly [race: string, ...candidates: string[]];

export interface BallotRecord {
  readonly v: typeof RECORD_VERSION;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  /** base32(SHA-256(credential message))[0..26]: the receipt; deterministic per credential. */
  readonly ballotId: string;
  /** SHA-256 (hex) of the canonical ballot, to tell an identical retry from a different ballot. */
  readonly ballotHash: string;
  /** Revision for planned re-voting; always 0 until then (DESIGN §3). */
  readonly rev: number;
  /** Arrival time truncated to the election's cast bucket, Unix seconds. */
  readonly bucket: number;
  readonly selections: readonly SelectionRow[];
}

export type IssuanceChannel = 'online' | 'paper';

export interface IssuanceRecord {
  readonly v: typeof RECORD_VERSION;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  /** HMAC-SHA256(election pepper, member id), hex. Never appears in `ballots`. */
  readonly voterHash: string;
  /**
   * Online: SHA-256 (hex) of the blinded message the credential was signed
   * over: tells an identical retry (same credential) from a second credential
   * when the ledger's index is rebuilt. Unlinkable to the ballot: the blinding
   * factor never leaves the voter's device (RFC 9474 §5). Paper: `paper:<precinct>`
   * ({@link paperCheckInHash}), so a repeated check-in at the same station is a
   * retry and any other is a second issuance.
   */
  readonly blindedHash: string;
  readonly channel: IssuanceChannel;
  /** Arrival minute, Unix seconds. */
  readonly bucket: number;
  /** Paper only: the polling station (`paperPrecincts[].id`) that checked the member in. */
  readonly precinct?: string;
}

/** The dedup hash of a paper check-in at `precinct`: never a hex digest, so never an online one. */
export function paperCheckInHash(precinct: string): string {
  return `paper:${precinct}`;
}

/** Whether an issuance's dedup hash is a paper check-in's (the channel of the member's first issuance). */
export function isPaperCheckInHash(hash: string): boolean {
  return hash.startsWith('paper:');
}

/** Truncates a time to its minute bucket (Unix seconds). */
export function minuteBucket(nowMs: number): number {
  return Math.floor(nowMs / 60_000) * 60;
}

/**
 * The default width of a ballot's time bucket: at the 2020 primary's peak
 * (~9 ballots per district-minute) a district's half hour holds ~270
 * ballots, ~90 at the average rate; and results are published every 30 min.
 */
export const DEFAULT_CAST_BUCKET_SEC = 1800;

/** Truncates a time to its cast bucket of `widthSec` seconds (Unix seconds). */
export function castBucket(nowMs: number, widthSec: number): number {
  return Math.floor(nowMs / (widthSec * 1000)) * widthSec;
}

/**
 * The `paper` topic carries two kinds of record, told apart by `kind` (the
 * ClickHouse views filter on it; a record without it is neither):
 *
 *   protocol {v, kind:'protocol', election, region, district, precinct, version, reason,
 *             issued, spoiled, unused, results, keyId, submittedBy, at, signature}
 *            results = [[race, candidate, votes], …] — all three strings, votes in decimal
 *   dissent  {v, kind:'dissent', id, election, region, district, precinct, version, author, text, at}
 *
 * Why `votes` is a string: ClickHouse 18.16 reads `[["r","c",12]]` into
 * Array(Array(String)) only if every element is quoted (a bare number fails
 * with "expected opening quote"), and it flattens Array(Tuple(…)) into Nested
 * columns that JSONEachRow cannot fill. Fields a table does not know are
 * skipped, missing ones read as '' or 0. Build records with the functions
 * below rather than by hand.
 */
export const PAPER_KINDS = { protocol: 'protocol', dissent: 'dissent' } as const;

/** One precinct's count for one candidate. */
export interface PaperResult {
  readonly race: string;
  readonly candidate: string;
  readonly votes: number;
}

export type PaperResultRow = readonly [race: string, candidate: string, votes: string];

/**
 * What a precinct's commission signs with its station key: the protocol
 * without who sent it, when, or the signature itself ({@link protocolSignedBytes}).
 */
export interface PaperProtocol {
  readonly v: typeof RECORD_VERSION;
  readonly kind: typeof PAPER_KINDS.protocol;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  readonly precinct: string;
  /** 1, then higher for each correction; the latest accepted one counts. */
  readonly version: number;
  /** Why this version supersedes the previous one; '' for version 1. */
  readonly reason: string;
  /** Ballot papers handed to voters at the precinct (spoiled included). */
  readonly issued: number;
  /** Of those, papers found invalid. */
  readonly spoiled: number;
  /** Ballot papers received and not handed out. */
  readonly unused: number;
  readonly results: readonly PaperResultRow[];
  /** The station key's id (`public/precinct-keys.json`). */
  readonly keyId: string;
}

/** A protocol as it is written to `paper`: signed, with the official who submitted it. */
export interface PaperProtocolRecord extends PaperProtocol {
  /** The official (`paperPrecincts[].officials[].id`) whose token submitted it. */
  readonly submittedBy: string;
  /** Accepted by ingest, Unix ms (a protocol is public: its time is no secret). */
  readonly at: number;
  /** Ed25519 by the station key over {@link protocolSignedBytes}, base64url. */
  readonly signature: string;
}

/** An observer's note against one version of a precinct's protocol. */
export interface PaperDissentRecord {
  readonly v: typeof RECORD_VERSION;
  readonly kind: typeof PAPER_KINDS.dissent;
  /** {@link dissentId}: a resent note is the same note. */
  readonly id: string;
  readonly election: string;
  readonly region: string;
  readonly district: string;
  readonly precinct: string;
  /** The protocol version the note is about. */
  readonly version: number;
  /** The observer's id (staff token `id`). */
  readonly author: string;
  readonly text: string;
  readonly at: number;
}

/** The fields of a protocol the station key signs, in no particular order (canonical JSON sorts them). */
const SIGNED_FIELDS = [
  'v',
  'kind',
  'election',
  'region',
  'district',
  'precinct',
  'version',
  'reason',
  'issued',
  'spoiled',
  'unused',
  'results',
  'keyId',
] as const satisfies readonly (keyof PaperProtocol)[];

/** The signed part of a protocol (record or request), without anything else it carries. */
export function signedProtocol(p: PaperProtocol): PaperProtocol {
  const out: Record<string, unknown> = {};
  for (const f of SIGNED_FIELDS) out[f] = p[f];
  return out as unknown as PaperProtocol;
}

/** The bytes a station key signs: canonical JSON (common/canonical.ts) of the signed part. */
export function protocolSignedBytes(p: PaperProtocol): Buffer {
  return Buffer.from(canonicalJson(signedProtocol(p)), 'utf8');
}

/** SHA-256 (hex) of the signed part: tells an identical resend from a different protocol of one version. */
export function protocolHash(p: PaperProtocol): string {
  return createHash('sha256').update(protocolSignedBytes(p)).digest('hex');
}

/** Builds the signed part of a protocol in the wire shape (votes as decimal strings). */
export function paperProtocol(p: {
  election: string;
  region: string;
  district: string;
  precinct: string;
  version: number;
  reason?: string;
  issued: number;
  spoiled: number;
  unused?: number;
  results: readonly PaperResult[];
  keyId: string;
}): PaperProtocol {
  return {
    v: RECORD_VERSION,
    kind: PAPER_KINDS.protocol,
    election: p.election,
    region: p.region,
    district: p.district,
    precinct: p.precinct,
    version: p.version,
    reason: p.reason ?? '',
    issued: p.issued,
    spoiled: p.spoiled,
    unused: p.unused ?? 0,
    results: p.results.map((r) => [r.race, r.candidate, String(r.votes)] as const),
    keyId: p.keyId,
  };
}

/** The id of a dissent: the same observer's same text on the same protocol version is one note. */
export function dissentId(d: {
  election: string;
  precinct: string;
  version: number;
  author: string;
  text: string;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([d.election, d.precinct, d.version, d.author, d.text]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * `election-events` (partition 0 only: one ordered sequence whose order is
 * the order of effect; key = `id`) carries the commission's actions, each
 * signed by the operator who took it:
 *
 *   {v, id, election, type, at, by, detail, race?, candidate?, reference?, until?, signature}
 *
 * `detail` is the reason shown to people (the column name is ClickHouse's,
 * kept so the aggregator reads it without a migration; fields it does not
 * know are skipped). Which fields a type needs and which transitions are
 * allowed is `election/election-state.ts`; the signature is checked by
 * `election/election-events.ts`.
 */
export const ELECTION_EVENT_TYPES = [
  'opened',
  'paused',
  'resumed',
  'extended',
  'closed',
  'candidate-withdrawn',
  'candidate-removed',
  'candidate-reinstated',
  'declared',
] as const;
export type ElectionEventType = (typeof ELECTION_EVENT_TYPES)[number];

/** The partition every election event is written to and read from. */
export const ELECTION_EVENTS_PARTITION = 0;

/** A reason is for people: required, and short enough for a banner. */
export const EVENT_DETAIL_MAX = 500;

export interface ElectionEventRecord {
  readonly v: typeof RECORD_VERSION;
  /** `E-<base32 10>` chosen by the signer: the same id twice is the same event. */
  readonly id: string;
  readonly election: string;
  readonly type: ElectionEventType;
  /** Unix ms, set by the signer; the admin API refuses one more than 5 min from now. */
  readonly at: number;
  /** The operator (config `operators[].id`) whose key signed it. */
  readonly by: string;
  /** The reason shown to people: non-empty, at most {@link EVENT_DETAIL_MAX} characters. */
  readonly detail: string;
  /** candidate-* only. */
  readonly race?: string;
  readonly candidate?: string;
  /** candidate-removed: the decision's reference (required); declared: the protocol's (optional). */
  readonly reference?: string;
  /** paused: ISO time voters are told it should resume (optional); extended: the new closing time (required). */
  readonly until?: string;
  /** Ed25519 by the operator's key over {@link eventSignedBytes}, base64url. */
  readonly signature: string;
}

/** An event before its operator signs it. */
export type UnsignedElectionEvent = Omit<ElectionEventRecord, 'signature'>;

/** The bytes an operator signs: canonical JSON of the record without `signature` (absent fields left out). */
export function eventSignedBytes(r: UnsignedElectionEvent | ElectionEventRecord): Buffer {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (k !== 'signature' && v !== undefined) out[k] = v;
  return Buffer.from(canonicalJson(out), 'utf8');
}

/**
 * The `reports` topic carries violation reports and the control committee's
 * triage of them, told apart by `kind`, partitioned by region (a report's
 * partition is chosen by its tracking number among its region's, and its
 * triage goes to the same partition, so one partition's order holds a
 * report's whole story):
 *
 *   report  {v, kind:'report', id, election, region, district, category, text, attachment, filedAs, bucket}
 *   triage  {v, kind:'triage', id:'<report>:<n>', report, election, region, status, summary, removal, by, at}
 *
 * A report names no one who filed it: `filedAs` is the kind of sign-in
 * (voter, observer, official, …), and `bucket` is the election's cast bucket
 * (half an hour by default), not the minute, so that the time of a voter's
 * report cannot be matched with the minute of their credential in `issuance`.
 * `district`, `attachment`, `summary` and `removal` are '' when absent (a
 * missing field reads as '' in ClickHouse too). A report's text is for the
 * committee only; the public sees its status and the committee's `summary`.
 */
export const REPORT_KINDS = { report: 'report', triage: 'triage' } as const;

export const REPORT_CATEGORIES = [
  'coercion',
  'vote-buying',
  'campaigning',
  'technical',
  'procedure',
  'other',
] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];

/** A report is `open` until its first triage; the rest are triage statuses. */
export const REPORT_STATUSES = ['open', 'investigating', 'upheld', 'dismissed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];
export type TriageStatus = Exclude<ReportStatus, 'open'>;

/** Who filed a report: a voter, or a staff role (election/identity.ts STAFF_ROLES). */
export type ReportFiler = string;

export interface ReportRecord {
  readonly v: typeof RECORD_VERSION;
  readonly kind: typeof REPORT_KINDS.report;
  /** The tracking number ({@link newTrackingNumber}). */
  readonly id: string;
  readonly election: string;
  /** Where the violation happened, as the filer says. */
  readonly region: string;
  /** '' when not given. */
  readonly district: string;
  readonly category: ReportCategory;
  /** For the committee only. */
  readonly text: string;
  /** A reference or URL to evidence kept elsewhere (never a file); '' when not given. */
  readonly attachment: string;
  /** `voter` or the staff role: never who. */
  readonly filedAs: ReportFiler;
  /** The election's cast bucket of the filing, Unix seconds. */
  readonly bucket: number;
}

export interface TriageRecord {
  readonly v: typeof RECORD_VERSION;
  readonly kind: typeof REPORT_KINDS.triage;
  /** `<report>:<n>`, n = 1 for the report's first triage, then 2…: a resend is the same record. */
  readonly id: string;
  readonly report: string;
  readonly election: string;
  /** The report's region (the triage goes to the report's partition). */
  readonly region: string;
  readonly status: TriageStatus;
  /** What the public may read about the report; '' for none. */
  readonly summary: string;
  /** Upheld only: the `candidate-removed` event the finding led to; '' for none. */
  readonly removal: string;
  /** The committee member's id (config `committee[].id`). */
  readonly by: string;
  /** Unix ms. */
  readonly at: number;
}

/** Crockford's base32: no I, L, O, U, so a number read aloud over the phone is not misheard. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `R-XXXX-XXXX`: the shape of a tracking number. */
export const TRACKING_NUMBER = /^R-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

/**
 * A new random tracking number, `R-XXXX-XXXX` (40 random bits). Random, not
 * sequential, so a number tells nothing of how many reports came before it
 * and cannot be guessed to look up someone else's report.
 */
export function newTrackingNumber(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(5);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 7; i >= 0; i--) out += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  return `R-${out.slice(0, 4)}-${out.slice(4)}`;
}

/** The id of a report's n-th triage (n from 1). */
export function triageId(report: string, n: number): string {
  return `${report}:${n}`;
}
