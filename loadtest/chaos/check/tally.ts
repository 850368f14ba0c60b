/**
 * Tallies as sets of cells: `race|region|district|candidate` → votes. The
 * tally the system should publish is recomputed from the log's winners
 * (first record per ballotId), and compared cell by cell.
 */
import type { LoggedBallot } from '../observe/kafka-log.js';
import { marksOf } from './rows.js';

export type Tally = Map<string, number>;

export const cellKey = (race: string, region: string, district: string, candidate: string): string =>
  `${race}|${region}|${district}|${candidate}`;

/** Votes per cell counted from the winning record of every ballotId. */
export function tallyOf(winners: Iterable<LoggedBallot>): Tally {
  const tally: Tally = new Map();
  for (const w of winners) {
    for (const [race, candidate] of marksOf(w.rowsKey)) {
      const key = cellKey(race, w.region, w.district, candidate);
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
  }
  return tally;
}

export interface CellDiff {
  readonly cell: string;
  readonly expected: number;
  readonly actual: number;
}

/** Cells where `actual` differs from `expected` (a missing cell is 0). */
export function diffTally(expected: Tally, actual: Tally): CellDiff[] {
  const out: CellDiff[] = [];
  for (const cell of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(cell) ?? 0;
    const a = actual.get(cell) ?? 0;
    if (e !== a) out.push({ cell, expected: e, actual: a });
  }
  return out.sort((x, y) => (x.cell < y.cell ? -1 : 1));
}
