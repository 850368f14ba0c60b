/**
 * What a district's ballot may contain, compiled once at start-up from the
 * election config (STYLE 6) so checking a ballot is a few Map/Set lookups.
 * The commission's candidate decisions during the vote (withdrawn, removed,
 * reinstated: the `election-events` stream) come in as {@link CandidateChanges}:
 * only the candidates whose status now differs from the config's, so the
 * usual ballot (no change in its races) costs one extra Map lookup per race.
 */

import type { SelectionRow } from '../common/records.js';
import type { CandidateStatus, ElectionIndex } from '../election/index.js';
import { IngestError } from './errors.js';

interface RaceRule {
  readonly maxChoices: number;
  /** Candidates a ballot may mark per the config: `active` only (withdrawn and removed are refused online). */
  readonly active: ReadonlySet<string>;
  /** The config's withdrawn and removed candidates, each with its status (for the refusal's code). */
  readonly inactive: ReadonlyMap<string, CandidateStatus>;
}

/** race → candidate → live status, for candidates whose status differs from the config's. */
export type CandidateChanges = ReadonlyMap<string, ReadonlyMap<string, CandidateStatus>>;

export const NO_CANDIDATE_CHANGES: CandidateChanges = new Map();

/**
 * The live statuses (`race\0candidate` → status, as the election state keeps
 * them) that differ from the config's, grouped by race.
 */
export function candidateChanges(
  index: ElectionIndex,
  live: ReadonlyMap<string, CandidateStatus>,
): CandidateChanges {
  const changes = new Map<string, Map<string, CandidateStatus>>();
  for (const race of index.config.races) {
    for (const candidate of race.candidates) {
      const status = live.get(`${race.id}\0${candidate.id}`);
      if (status === undefined || status === candidate.status) continue;
      const inRace = changes.get(race.id) ?? new Map<string, CandidateStatus>();
      inRace.set(candidate.id, status);
      changes.set(race.id, inRace);
    }
  }
  return changes.size === 0 ? NO_CANDIDATE_CHANGES : changes;
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
      const inactive = new Map(
        race.candidates.filter((c) => c.status !== 'active').map((c) => [c.id, c.status]),
      );
      races.set(race.id, { maxChoices: race.maxChoices, active, inactive });
    }
    const partitions = index.partitionsFor(district.region);
    plans.set(district.id, { id: district.id, region: district.region, partitions, races });
  }
  return plans;
}

function refuse(message: string): never {
  throw new IngestError('invalid_selection', message);
}

function notStandingError(status: CandidateStatus | undefined, candidate: string, race: string): IngestError {
  if (status === 'removed')
    return new IngestError('candidate_removed', `Candidate ${candidate} was removed from race ${race}.`);
  if (status === 'withdrawn')
    return new IngestError('candidate_withdrawn', `Candidate ${candidate} has withdrawn from race ${race}.`);
  refuse(`Candidate ${candidate} is not standing in race ${race}.`);
}

type Selections = readonly { readonly race: string; readonly choices: readonly string[] }[];

/**
 * Checks selections against the district and returns them in canonical form
 * (races sorted by id, choices sorted): the same ballot always yields the
 * same rows, so identical retries hash identically.
 * @throws IngestError `invalid_selection`, `candidate_removed`, `candidate_withdrawn`
 */
export function checkSelections(
  plan: DistrictPlan,
  selections: Selections,
  changes: CandidateChanges = NO_CANDIDATE_CHANGES,
): SelectionRow[] {
  const { rows, notStanding } = canonicalSelections(plan, selections, changes);
  if (notStanding !== null) throw notStanding;
  return rows;
}

/**
 * {@link checkSelections}, but a candidate who is not standing (removed or
 * withdrawn) is returned as `notStanding` instead of thrown, with the rows
 * still in canonical form: the ballot route must tell a resend of a ballot
 * recorded before the removal (answered from the log) from a new one.
 * @throws IngestError `invalid_selection`
 */
export function canonicalSelections(
  plan: DistrictPlan,
  selections: Selections,
  changes: CandidateChanges = NO_CANDIDATE_CHANGES,
): { readonly rows: SelectionRow[]; readonly notStanding: IngestError | null } {
  let notStanding: IngestError | null = null;
  const seen = new Set<string>();
  const rows: SelectionRow[] = [];
  for (const { race, choices } of selections) {
    const rule = plan.races.get(race);
    if (rule === undefined) refuse(`Race ${race} is not on this district's ballot.`);
    if (seen.has(race)) refuse(`Race ${race} appears twice.`);
    seen.add(race);
    if (choices.length > rule.maxChoices) refuse(`Race ${race} allows at most ${rule.maxChoices} choices.`);
    const changed = changes.size === 0 ? undefined : changes.get(race);
    const marked = new Set<string>();
    for (const candidate of choices) {
      const status =
        changed?.get(candidate) ?? (rule.active.has(candidate) ? 'active' : rule.inactive.get(candidate));
      if (status !== 'active') notStanding ??= notStandingError(status, candidate, race);
      if (marked.has(candidate)) refuse(`Candidate ${candidate} is marked twice in race ${race}.`);
      marked.add(candidate);
    }
    rows.push([race, ...[...marked].sort()]);
  }
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { rows, notStanding };
}
