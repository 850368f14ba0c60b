/**
 * Builds an unsigned snapshot from reconciled results and the election
 * config. Pure: same input, same output; the clock, sequence and chain link
 * come in as arguments.
 *
 * Every row is checked against the config (known race, district in its
 * region, race on the district's ballot, candidate in the race): a row that
 * is not is a bug upstream and stops publication with `results_inconsistent`
 * rather than being dropped. The finished snapshot is then put through the
 * same totals check `verify` runs, so the publisher can never sign what an
 * auditor would reject.
 *
 * Paper is the exception: each precinct's latest protocol is judged
 * (paper.ts), and one that fails is shown as rejected with its reason and
 * left out of the counts instead of stopping publication.
 */
import { type ElectionEventType, RECORD_VERSION } from '../common/records.js';
import {
  applyEvent,
  type CandidateStatus,
  type ElectionIndex,
  initialState,
  isRefusal,
  type Names,
  type StationKeys,
} from '../election/index.js';
import type { DistrictKeyFingerprint } from './district-keys.js';
import { PublisherError } from './errors.js';
import { merkleRoot } from './merkle.js';
import { judgePaper, type PaperOutcome } from './paper.js';
import { reportTable } from './report-counts.js';
import type { ResultsInput } from './results-source.js';
import {
  type CandidateCount,
  type Counts,
  type RaceResult,
  SNAPSHOT_VERSION,
  snapshotPaths,
  type TurnoutCounts,
  type TurnoutDistrict,
  type TurnoutRegion,
  type UnsignedSnapshot,
} from './snapshot.js';
import { checkTotals } from './totals.js';

export interface ChainPosition {
  readonly seq: number;
  readonly prevHash: string | null;
  /** Taken-at time, Unix ms; stored to the whole second. */
  readonly takenAtMs: number;
}

/** What a snapshot states about the publication besides results (v5). */
export interface PublishingTerms {
  /** The closing time in force (the config's, moved by `extended`, or an early `closed`), Unix ms. */
  readonly closesAtMs: number;
  /** The publisher's real interval between snapshots, seconds. */
  readonly snapshotIntervalSec: number;
}

/** Online and paper votes per `race␀district␀candidate`. */
type VoteMap = Map<string, [online: number, paper: number]>;

const CODE_PATTERN = /^[A-Za-z0-9]{1,64}$/;

export function buildSnapshot(
  index: ElectionIndex,
  input: ResultsInput,
  at: ChainPosition,
  districtKeys: readonly DistrictKeyFingerprint[],
  stations: StationKeys,
  terms: PublishingTerms,
): UnsignedSnapshot {
  const paper = judgePaper(index, input, stations);
  const votes = collectVotes(index, input, paper);
  const statuses = candidateStatuses(index, input.events);
  const codes = checkedCodes(input.codes);
  const counted = turnout(index, input, paper);
  const snapshot: UnsignedSnapshot = {
    v: SNAPSHOT_VERSION,
    election: {
      id: index.id,
      names: index.config.names,
      closes: isoSeconds(terms.closesAtMs),
      snapshotIntervalSec: terms.snapshotIntervalSec,
      ...(index.config.about === undefined ? {} : { about: index.config.about }),
    },
    seq: at.seq,
    takenAt: isoSeconds(at.takenAtMs),
    prevHash: at.prevHash,
    races: index.config.races.map((race) => raceResult(index, race.id, votes, statuses)),
    turnout: counted,
    reporting: { precincts: counted.total.precincts, reported: counted.total.precinctsReported },
    precincts: paper.reports,
    reports: reportTable(input.reports ?? {}),
    codes: { count: codes.length, merkleRoot: merkleRoot(codes), file: snapshotPaths(at.seq).codes },
    districtKeys: checkedDistrictKeys(index, districtKeys),
  };
  const problem = checkTotals(snapshot);
  if (problem !== null) throw new PublisherError('results_inconsistent', problem);
  return snapshot;
}

