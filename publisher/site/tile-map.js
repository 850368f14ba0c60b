// A tile-grid cartogram of Kazakhstan's regions: one equal square per
// region, hand-placed where the region roughly lies (north at the top, west
// on the left), so it needs no geodata. Two modes: each region coloured by
// the selected race's leading candidate (initials in the tile and a legend,
// so not by colour alone) or by turnout (a sequential scale with a legend).
// The tiles are a picture (aria-hidden); the table next to them carries the
// same data for everyone.

import { el } from './dom.js';

/** ISO 3166-2 code → grid row and column, and a short label per language. */
export const TILES = {
  'KZ-27': { row: 1, col: 1, kk: 'БҚО', ru: 'ЗКО', en: 'WKZ' },
  'KZ-39': { row: 1, col: 3, kk: 'ҚОС', ru: 'КСТ', en: 'KOS' },
  'KZ-59': { row: 1, col: 4, kk: 'СҚО', ru: 'СКО', en: 'NKZ' },
  'KZ-55': { row: 1, col: 5, kk: 'ПАВ', ru: 'ПВЛ', en: 'PAV' },
  'KZ-63': { row: 1, col: 6, kk: 'ШҚО', ru: 'ВКО', en: 'EKZ' },
  'KZ-23': { row: 2, col: 1, kk: 'АТЫ', ru: 'АТР', en: 'ATY' },
  'KZ-15': { row: 2, col: 2, kk: 'АҚТ', ru: 'АКТ', en: 'AKT' },
  'KZ-62': { row: 2, col: 3, kk: 'ҰЛЫ', ru: 'УЛТ', en: 'ULY' },
  'KZ-11': { row: 2, col: 4, kk: 'АҚМ', ru: 'АКМ', en: 'AKM' },
  'KZ-71': { row: 2, col: 5, kk: 'АСТ', ru: 'АСТ', en: 'AST' },
  'KZ-10': { row: 2, col: 6, kk: 'АБА', ru: 'АБА', en: 'ABA' },
  'KZ-47': { row: 3, col: 1, kk: 'МАҢ', ru: 'МНГ', en: 'MAN' },
  'KZ-43': { row: 3, col: 2, kk: 'ҚЫЗ', ru: 'КЗО', en: 'KYZ' },
  'KZ-35': { row: 3, col: 4, kk: 'ҚАР', ru: 'КРГ', en: 'KAR' },
  'KZ-33': { row: 3, col: 6, kk: 'ЖЕТ', ru: 'ЖТС', en: 'JET' },
  'KZ-61': { row: 4, col: 3, kk: 'ТҮР', ru: 'ТРК', en: 'TUR' },
  'KZ-31': { row: 4, col: 4, kk: 'ЖАМ', ru: 'ЖМБ', en: 'ZHA' },
  'KZ-19': { row: 4, col: 5, kk: 'АЛО', ru: 'АЛО', en: 'ALR' },
  'KZ-79': { row: 5, col: 3, kk: 'ШЫМ', ru: 'ШЫМ', en: 'SHY' },
  'KZ-75': { row: 5, col: 5, kk: 'АЛА', ru: 'АЛА', en: 'ALA' },
};

/** Dark enough for white text (contrast ≥ 4.5:1); a leader's colour is its order among the leaders. */
const LEADER_COLOURS = [
  '#1f4e99',
  '#9a3412',
  '#166534',
  '#6b21a8',
  '#854d0e',
  '#0f766e',
  '#9d174d',
  '#374151',
];
/** Light to dark; the last two take white text. */
const TURNOUT_COLOURS = ['#eef4f9', '#c3dbee', '#8dbbdf', '#2f6f9f', '#0b3f6b'];
const NO_DATA = '#e5e7eb';

/** The leader of a race in one region: most votes among candidates not removed; null if none or tied. */
export function regionLeader(race, regionTotal) {
  let best = null;
  let tied = false;
  regionTotal.candidates.forEach((count, i) => {
    if (race.candidates[i].status === 'removed') return;
    if (best === null || count.total > best.total) {
      best = { index: i, total: count.total };
      tied = false;
    } else if (count.total === best.total) tied = true;
  });
  return best === null || best.total === 0 || tied ? null : best;
}

/** "Айнұр Бекмұхамбетова" → "АБ". */
const initialsOf = (text) =>
  text
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join('');

/**
 * Renders the map in `mode` ('leader' | 'turnout'): tiles, legend, table.
 * `race` is the selected race (leader mode), `regions` the snapshot's
 * `turnout.regions` (names, turnout, and the order of the table).
 */
