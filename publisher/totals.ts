/**
 * "The counts add up": every sum a snapshot states, recomputed from its
 * parts. Used by the builder before signing and by `verify` after checking
 * the signature; returns the first problem as a sentence naming where it is,
 * or `null`.
 *
 * Checked, per race: each candidate's total = online + paper; `valid` and
 * `excluded` split totals by candidate status (removed → excluded); a
 * region's counts = Σ its districts; the race's = Σ regions; a region's
 * online (paper) votes ≤ its online (paper) ballots × maxChoices. Turnout:
 * the total = Σ regions; issued ≤ roll; cast ≤ issued per channel; reported
 * ≤ precincts. Codes: count = online ballots cast. Precincts (v3): per
 * region, reported = its accepted precincts and paper ballots = Σ their
 * issued; an accepted protocol has spoiled ≤ issued ≤ check-ins. District
 * turnout (v5): listed once each, in a listed region; every region has
 * districts and = Σ them, field by field; each district obeys the same
 * bounds as a region, and its reported precincts and paper ballots are its
 * accepted protocols'.
 */
import type { Counts, TurnoutCounts, UnsignedSnapshot } from './snapshot.js';

const TURNOUT_FIELDS: readonly (keyof TurnoutCounts)[] = [
  'roll',
  'issuedOnline',
  'issuedPaper',
  'castOnline',
  'castPaper',
  'precincts',
  'precinctsReported',
];

export function checkTotals(s: UnsignedSnapshot): string | null {
  const turnoutByRegion = new Map(s.turnout.regions.map((r) => [r.code, r]));
  for (const race of s.races) {
    const ids = race.candidates.map((c) => c.id);
    if (new Set(ids).size !== ids.length) return `race ${race.id}: a candidate is listed twice`;
    const removed = new Set(race.candidates.filter((c) => c.status === 'removed').map((c) => c.id));
    const regionTotals: Counts[] = [];
    for (const region of race.regions) {
      for (const d of region.districts) {
        const p = checkCounts(d.total, ids, removed, `race ${race.id} district ${d.id}`);
        if (p !== null) return p;
      }
      const where = `race ${race.id} region ${region.code}`;
      const p =
        checkCounts(region.total, ids, removed, where) ??
        checkSum(
          region.total,
          region.districts.map((d) => d.total),
          where,
        );
      if (p !== null) return p;
      const t = turnoutByRegion.get(region.code);
      if (t === undefined) return `${where}: no turnout for the region`;
      const online = region.total.candidates.reduce((n, c) => n + c.online, 0);
      const paper = region.total.candidates.reduce((n, c) => n + c.paper, 0);
      if (online > t.castOnline * race.maxChoices) {
        return `${where}: ${online} online votes from ${t.castOnline} ballots of at most ${race.maxChoices} marks`;
      }
      if (paper > t.castPaper * race.maxChoices) {
        return `${where}: ${paper} paper votes from ${t.castPaper} ballots of at most ${race.maxChoices} marks`;
      }
      regionTotals.push(region.total);
    }
    const where = `race ${race.id}`;
    const p = checkCounts(race.total, ids, removed, where) ?? checkSum(race.total, regionTotals, where);
    if (p !== null) return p;
  }
  for (const field of TURNOUT_FIELDS) {
    const sum = s.turnout.regions.reduce((n, r) => n + r[field], 0);
    if (sum !== s.turnout.total[field])
      return `turnout ${field}: total ${s.turnout.total[field]} ≠ Σ regions ${sum}`;
  }
  const districts = s.turnout.districts ?? [];
  if (s.turnout.districts !== undefined) {
    const districtProblem = checkDistrictSums(s.turnout.regions, s.turnout.districts);
    if (districtProblem !== null) return districtProblem;
  }
  const districtAreas: Area[] = districts.map((d) => ({ ...d, code: `district ${d.id}` }));
  for (const r of [...s.turnout.regions, ...districtAreas, { ...s.turnout.total, code: 'total' }]) {
    const where = `turnout ${r.code}`;
    for (const field of TURNOUT_FIELDS) {
      if (!Number.isSafeInteger(r[field]) || r[field] < 0) return `${where}: ${field} is not a count`;
    }
    if (r.issuedOnline + r.issuedPaper > r.roll) {
      return `${where}: ${r.issuedOnline + r.issuedPaper} credentials issued for a roll of ${r.roll}`;
    }
    if (r.castOnline > r.issuedOnline)
      return `${where}: ${r.castOnline} online ballots from ${r.issuedOnline} credentials`;
    if (r.castPaper > r.issuedPaper)
      return `${where}: ${r.castPaper} paper ballots from ${r.issuedPaper} check-ins`;
    if (r.precinctsReported > r.precincts)
      return `${where}: ${r.precinctsReported} of ${r.precincts} precincts reported`;
  }
  const t = s.turnout.total;
  if (s.reporting.precincts !== t.precincts || s.reporting.reported !== t.precinctsReported) {
    return `reporting ${s.reporting.reported}/${s.reporting.precincts} ≠ turnout ${t.precinctsReported}/${t.precincts}`;
  }
  if (s.codes.count !== t.castOnline)
    return `codes: ${s.codes.count} codes ≠ ${t.castOnline} online ballots cast`;
  if (s.precincts === undefined) return null;
  return (
    checkPrecincts(s.precincts) ??
    checkReported(s.precincts, s.turnout.regions, (p) => p.region) ??
    checkReported(s.precincts, districtAreas, (p) => `district ${p.district}`)
  );
}

