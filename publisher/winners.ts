/**
 * Winners of a race and what changed between two finals (issue 16). Pure,
 * read from a snapshot only, so `verify` recomputes them and compares.
 *
 * A race's winners are the top `seats` candidates by total (online +
 * accepted paper) among those not removed: a removed candidate's votes are
 * shown but excluded (DESIGN §6), so they cannot win. When candidates tie
 * on the vote count at the seat boundary (the last seat and the first
 * loser have the same total), the sure winners are listed and the tied
 * candidates are flagged for the commission; the software never picks
 * among them.
 */
import type { FinalChange, RaceResult, RaceWinners, UnsignedSnapshot } from './snapshot.js';

export function raceWinners(race: RaceResult): RaceWinners {
  const totals = new Map(race.total.candidates.map((c) => [c.id, c.total]));
  // Array.prototype.sort is stable: among equal totals, race order stays.
  const standing = race.candidates
    .filter((c) => c.status !== 'removed')
    .map((c) => ({ id: c.id, votes: totals.get(c.id) ?? 0 }))
    .sort((a, b) => b.votes - a.votes);
  if (standing.length <= race.seats) {
    return { race: race.id, seats: race.seats, winners: standing.map((c) => c.id), tie: null };
  }
  const last = standing[race.seats - 1];
  const firstOut = standing[race.seats]!;
  if (last === undefined || last.votes !== firstOut.votes) {
    return {
      race: race.id,
      seats: race.seats,
      winners: standing.slice(0, race.seats).map((c) => c.id),
      tie: null,
    };
  }
  const at = last.votes;
  return {
    race: race.id,
    seats: race.seats,
    winners: standing.filter((c) => c.votes > at).map((c) => c.id),
    tie: { at, candidates: standing.filter((c) => c.votes === at).map((c) => c.id) },
  };
}

export function winnersOf(s: Pick<UnsignedSnapshot, 'races'>): RaceWinners[] {
  return s.races.map(raceWinners);
}

type Seat = 'winner' | 'tied' | 'not-winner';

function seatOf(w: RaceWinners | undefined, candidate: string): Seat {
  if (w?.winners.includes(candidate)) return 'winner';
  return w?.tie?.candidates.includes(candidate) ? 'tied' : 'not-winner';
}

/**
 * What differs from the previous final: each candidate's race total and
 * district totals, status and seat. Races, districts and candidates are the
 * config's, the same in both (an election's config does not change).
 */
export function finalChanges(
  before: Pick<UnsignedSnapshot, 'races'>,
  after: Pick<UnsignedSnapshot, 'races'>,
): FinalChange[] {
  const changes: FinalChange[] = [];
  const wasWinners = new Map(winnersOf(before).map((w) => [w.race, w]));
  const nowWinners = new Map(winnersOf(after).map((w) => [w.race, w]));
  for (const race of after.races) {
    const old = before.races.find((r) => r.id === race.id);
    if (old === undefined) continue;
    const oldDistricts = new Map(old.regions.flatMap((r) => r.districts).map((d) => [d.id, d.total]));
    const areas = [
      { district: null, now: race.total, was: old.total },
      ...race.regions
        .flatMap((r) => r.districts)
        .map((d) => ({ district: d.id, now: d.total, was: oldDistricts.get(d.id) })),
    ];
    for (const area of areas) {
      area.now.candidates.forEach((c) => {
        const from = area.was?.candidates.find((w) => w.id === c.id)?.total ?? 0;
        if (from !== c.total) {
          changes.push({
            race: race.id,
            district: area.district,
            candidate: c.id,
            what: 'votes',
            from,
            to: c.total,
          });
        }
      });
    }
    for (const c of race.candidates) {
      const was = old.candidates.find((o) => o.id === c.id);
      if (was !== undefined && was.status !== c.status) {
        changes.push({
          race: race.id,
          district: null,
          candidate: c.id,
          what: 'status',
          from: was.status,
          to: c.status,
        });
      }
      const from = seatOf(wasWinners.get(race.id), c.id);
      const to = seatOf(nowWinners.get(race.id), c.id);
      if (from !== to)
        changes.push({ race: race.id, district: null, candidate: c.id, what: 'winner', from, to });
    }
  }
  return changes;
}