export function renderMap(nodes, v, mode, race, regions) {
  const rows = mode === 'leader' ? leaderRows(v, race, regions) : turnoutRows(v, regions);
  nodes.grid.replaceChildren(
    ...regions.map((r, i) => {
      const place = TILES[r.code];
      const row = rows.byRegion.get(r.code);
      const tile = el(
        'div',
        { class: 'tile', 'data-region': r.code },
        el('span', { class: 'abbr' }, place?.[v.lang] ?? r.code),
        el('span', { class: 'val' }, row.mark),
      );
      tile.style.background = row.colour;
      tile.style.color = row.light ? '#1b1f24' : '#fff';
      // Regions a config adds beyond the 20 go on rows of their own below the country.
      tile.style.gridRow = String(place?.row ?? 6 + Math.floor(i / 6));
      tile.style.gridColumn = String(place?.col ?? 1 + (i % 6));
      return tile;
    }),
  );
  nodes.legend.replaceChildren(
    ...rows.legend.map((item) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' }, item.mark);
      swatch.style.background = item.colour;
      swatch.style.color = item.light ? '#1b1f24' : '#fff';
      return el('li', {}, swatch, ` ${item.label}`);
    }),
  );
  nodes.caption.textContent = v.t.mapHow;
  nodes.tableCaption.textContent =
    mode === 'leader' ? v.t.mapLeaderCaption(v.name(race.names)) : v.t.mapTurnoutCaption;
  nodes.table.dataset.mode = mode;
  nodes.table.tHead.replaceChildren(el('tr', {}, ...rows.head.map((h) => el('th', { scope: 'col' }, h))));
  nodes.table.tBodies[0].replaceChildren(
    ...regions.map((r) =>
      el(
        'tr',
        { 'data-region': r.code },
        el('th', { scope: 'row' }, v.name(r.names)),
        // In leader mode the first cell is a name (it wraps); the others are figures.
        ...rows.byRegion
          .get(r.code)
          .cells.map((c, i) => el('td', i === 0 && mode === 'leader' ? { class: 'name' } : {}, c)),
      ),
    ),
  );
}

function leaderRows(v, race, regions) {
  const totals = new Map(race.regions.map((r) => [r.code, r.total]));
  const colourOf = new Map();
  const byRegion = new Map();
  const led = new Map();
  const used = new Set();
  for (const r of regions) {
    const total = totals.get(r.code);
    const leader = total === undefined ? null : regionLeader(race, total);
    if (leader === null) {
      const mark = total === undefined ? '' : '—';
      const cell = total === undefined ? v.t.mapNotHere : v.t.mapNoLeader;
      byRegion.set(r.code, { mark, colour: NO_DATA, light: true, cells: [cell, '—'] });
      continue;
    }
    if (!colourOf.has(leader.index)) {
      let mark = initialsOf(v.name(race.candidates[leader.index].names));
      while (used.has(mark)) mark = `${mark}${colourOf.size + 1}`;
      used.add(mark);
      colourOf.set(leader.index, { mark, colour: LEADER_COLOURS[colourOf.size % LEADER_COLOURS.length] });
    }
    const { mark, colour } = colourOf.get(leader.index);
    led.set(leader.index, (led.get(leader.index) ?? 0) + 1);
    byRegion.set(r.code, {
      mark,
      colour,
      light: false,
      cells: [v.name(race.candidates[leader.index].names), v.share(leader.total, total.valid)],
    });
  }
  const legend = [...colourOf].map(([index, { mark, colour }]) => ({
    mark,
    colour,
    light: false,
    label: `${v.name(race.candidates[index].names)} — ${v.count(led.get(index), v.t.mapRegionsLed)}`,
  }));
  const blank = [...byRegion.values()].filter((r) => r.colour === NO_DATA);
  if (blank.some((r) => r.mark === '—'))
    legend.push({ mark: '—', colour: NO_DATA, light: true, label: v.t.mapNoLeader });
  if (blank.some((r) => r.mark === ''))
    legend.push({ mark: '', colour: NO_DATA, light: true, label: v.t.mapNotHere });
  return { byRegion, legend, head: [v.t.region, v.t.mapLeaderCol, v.t.mapShareCol] };
}

function turnoutRows(v, regions) {
  const cast = (r) => r.castOnline + r.castPaper;
  const ratio = (r) => (r.roll > 0 ? cast(r) / r.roll : 0);
  // Five equal steps up to the highest turnout, rounded up to a whole per cent.
  const top = Math.max(0.01, Math.ceil(100 * Math.max(0, ...regions.map(ratio))) / 100);
  const step = top / TURNOUT_COLOURS.length;
  const bin = (x) => Math.min(TURNOUT_COLOURS.length - 1, Math.floor(x / step));
  const byRegion = new Map(
    regions.map((r) => {
      const b = bin(ratio(r));
      return [
        r.code,
        {
          mark: v.share(cast(r), r.roll),
          colour: TURNOUT_COLOURS[b],
          light: b < 3,
          cells: [v.share(cast(r), r.roll), `${v.num(cast(r))} / ${v.num(r.roll)}`],
        },
      ];
    }),
  );
  const legend = TURNOUT_COLOURS.map((colour, b) => ({
    mark: '',
    colour,
    light: b < 3,
    label: `${v.share(b * step, 1)} – ${v.share((b + 1) * step, 1)}`,
  }));
  return { byRegion, legend, head: [v.t.region, v.t.turnoutPct, v.t.mapBallotsCol] };
}
