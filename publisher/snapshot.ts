/**
 * The published snapshot format (DESIGN §6), version 5. Every number is an
 * integer so the canonical form (canonical.ts) is unambiguous; shares are
 * given as numerator and denominator for the reader to divide.
 *
 *   Snapshot
 *   ├─ election {id, names,             (v5) closes, snapshotIntervalSec, about?: the closing time in
 *   │            closes, …}             force, the publisher's real interval, the config's organiser/help/privacy
 *   ├─ seq, takenAt, prevHash           chain: prevHash = SHA-256(canonical(snapshot seq-1))
 *   ├─ races[]                          config order
 *   │   ├─ id, names, seats, maxChoices, candidates[] {id, names, partyBranch, status}
 *   │   ├─ total: Counts                = Σ regions
 *   │   └─ regions[] {code, total, districts[] {id, total}}   region total = Σ districts
 *   ├─ turnout {total, regions[],       total = Σ regions (no choices in it)
 *   │           districts[]}            (v5) config order; a region = Σ its districts
 *   ├─ reporting {precincts, reported}  paper precincts whose latest protocol is accepted
 *   ├─ precincts[]                      (v3) every paper precinct, config order: its latest
 *   │                                   protocol's version, status (accepted | rejected | missing),
 *   │                                   why rejected, the correction's reason, issued/spoiled/unused,
 *   │                                   check-ins, keyId + station signature, observers' dissents
 *   ├─ reports                          (issue 16) violation reports: {[category]: {[status]: n}},
 *   │                                   every category and status (report-counts.ts); no texts
 *   ├─ codes {count, merkleRoot, file}  the counted ballot codes (merkle.ts)
 *   ├─ districtKeys[] {id, sha256}      SHA-256 of each district key's SPKI DER (district-keys.ts)
 *   ├─ final?                           (v4) only on a snapshot taken for a `declared` event (final.ts):
 *   │                                   the declaration, its round, winners per race, changes vs the last final
 *   └─ signature                        Ed25519 over the canonical form, base64url
 *
 *   Counts = {candidates[] {id, online, paper, total}, valid, excluded}
 *     total = online + paper; valid = Σ total of candidates not `removed`;
 *     excluded = Σ total of `removed` candidates (shown, not valid).
 */
import type { ReportCategory, ReportStatus } from '../common/records.js';
import type { About, CandidateStatus, Names } from '../election/index.js';
import type { DistrictKeyFingerprint } from './district-keys.js';

/**
 * 2: `districtKeys` added (issue 14). 3: `precincts` added (issue 15).
 * 4: `final` on the snapshots that declare the result (issue 16).
 * 5: `election.closes`, `election.snapshotIntervalSec`, `election.about`, `turnout.districts`
 * (issue 17). Verify still reads 2, 3 and 4.
 */
export const SNAPSHOT_VERSION = 5;
export type SnapshotVersion = 2 | 3 | 4 | typeof SNAPSHOT_VERSION;

export type PrecinctStatus = 'accepted' | 'rejected' | 'missing';

/** A paper precinct's latest protocol as the snapshot judged it (publisher/paper.ts). */
export interface PrecinctReport {
  readonly id: string;
  readonly region: string;
  readonly district: string;
  /** accepted: its votes count; rejected: shown with `rejection`, not counted; missing: no protocol yet. */
  readonly status: PrecinctStatus;
  /** Why the protocol is rejected; '' otherwise. */
  readonly rejection: string;
  /** The latest protocol version; 0 when missing. */
  readonly version: number;
  /** Why this version supersedes the previous one ('' for 1). */
  readonly reason: string;
  readonly issued: number;
  readonly spoiled: number;
  readonly unused: number;
  /** Members checked in on paper at the precinct. */
  readonly checkIns: number;
  /** The station key's id and its Ed25519 signature over the protocol (common/records.ts); '' when missing. */
  readonly keyId: string;
  readonly signature: string;
  /** Observers' notes, on any version of the precinct's protocol. */
  readonly dissents: readonly { readonly version: number; readonly author: string; readonly text: string }[];
}

/** Violation reports per category and status (every one of both, zeros included). */
export type ReportTable = { readonly [C in ReportCategory]: { readonly [S in ReportStatus]: number } };

export interface CandidateCount {
  readonly id: string;
  readonly online: number;
  readonly paper: number;
  readonly total: number;
}

export interface Counts {
  /** One entry per candidate of the race, in the race's order. */
  readonly candidates: readonly CandidateCount[];
  readonly valid: number;
  readonly excluded: number;
}

export interface RaceResult {
  readonly id: string;
  readonly names: Names;
  readonly seats: number;
  readonly maxChoices: number;
  readonly candidates: readonly {
    readonly id: string;
    readonly names: Names;
    readonly partyBranch: Names;
    readonly status: CandidateStatus;
  }[];
  readonly total: Counts;
  readonly regions: readonly {
    readonly code: string;
    readonly total: Counts;
    readonly districts: readonly { readonly id: string; readonly total: Counts }[];
  }[];
}

export interface TurnoutCounts {
  /** Members on the roll. */
  readonly roll: number;
  /** Credentials issued online, and paper check-ins. */
  readonly issuedOnline: number;
  readonly issuedPaper: number;
  /** Online ballots counted (distinct codes), and paper ballots from protocols. */
  readonly castOnline: number;
  readonly castPaper: number;
  /** Paper precincts in the area, and how many have sent a protocol. */
  readonly precincts: number;
  readonly precinctsReported: number;
}

export interface TurnoutRegion extends TurnoutCounts {
  readonly code: string;
  readonly names: Names;
}