function collectVotes(index: ElectionIndex, input: ResultsInput, paper: PaperOutcome): VoteMap {
  const votes: VoteMap = new Map();
  const add = (
    race: string,
    district: string,
    candidate: string,
    n: number,
    channel: 0 | 1,
    what: string,
  ) => {
    const d = index.district(district);
    const r = index.race(race);
    if (d === undefined || r === undefined || !d.races.includes(race)) {
      throw new PublisherError(
        'results_inconsistent',
        `${what}: race ${race} is not on district ${district}'s ballot`,
      );
    }
    if (!r.candidates.some((c) => c.id === candidate)) {
      throw new PublisherError('results_inconsistent', `${what}: ${candidate} is not a candidate in ${race}`);
    }
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new PublisherError('results_inconsistent', `${what}: ${n} votes is not a count`);
    }
    const key = `${race}\0${district}\0${candidate}`;
    const entry = votes.get(key) ?? [0, 0];
    entry[channel] += n;
    votes.set(key, entry);
  };
  for (const row of input.tally) {
    if (index.district(row.district)?.region !== row.region) {
      throw new PublisherError(
        'results_inconsistent',
        `tally: district ${row.district} is not in ${row.region}`,
      );
    }
    add(row.race, row.district, row.candidate, row.votes, 0, 'tally');
  }
  // Accepted protocols only: their races and candidates were checked against the district (paper.ts).
  for (const p of paper.accepted) {
    for (const [race, candidate, votes] of p.results) {
      add(race ?? '', p.district, candidate ?? '', Number(votes), 1, `paper ${p.precinct}`);
    }
  }
  return votes;
}

/**
 * `race␀candidate` → status: the config's, then the candidate events folded
 * in order by the election's state rules (`election/election-state.ts`). An
 * event the rules refuse (a race or candidate the election does not have, a
 * status it already has) changes nothing: it cannot be taken back from Kafka,
 * so it must not block results. ClickHouse keeps no signatures: the rows are
 * folded as stored.
 */
function candidateStatuses(
  index: ElectionIndex,
  events: ResultsInput['events'],
): ReadonlyMap<string, CandidateStatus> {
  let state = initialState(index);
  for (const [i, e] of events.entries()) {
    if (!e.type.startsWith('candidate-')) continue;
    // Only the status rules matter here: ids and times are the fold's bookkeeping.
    const next = applyEvent(state, index, {
      v: RECORD_VERSION,
      id: `row-${i}`,
      election: index.id,
      type: e.type as ElectionEventType,
      at: 1,
      by: '',
      detail: '',
      race: e.race,
      candidate: e.candidate,
      signature: '',
    });
    if (!isRefusal(next)) state = next;
  }
  return state.candidates;
}

function raceResult(
  index: ElectionIndex,
  raceId: string,
  votes: VoteMap,
  statuses: ReadonlyMap<string, CandidateStatus>,
): RaceResult {
  const race = index.race(raceId)!;
  const status = (id: string) => statuses.get(`${raceId}\0${id}`)!;
  const removed = new Set(race.candidates.filter((c) => status(c.id) === 'removed').map((c) => c.id));
  const ids = race.candidates.map((c) => c.id);
  const regions: RaceResult['regions'][number][] = [];
  for (const region of index.config.regions) {
    const districts = index
      .districtsOf(region.code)
      .filter((d) => d.races.includes(raceId))
      .map((d) => ({
        id: d.id,
        total: counts(
          ids.map((id) => votes.get(`${raceId}\0${d.id}\0${id}`) ?? [0, 0]),
          ids,
          removed,
        ),
      }));
    if (districts.length === 0) continue;
    regions.push({
      code: region.code,
      total: sum(
        districts.map((d) => d.total),
        ids,
        removed,
      ),
      districts,
    });
  }
  return {
    id: race.id,
    names: race.names,
    seats: race.seats,
    maxChoices: race.maxChoices,
    candidates: race.candidates.map((c) => ({
      id: c.id,
      names: c.names,
      partyBranch: branchNames(index, c.partyBranch),
      status: status(c.id),
    })),
    total: sum(
      regions.map((r) => r.total),
      ids,
      removed,
    ),
    regions,
  };
}

/** The nominating branch's names: the snapshot is read without the config, so it carries them. */
function branchNames(index: ElectionIndex, id: string): Names {
  const branch = index.config.partyBranches.find((b) => b.id === id);
  if (branch === undefined) throw new PublisherError('results_inconsistent', `unknown party branch ${id}`);
  return branch.names;
}

