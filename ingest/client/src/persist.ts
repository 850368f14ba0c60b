/**
 * What survives a reload or a crash, in localStorage, per election:
 *
 *   saylau:vote:<election>     the vote in progress (VoteState), written before each request
 *                              and at every mark the voter makes or clears
 *   saylau:receipt:<election>  the receipt, the only thing kept once the ballot is recorded
 *
 * Each phase keeps only what the next request needs (and the district's
 * slice, checked once, so a voter holding a credential never depends on
 * fetching it again): the identity token and
 * the blinding secret are dropped as soon as the credential is finalised,
 * and the whole vote state is dropped when the receipt arrives.
 *
 * `readJson`/`writeJson` are the one way both pages store state (the
 * official's page keeps its check-in queue with them, official/src/queue.ts).
 */

import type { DistrictSlice } from './manifest.js';

export type VoteState =
  | {
      /** Blinded and waiting for `POST /v1/credentials`; resent identically on every retry. */
      readonly phase: 'issuing';
      readonly district: string;
      /** The identity token; '' when it expired and the voter must sign in again. */
      readonly token: string;
      readonly prepared: string;
      readonly blinded: string;
      readonly inv: string;
      /** The district's slice as checked before blinding (absent in states stored before it was kept). */
      readonly slice?: DistrictSlice;
    }
  | {
      /** A finalised credential; the voter is filling in the ballot. */
      readonly phase: 'ballot';
      readonly district: string;
      readonly message: string;
      readonly signature: string;
      /** The marks so far, candidate ids per race: written at every change, so a reload or a crash keeps them. */
      readonly marks?: Readonly<Record<string, readonly string[]>>;
      /** The page of the ballot the voter is on: filling it in, or checking it before casting. */
      readonly step?: 'ballot' | 'review';
      readonly slice?: DistrictSlice;
    }
  | {
      /** The ballot is final: this exact body is sent until a receipt comes back. */
      readonly phase: 'casting';
      readonly district: string;
      readonly message: string;
      readonly body: string;
      /** Kept for the way back to the ballot when a candidate is removed before it is recorded. */
      readonly slice?: DistrictSlice;
    };

export interface Receipt {
  /** The receipt code (shown in groups of four, common/web/receipt-code.js). */
  readonly ballotId: string;
  /** When this device got the answer (ISO); absent when the ballot was recorded earlier, elsewhere. */
  readonly recordedAt?: string;
}

const voteKey = (election: string) => `saylau:vote:${election}`;
const receiptKey = (election: string) => `saylau:receipt:${election}`;

/** A stored JSON value; an unreadable one is dropped (that step starts again rather than fail). */
export function readJson<T>(key: string, storage: Storage = localStorage): T | null {
  try {
    const text = storage.getItem(key);
    return text === null ? null : (JSON.parse(text) as T);
  } catch {
    storage.removeItem(key);
    return null;
  }
}

/** Stores `value` synchronously: when this returns, a crash or reload keeps it. */
export function writeJson(key: string, value: unknown, storage: Storage = localStorage): void {
  storage.setItem(key, JSON.stringify(value));
}

export const loadVote = (election: string): VoteState | null => readJson<VoteState>(voteKey(election));
export const saveVote = (election: string, state: VoteState): void => writeJson(voteKey(election), state);
export const clearVote = (election: string): void => localStorage.removeItem(voteKey(election));

export const loadReceipt = (election: string): Receipt | null => readJson<Receipt>(receiptKey(election));

/** Keeps the receipt and forgets everything else about this vote. */
export function keepOnlyReceipt(election: string, receipt: Receipt): void {
  localStorage.setItem(
    receiptKey(election),
    JSON.stringify({ ballotId: receipt.ballotId, recordedAt: receipt.recordedAt }),
  );
  localStorage.removeItem(voteKey(election));
  sessionStorage.clear();
}

export const clearReceipt = (election: string): void => localStorage.removeItem(receiptKey(election));