type Area = TurnoutCounts & { readonly code: string };
type Precinct = NonNullable<UnsignedSnapshot['precincts']>[number];

/**
 * v5: each district once, in a listed region; every region has districts
 * (a config region always does), and its counts = Σ its districts'. An
 * emptied list would otherwise add up to nothing and pass.
 */
function checkDistrictSums(
  regions: UnsignedSnapshot['turnout']['regions'],
  districts: NonNullable<UnsignedSnapshot['turnout']['districts']>,
): string | null {
  const sums = new Map(regions.map((r) => [r.code, new Map(TURNOUT_FIELDS.map((f) => [f, 0]))]));
  const seen = new Set<string>();
  for (const d of districts) {
    if (seen.has(d.id)) return `turnout district ${d.id}: listed twice`;
    seen.add(d.id);
    const sum = sums.get(d.region);
    if (sum === undefined) return `turnout district ${d.id}: region ${d.region} has no turnout`;
    for (const field of TURNOUT_FIELDS) sum.set(field, sum.get(field)! + d[field]);
  }
  const withDistricts = new Set(districts.map((d) => d.region));
  for (const r of regions) {
    if (!withDistricts.has(r.code)) return `turnout ${r.code}: no districts listed for the region`;
    for (const field of TURNOUT_FIELDS) {
      const sum = sums.get(r.code)!.get(field)!;
      if (sum !== r[field]) return `turnout ${r.code} ${field}: ${r[field]} ≠ Σ its districts ${sum}`;
    }
  }
  return null;
}

/** Each precinct: a reason exactly when rejected; an accepted protocol has spoiled ≤ issued ≤ check-ins. */
function checkPrecincts(precincts: readonly Precinct[]): string | null {
  for (const p of precincts) {
    const where = `precinct ${p.id}`;
    if (p.status === 'rejected' && p.rejection === '') return `${where}: rejected without a reason`;
    if (p.status !== 'rejected' && p.rejection !== '') return `${where}: a reason to reject, but ${p.status}`;
    if (p.status !== 'accepted') continue;
    if (p.spoiled > p.issued) return `${where}: ${p.spoiled} spoiled of ${p.issued} issued`;
    if (p.issued > p.checkIns) return `${where}: ${p.issued} issued, ${p.checkIns} checked in`;
  }
  return null;
}

/** Per area (region or district): reported precincts and paper ballots = its accepted protocols'. */
function checkReported(
  precincts: readonly Precinct[],
  areas: readonly Area[],
  areaOf: (p: Precinct) => string,
): string | null {
  const reported = new Map<string, { precincts: number; paper: number }>();
  for (const p of precincts) {
    if (p.status !== 'accepted') continue;
    const r = reported.get(areaOf(p)) ?? { precincts: 0, paper: 0 };
    r.precincts += 1;
    r.paper += p.issued;
    reported.set(areaOf(p), r);
  }
  for (const area of areas) {
    const r = reported.get(area.code) ?? { precincts: 0, paper: 0 };
    if (r.precincts !== area.precinctsReported || r.paper !== area.castPaper) {
      return `turnout ${area.code}: ${area.precinctsReported} precincts reported and ${area.castPaper} paper ballots ≠ accepted protocols' ${r.precincts} and ${r.paper}`;
    }
  }
  return null;
}

function checkCounts(
  c: Counts,
  ids: readonly string[],
  removed: ReadonlySet<string>,
  where: string,
): string | null {
  if (c.candidates.length !== ids.length)
    return `${where}: ${c.candidates.length} candidates, race has ${ids.length}`;
  let valid = 0;
  let excluded = 0;
  for (let i = 0; i < ids.length; i++) {
    const k = c.candidates[i]!;
    if (k.id !== ids[i]) return `${where}: candidate ${i} is ${k.id}, expected ${ids[i]}`;
    for (const n of [k.online, k.paper, k.total]) {
      if (!Number.isSafeInteger(n) || n < 0) return `${where}: ${k.id} has a count that is not a count`;
    }
    if (k.total !== k.online + k.paper)
      return `${where}: ${k.id} total ${k.total} ≠ ${k.online} + ${k.paper}`;
    if (removed.has(k.id)) excluded += k.total;
    else valid += k.total;
  }
  if (c.valid !== valid) return `${where}: valid ${c.valid} ≠ Σ counted candidates ${valid}`;
  if (c.excluded !== excluded) return `${where}: excluded ${c.excluded} ≠ Σ removed candidates ${excluded}`;
  return null;
}

function checkSum(total: Counts, parts: readonly Counts[], where: string): string | null {
  for (let i = 0; i < total.candidates.length; i++) {
    const k = total.candidates[i]!;
    let online = 0;
    let paper = 0;
    for (const p of parts) {
      online += p.candidates[i]?.online ?? 0;
      paper += p.candidates[i]?.paper ?? 0;
    }
    if (k.online !== online || k.paper !== paper) {
      return `${where}: ${k.id} ${k.online}+${k.paper} ≠ Σ parts ${online}+${paper}`;
    }
  }
  return null;
}
