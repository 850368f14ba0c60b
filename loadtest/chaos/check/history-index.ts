/**
 * The client's side of the story, indexed for the checker:
 *
 *   ballots: ballotId → version x → {rowsKey, why, answers ok/refused/unknown}
 *   voters:  voterHash → blinded messages and blind signatures answered ok,
 *            credentials (device → ballotId), whether issuance was asked
 *
 * A version's status is what the best answer it ever got says: ok if any
 * attempt was acknowledged, else unknown if any outcome was unknown, else
 * refused; `unsent` if the voter defined it but never sent it.
 */
import { type HistoryRecord, readHistory } from '../history.js';
import { canonicalRows } from './rows.js';

export type VersionStatus = 'ok' | 'unknown' | 'refused' | 'unsent';

export interface VersionState {
  readonly rowsKey: string;
  readonly why: string;
  ok: number;
  refused: number;
  unknown: number;
  /** When it was first sent, and first acknowledged (ms since the run started); null: never. */
  firstSentT: number | null;
  okT: number | null;
}

export interface VoterState {
  /** Blinded-message hashes whose issuance was answered 2xx. */
  readonly okBlinded: Set<string>;
  /** When each of them was first answered 2xx. */
  readonly okBlindedT: Map<string, number>;
  /** Hashes of the blind signatures received. */
  readonly signatures: Set<string>;
  /** device → ballotId of the credential finalized on it. */
  readonly credentials: Map<number, string>;
}

export interface HistoryIndex {
  readonly ballots: Map<string, Map<number, VersionState>>;
  readonly voters: Map<string, VoterState>;
  readonly anomalies: { what: string; v?: string; id?: string }[];
  records: number;
}

export function versionStatus(v: VersionState): VersionStatus {
  if (v.ok > 0) return 'ok';
  if (v.unknown > 0) return 'unknown';
  if (v.refused > 0) return 'refused';
  return 'unsent';
}

function voter(index: HistoryIndex, v: string): VoterState {
  let state = index.voters.get(v);
  if (state === undefined) {
    state = { okBlinded: new Set(), okBlindedT: new Map(), signatures: new Set(), credentials: new Map() };
    index.voters.set(v, state);
  }
  return state;
}

export function addRecord(index: HistoryIndex, r: HistoryRecord): void {
  index.records++;
  switch (r.k) {
    case 'ballot': {
      const versions = index.ballots.get(r.id) ?? new Map<number, VersionState>();
      versions.set(r.x, {
        rowsKey: canonicalRows(r.rows),
        why: r.why,
        ok: 0,
        refused: 0,
        unknown: 0,
        firstSentT: null,
        okT: null,
      });
      index.ballots.set(r.id, versions);
      return;
    }
    case 'cast': {
      const version = index.ballots.get(r.id)?.get(r.x);
      if (version === undefined) {
        index.anomalies.push({ what: 'cast of an undefined ballot version', id: r.id });
        return;
      }
      version[r.o]++;
      const sentT = r.t - r.ms;
      if (version.firstSentT === null || sentT < version.firstSentT) version.firstSentT = sentT;
      if (r.o === 'ok' && (version.okT === null || r.t < version.okT)) version.okT = r.t;
      return;
    }
    case 'issue': {
      const state = voter(index, r.v);
      if (r.o === 'ok') {
        state.okBlinded.add(r.bh);
        if (!state.okBlindedT.has(r.bh)) state.okBlindedT.set(r.bh, r.t);
        if (r.sh !== null) state.signatures.add(r.sh);
      }
      return;
    }
    case 'cred':
      voter(index, r.v).credentials.set(r.d, r.id);
      return;
    case 'login':
      voter(index, r.v);
      return;
    case 'anomaly':
      index.anomalies.push({
        what: r.what,
        ...(r.v === undefined ? {} : { v: r.v }),
        ...(r.id === undefined ? {} : { id: r.id }),
      });
      return;
  }
}

export function emptyIndex(): HistoryIndex {
  return { ballots: new Map(), voters: new Map(), anomalies: [], records: 0 };
}

export async function indexHistory(files: readonly string[]): Promise<HistoryIndex> {
  const index = emptyIndex();
  for await (const record of readHistory(files)) addRecord(index, record);
  return index;
}
