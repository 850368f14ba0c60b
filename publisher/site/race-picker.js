// Choosing one race out of many: the races grouped (national, then each
// region with its region-wide and district races) in one native select, and
// a text filter over race and region names in the page's language.

import { el } from './dom.js';

/** 'national' spans regions, 'region' a whole region's districts, 'district' one district. */
export function raceScope(race) {
  if (race.regions.length !== 1) return 'national';
  return race.regions[0].districts.length > 1 ? 'region' : 'district';
}

/** Lower case, ё as е, spaces collapsed: what typing a name should match. */
const fold = (text) => text.toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();

/**
 * Fills `select` with the races matching `query`, grouped; `selected` stays
 * chosen if it matches, otherwise a placeholder asks to choose. Says how
 * many match in `count`.
 */
export function renderRacePicker({ select, count }, v, races, regions, selected, query) {
  const q = fold(query);
  const regionName = new Map(regions.map((r) => [r.code, v.name(r.names)]));
  const matches = (race) =>
    q === '' ||
    fold(v.name(race.names)).includes(q) ||
    (raceScope(race) !== 'national' && fold(regionName.get(race.regions[0]?.code) ?? '').includes(q));
  const found = races.filter(matches);
  const groups = [{ label: v.t.raceGroupNational, races: found.filter((r) => raceScope(r) === 'national') }];
  for (const region of regions) {
    const inRegion = found.filter((r) => raceScope(r) !== 'national' && r.regions[0].code === region.code);
    // Region-wide races before the region's district races.
    inRegion.sort((a, b) => (raceScope(a) === 'region' ? 0 : 1) - (raceScope(b) === 'region' ? 0 : 1));
    groups.push({ label: v.name(region.names), races: inRegion });
  }
  const option = (race) => el('option', { value: race.id }, v.name(race.names));
  const children = groups
    .filter((g) => g.races.length > 0)
    .map((g) => el('optgroup', { label: g.label }, ...g.races.map(option)));
  const kept = found.some((r) => r.id === selected);
  if (!kept) {
    const text = found.length === 0 ? v.t.raceNoneFound : v.t.raceChoose;
    children.unshift(el('option', { value: '', disabled: '' }, text));
  }
  select.replaceChildren(...children);
  select.value = kept ? selected : '';
  count.textContent = q === '' ? v.count(races.length, v.t.racesAll) : v.count(found.length, v.t.racesFound);
}
