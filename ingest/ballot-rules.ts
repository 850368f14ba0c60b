/**
 * What a district's ballot may contain, compiled once at start-up from the
 * election config (STYLE 6) so checking a ballot is a few Map/Set lookups.
 */

import type { SelectionRow } from '../common/records.js';
import type { ElectionIndex } from '../election/index.js';
import { IngestError } from './errors.js';

interface RaceRule {
  readonly maxChoices: number;
  /** Candidates a ballot may mark: `active` only (withdrawn and removed are refused online). */
  readonly active: ReadonlySet<string>;
}

export interface DistrictPlan {
  readonly id: string;
  readonly region: string;
  /** The region's Kafka partitions (DESIGN §4). */
  readonly partitions: readonly number[];
  readonly races: ReadonlyMap<string, RaceRule>;
}

export function compileDistricts(index: ElectionIndex): ReadonlyMap<string, DistrictPlan> {
  const plans = new Map<string, DistrictPlan>();
  for (const district of index.config.districts) {
    const races = new Map<string, RaceRule>();
    for (const race of index.racesOf(district.id)) {
      const active = new Set(race.candidates.filter((c) => c.status === 'active').map((c) => c.id));
      races.set(race.id, { maxChoices: race.maxChoices, active });
    }
    const partitions = index.partitionsFor(district.region);
    plans.set(district.id, { id: district.id, region: district.region, partitions, races });
  }
  return plans;
}

function refuse(message: string): never {
  throw new IngestError('invalid_selection', message);
}

/**
 * Checks selections against the district and returns them in canonical form
 * (races sorted by id, choices sorted): the same ballot always yields the
 * same rows, so identical retries hash identically.
 * @throws IngestError `invalid_selection`
 */
export function checkSelections(
  plan: DistrictPlan,
  selections: readonly { readonly race: string; readonly choices: readonly string[] }[],
): SelectionRow[] {
  const seen = new Set<string>();
  const rows: SelectionRow[] = [];
  for (const { race, choices } of selections) {
    const rule = plan.races.get(race);
    if (rule === undefined) refuse(`Race ${race} is not on this district's ballot.`);
    if (seen.has(race)) refuse(`Race ${race} appears twice.`);
    seen.add(race);
    if (choices.length > rule.maxChoices) refuse(`Race ${race} allows at most ${rule.maxChoices} choices.`);
    const marked = new Set<string>();
    for (const candidate of choices) {
      if (!rule.active.has(candidate)) refuse(`Candidate ${candidate} is not standing in race ${race}.`);
      if (marked.has(candidate)) refuse(`Candidate ${candidate} is marked twice in race ${race}.`);
      marked.add(candidate);
    }
    rows.push([race, ...[...marked].sort()]);
  }
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return rows;
}