function counts(
  pairs: readonly (readonly [number, number])[],
  ids: readonly string[],
  removed: ReadonlySet<string>,
): Counts {
  let valid = 0;
  let excluded = 0;
  const candidates: CandidateCount[] = pairs.map(([online, paper], i) => {
    const id = ids[i]!;
    const total = online + paper;
    if (removed.has(id)) excluded += total;
    else valid += total;
    return { id, online, paper, total };
  });
  return { candidates, valid, excluded };
}

function sum(parts: readonly Counts[], ids: readonly string[], removed: ReadonlySet<string>): Counts {
  const pairs = ids.map((_, i): [number, number] => {
    let online = 0;
    let paper = 0;
    for (const p of parts) {
      online += p.candidates[i]!.online;
      paper += p.candidates[i]!.paper;
    }
    return [online, paper];
  });
  return counts(pairs, ids, removed);
}

type MutableTurnout = { -readonly [K in keyof TurnoutCounts]: number };

const noTurnout = (roll: number): MutableTurnout => ({
  roll,
  issuedOnline: 0,
  issuedPaper: 0,
  castOnline: 0,
  castPaper: 0,
  precincts: 0,
  precinctsReported: 0,
});

/** Adds `part` into `into`, field by field. */
function addTurnout(into: MutableTurnout, part: TurnoutCounts): void {
  for (const key of Object.keys(into) as (keyof TurnoutCounts)[]) into[key] += part[key];
}

/**
 * Turnout per district (the finest grain the aggregator keeps: issued and
 * cast share no finer key), in config order; each region is the sum of its
 * districts and the total the sum of the regions.
 */
function turnout(
  index: ElectionIndex,
  input: ResultsInput,
  paper: PaperOutcome,
): UnsignedSnapshot['turnout'] {
  const byDistrict = new Map<string, MutableTurnout>(
    index.config.districts.map((d) => [d.id, noTurnout(input.roll.get(d.id) ?? 0)]),
  );
  const districtOf = (district: string, what: string) => {
    const t = byDistrict.get(district);
    if (t === undefined)
      throw new PublisherError('results_inconsistent', `${what}: unknown district ${district}`);
    return t;
  };
  for (const row of input.turnout) {
    const t = districtOf(row.district, 'turnout');
    if (index.district(row.district)!.region !== row.region) {
      throw new PublisherError(
        'results_inconsistent',
        `turnout: district ${row.district} is not in ${row.region}`,
      );
    }
    t.issuedOnline += row.issuedOnline;
    t.issuedPaper += row.issuedPaper;
    t.castOnline += row.castOnline;
  }
  for (const p of index.config.paperPrecincts) districtOf(p.district, 'precinct').precincts += 1;
  for (const p of paper.accepted) {
    const t = districtOf(p.district, 'paper');
    t.precinctsReported += 1;
    t.castPaper += p.issued;
  }
  const districts: TurnoutDistrict[] = index.config.districts.map((d) => ({
    id: d.id,
    region: d.region,
    names: d.names,
    ...byDistrict.get(d.id)!,
  }));
  const byRegion = new Map(index.config.regions.map((r) => [r.code, noTurnout(0)]));
  for (const d of districts) addTurnout(byRegion.get(d.region)!, d);
  const regions: TurnoutRegion[] = index.config.regions.map((r) => ({
    code: r.code,
    names: r.names,
    ...byRegion.get(r.code)!,
  }));
  const total = noTurnout(0);
  for (const r of regions) addTurnout(total, r);
  return { total, regions, districts };
}

const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function checkedCodes(codes: readonly string[]): readonly string[] {
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (!CODE_PATTERN.test(code))
      throw new PublisherError('results_inconsistent', `codes: malformed code at ${i}`);
    if (i > 0 && !(codes[i - 1]! < code)) {
      throw new PublisherError('results_inconsistent', `codes: not sorted and distinct at ${i}`);
    }
  }
  return codes;
}

/** One fingerprint per district of the config, in its order: a key list for another election is a bug. */
function checkedDistrictKeys(
  index: ElectionIndex,
  keys: readonly DistrictKeyFingerprint[],
): readonly DistrictKeyFingerprint[] {
  const ids = index.config.districts.map((d) => d.id);
  if (keys.length !== ids.length || keys.some((k, i) => k.id !== ids[i])) {
    throw new PublisherError('results_inconsistent', 'district keys do not list the districts of the config');
  }
  return keys;
}