/** v5: a district's turnout; the districts of a region add up to it, field by field. */
export interface TurnoutDistrict extends TurnoutCounts {
  readonly id: string;
  /** The region's code. */
  readonly region: string;
  readonly names: Names;
}

/** Which election, and (v5 on) what a reader needs to know about it without the manifest. */
export interface SnapshotElection {
  readonly id: string;
  readonly names: Names;
  /**
   * v5 on: the closing time in force when the snapshot was taken, ISO 8601 UTC, whole seconds: the
   * config's, moved by an `extended` event, or when a `closed` event closed it early.
   */
  readonly closes?: string;
  /** v5 on: seconds between snapshots, as this publisher runs (SNAPSHOT_INTERVAL, else the config's). */
  readonly snapshotIntervalSec?: number;
  /** v5 on, when the config has one: organiser, help contact, privacy note. */
  readonly about?: About;
}

export interface Snapshot {
  readonly v: SnapshotVersion;
  readonly election: SnapshotElection;
  readonly seq: number;
  /** ISO 8601 UTC, whole seconds. */
  readonly takenAt: string;
  /** Hex SHA-256 of the previous snapshot's canonical bytes; `null` for seq 1. */
  readonly prevHash: string | null;
  readonly races: readonly RaceResult[];
  readonly turnout: {
    readonly total: TurnoutCounts;
    readonly regions: readonly TurnoutRegion[];
    /** Present from v5 on: every district of the config, in its order. */
    readonly districts?: readonly TurnoutDistrict[];
  };
  readonly reporting: { readonly precincts: number; readonly reported: number };
  /** Present from v3 on. */
  readonly precincts?: readonly PrecinctReport[];
  /** Violation reports by category and status (issue 16: required from v4 on). */
  readonly reports?: ReportTable;
  readonly codes: { readonly count: number; readonly merkleRoot: string; readonly file: string };
  /** The districts' blind-signature keys, config order; the same in every snapshot of an election. */
  readonly districtKeys: readonly DistrictKeyFingerprint[];
  /** v4: present only on a final snapshot, the one taken for a `declared` event. */
  readonly final?: FinalResult;
  /** Ed25519 signature of the canonical form, base64url (no padding). */
  readonly signature: string;
}

export type UnsignedSnapshot = Omit<Snapshot, 'signature'>;

/** A race's winners: the top `seats` by total among candidates not removed (winners.ts). */
export interface RaceWinners {
  readonly race: string;
  readonly seats: number;
  /** Sure winners, most votes first (race order among equals); fewer than `seats` when tied or short. */
  readonly winners: readonly string[];
  /** Candidates tied on `at` votes across the seat boundary: left to the commission, not resolved. */
  readonly tie: { readonly at: number; readonly candidates: readonly string[] } | null;
}

/** One difference from the previous final: a total (race-wide when `district` is null), a status or a seat. */
export interface FinalChange {
  readonly race: string;
  readonly district: string | null;
  readonly candidate: string;
  /** votes: from/to are totals; status: candidate statuses; winner: 'winner' | 'tied' | 'not-winner'. */
  readonly what: 'votes' | 'status' | 'winner';
  readonly from: number | string;
  readonly to: number | string;
}

/** The declared result (v4): what the commission's `declared` event made final. */
export interface FinalResult {
  /** The `declared` event's id, operator, reason, time (Unix ms) and protocol reference ('' if none). */
  readonly declaration: string;
  readonly by: string;
  readonly reason: string;
  readonly at: number;
  readonly reference: string;
  /** 1 for the first declaration, 2… for each re-declaration. */
  readonly round: number;
  /** One per race, config order. */
  readonly winners: readonly RaceWinners[];
  /** `null` in round 1; otherwise what differs from the previous round's final snapshot. */
  readonly changes: readonly FinalChange[] | null;
}

/** Paths of a snapshot's files, relative to the public directory. */
export const snapshotPaths = (seq: number) =>
  ({
    json: `snapshots/${seq}.json`,
    csv: `snapshots/${seq}.csv`,
    /** v3 on: the paper precincts table (csv.ts). */
    precincts: `snapshots/${seq}.precincts.csv`,
    codes: `codes/${seq}.txt`,
  }) as const;

/** A final round's files (protocol.ts, final-files.ts), relative to the public directory. */
export const finalPaths = (round: number, district: string) =>
  ({
    json: `final/${round}/${district}.json`,
    html: `final/${round}/${district}.html`,
  }) as const;
/** The rounds declared so far, for the site (final-files.ts). */
export const FINAL_INDEX_PATH = 'final/index.json';

export const LATEST_PATH = 'latest.json';

/**
 * The published chain at a glance, for the site's list of past snapshots
 * (snapshot-index.ts): rewritten atomically after each snapshot; verify
 * checks every entry against the snapshot files.
 */
export const SNAPSHOT_INDEX_PATH = 'snapshots/index.json';

export interface SnapshotIndexEntry {
  readonly seq: number;
  /** The snapshot's `takenAt`. */
  readonly takenAt: string;
  /** Hex SHA-256 of its canonical bytes: the next snapshot's `prevHash`. */
  readonly hash: string;
  readonly prevHash: string | null;
  /** Counted codes (`codes.count`). */
  readonly codes: number;
  /** The final's round when the snapshot declares the result, else `null`. */
  readonly final: number | null;
}

export interface SnapshotIndex {
  readonly v: 1;
  readonly election: string;
  /** Newest first: `snapshots[0]` is `latest.json`. */
  readonly snapshots: readonly SnapshotIndexEntry[];
}
export const LIVE_PATH = 'live.json';
