// Per-region figures as a list of cards that fit a phone (no table wider
// than the screen): a race's votes in each region, and turnout in each
// region with its districts (snapshot v5 `turnout.districts`; v4 has none).
// Each card is a <details>: its summary gives the headline, opening it the
// rest, built when first opened (20 regions × every candidate is a lot of
// DOM for a phone to hold closed).

import { el } from './dom.js';
import { regionLeader } from './tile-map.js';

/** The selected race's votes, one card per region it is held in. */
export function renderRaceRegions(list, v, race, regions) {
  const regionNames = new Map(regions.map((r) => [r.code, r.names]));
  // A new snapshot or language keeps the cards the reader opened; another race starts closed.
  const opened = list.dataset.race === race.id ? openRegions(list) : new Set();
  list.dataset.race = race.id;
  list.replaceChildren(
    ...race.regions.map((r) => {
      const regionName = regionNames.has(r.code) ? v.name(regionNames.get(r.code)) : r.code;
      const leader = regionLeader(race, r.total);
      const headline =
        leader === null
          ? v.t.mapNoLeader
          : `${v.name(race.candidates[leader.index].names)} ${v.share(leader.total, r.total.valid)}`;
      const rows = r.total.candidates
        .map((count, i) => ({ count, c: race.candidates[i] }))
        .sort((a, b) => b.count.total - a.count.total);
      const summary = [
        el('span', { class: 'card-title' }, regionName),
        el('span', { class: 'card-sub' }, `${headline} · ${v.t.validShort} ${v.num(r.total.valid)}`),
      ];
      const body = () => [
        el(
          'table',
          { class: 'fit' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, v.t.candidateCol),
              el('th', { scope: 'col' }, v.t.votesCol),
              el('th', { scope: 'col' }, v.t.mapShareCol),
            ),
          ),
          el(
            'tbody',
            {},
            ...rows.map(({ count, c }) =>
              el(
                'tr',
                { 'data-candidate': c.id, class: c.status },
                el('th', { scope: 'row' }, v.name(c.names)),
                el('td', { 'data-total': '' }, v.num(count.total)),
                el('td', {}, c.status === 'removed' ? '—' : v.share(count.total, r.total.valid)),
              ),
            ),
          ),
        ),
      ];
      return card(r.code, summary, body, race.regions.length === 1 || opened.has(r.code));
    }),
  );
}

/** Turnout per region; opening a region lists its figures and, from v5, its districts. */
export function renderTurnoutRegions(list, v, turnout) {
  const cast = (r) => r.castOnline + r.castPaper;
  const districts = turnout.districts ?? [];
  const figures = ['roll', 'issuedOnline', 'issuedPaper', 'castOnline', 'castPaper'];
  const opened = openRegions(list);
  list.replaceChildren(
    ...turnout.regions.map((r) => {
      const own = districts.filter((d) => d.region === r.code);
      const summary = [
        el('span', { class: 'card-title' }, v.name(r.names)),
        el(
          'span',
          { class: 'card-sub' },
          `${v.share(cast(r), r.roll)} · ${v.num(cast(r))} / ${v.num(r.roll)}`,
        ),
      ];
      const body = () => {
        const parts = [
          el(
            'dl',
            { class: 'figures' },
            ...figures.map((f) => el('div', {}, el('dt', {}, v.t[f]), el('dd', {}, v.num(r[f])))),
            el(
              'div',
              {},
              el('dt', {}, v.t.reported),
              el('dd', {}, `${v.num(r.precinctsReported)} / ${v.num(r.precincts)}`),
            ),
          ),
        ];
        if (own.length > 0) parts.push(districtTable(v, r, own));
        return parts;
      };
      return card(r.code, summary, body, opened.has(r.code));
    }),
  );
}

function districtTable(v, region, districts) {
  const cast = (r) => r.castOnline + r.castPaper;
  return el(
    'table',
    { class: 'fit', 'data-districts': region.code },
    el('caption', {}, v.t.districtTurnoutCaption(v.name(region.names))),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, v.t.district),
        el('th', { scope: 'col' }, v.t.turnoutPct),
        el('th', { scope: 'col' }, v.t.mapBallotsCol),
      ),
    ),
    el(
      'tbody',
      {},
      ...districts.map((d) =>
        el(
          'tr',
          { 'data-district': d.id },
          el('th', { scope: 'row' }, v.name(d.names)),
          el('td', {}, v.share(cast(d), d.roll)),
          el('td', {}, `${v.num(cast(d))} / ${v.num(d.roll)}`),
        ),
      ),
    ),
  );
}

/** A region's card: the summary now, the body (a function) when first opened. */
function card(code, summary, body, open) {
  const details = el('details', {}, el('summary', {}, ...summary));
  const fill = () => {
    if (details.childElementCount === 1) details.append(...body());
  };
  details.addEventListener('toggle', () => {
    if (details.open) fill();
  });
  if (open) {
    fill();
    details.open = true;
  }
  return el('li', { class: 'card', 'data-region': code }, details);
}

const openRegions = (list) =>
  new Set(
    [...list.querySelectorAll(':scope > li > details[open]')].map((d) => d.parentElement.dataset.region),
  );
