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
}

export interface VoterState {
  /** Blinded-message hashes whose issuance was answered 2xx. */
  readonly okBlinded: Set<string>;
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
    state = { okBlinded: new Set(), signatures: new Set(), credentials: new Map() };
    index.voters.set(v, state);
  }
  return state;
}

export function addRecord(index: HistoryIndex, r: HistoryRecord): void {
  index.records++;
  switch (r.k) {
    case 'ballot': {
      const versions = index.ballots.get(r.id) ?? new Map<number, VersionState>();
      versions.set(r.x, { rowsKey: canonicalRows(r.rows), why: r.why, ok: 0, refused: 0, unknown: 0 });
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
      return;
    }
    case 'issue': {
      const state = voter(index, r.v);
      if (r.o === 'ok') {
        state.okBlinded.add(r.bh);
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
