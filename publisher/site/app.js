// The results site: reads latest.json, live.json and the files they name,
// renders them in Kazakh, Russian or English, and lets anyone check a
// receipt or verify the whole chain. Plain JS modules, no build step.

import { el } from './dom.js';
import { renderGlossary } from './glossary-view.js';
import { LANGS, STRINGS } from './i18n.js';
import { renderRacePicker } from './race-picker.js';
import { renderRaceRegions, renderTurnoutRegions } from './region-cards.js';
import { renderChain } from './snapshot-chain.js';
import { labelCells } from './stack-table.js';
import { renderMap } from './tile-map.js';
import { verifyChain } from './verify.js';
import { viewContext } from './view-context.js';
import { formatDateTime, formatNumber, formatPercent } from './web/format.js';
import { normaliseReceiptCode } from './web/receipt-code.js';

const $ = (id) => document.getElementById(id);
const state = {
  lang: 'kk',
  latest: null,
  live: null,
  race: null,
  codes: null,
  manifest: null,
  // The newest declared round (final/index.json) and its final snapshot.
  final: null,
  // snapshots/index.json (absent before results-data's publisher: the list stays hidden).
  index: null,
  raceQuery: '',
  mapMode: 'leader',
  chainShown: 10,
};

function pickLang() {
  const saved = localStorage.getItem('lang');
  if (LANGS.includes(saved)) return saved;
  const nav = (navigator.language || 'kk').slice(0, 2);
  return LANGS.includes(nav) ? nav : 'kk';
}

const t = () => STRINGS[state.lang];
// Through web/format.js, not Intl: browsers without Kazakh data would show "800,000" and "2026 M12 4".
const num = (n) => formatNumber(state.lang, n);
const pct = (a, b) => formatPercent(state.lang, b > 0 ? a / b : 0);
const time = (iso) => formatDateTime(state.lang, iso);
const name = (names) => names[state.lang] ?? names.en;
const view = () => viewContext(state.lang, t());

async function getJson(path, fresh = false) {
  const res = await fetch(path, fresh ? { cache: 'no-cache' } : {});
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

async function getText(path) {
  const res = await fetch(path);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.text();
}

function applyStrings() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t()[node.dataset.i18n];
  for (const b of document.querySelectorAll('#langs button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  }
}

function renderHeader() {
  const s = state.latest;
  $('title').textContent = s ? name(s.election.names) : 'Saylau';
  document.title = $('title').textContent;
  $('status').textContent = s ? t().snapshot(s.seq, time(s.takenAt)) : t().noResults;
  renderSummary();
}

/** The header's figures: precincts reporting, ballots counted, when, and when next. */
function renderSummary() {
  const s = state.latest;
  $('summary').hidden = s === null;
  if (s === null) return;
  const v = view();
  const { precincts, reported } = s.reporting;
  $('sum-reporting').textContent =
    precincts === 0 ? '—' : `${v.share(reported, precincts)} (${v.num(reported)} / ${v.num(precincts)})`;
  const tt = s.turnout.total;
  $('sum-counted').textContent = v.num(tt.castOnline + tt.castPaper);
  $('sum-updated').textContent = v.time(s.takenAt);
  const next = nextSnapshotAt();
  $('sum-next-item').hidden = next === null;
  if (next !== null) $('sum-next').textContent = next < Date.now() ? t().sumNextDue : v.time(next);
}

/** When the publisher next tries a snapshot: live.json says (v5 publishers); else taken + interval; else unknown. */
function nextSnapshotAt() {
  const at = state.live?.nextSnapshotAt;
  if (at) return Date.parse(at);
  const interval = state.latest?.election.snapshotIntervalSec;
  return interval ? Date.parse(state.latest.takenAt) + interval * 1000 : null;
}

function renderLive() {
  const l = state.live;
  if (!l) {
    $('live-text').textContent = t().liveNone;
    return;
  }
  const issued = l.total.issuedOnline + l.total.issuedPaper;
  $('live-text').textContent = t().live(
    num(l.total.castOnline),
    num(issued),
    num(l.total.roll),
    pct(l.total.castOnline, l.total.roll),
    time(l.at),
  );
  const interval = state.latest?.election.snapshotIntervalSec;
  const period = (sec) =>
    sec % 60 === 0 ? view().count(sec / 60, t().minutes) : view().count(sec, t().seconds);
  $('live-why').textContent = interval ? t().liveWhy(period(interval)) : t().liveWhyNoInterval;
  renderSummary();
}

function renderRaceSelect() {
  if (!state.latest.races.some((r) => r.id === state.race)) state.race = state.latest.races[0]?.id ?? null;
  renderRacePicker(
    { select: $('race-select'), count: $('race-count') },
    view(),
    state.latest.races,
    state.latest.turnout.regions,
    state.race,
    state.raceQuery,
  );
}

function renderRace() {
  const race = state.latest.races.find((r) => r.id === state.race);
  if (!race) return;
  $('race-h').textContent = name(race.names);
  $('race-meta').textContent = t().seats(race.seats, race.maxChoices);
  const max = Math.max(1, ...race.total.candidates.map((c) => c.total));
  const items = race.total.candidates.map((count, i) => {
    const c = race.candidates[i];
    const badge = c.status === 'active' ? '' : t()[c.status];
    const fill = el('div', { class: 'fill' });
    fill.style.width = `${(100 * count.total) / max}%`;
    const share = c.status === 'removed' ? '' : pct(count.total, race.total.valid);
    const nameBox = el('div', { class: 'name' }, el('span', {}, name(c.names)));
    if (badge) nameBox.append(el('span', { class: 'badge' }, badge));
    nameBox.append(el('small', {}, name(c.partyBranch)));
    return el(
      'li',
      { class: c.status, 'data-candidate': c.id },
      nameBox,
      el('div', { class: 'track', 'aria-hidden': 'true' }, fill),
      el(
        'div',
        { class: 'num' },
        el('strong', { 'data-total': '' }, num(count.total)),
        ` ${share}`,
        el(
          'small',
          { class: 'split' },
          `${t().online} ${num(count.online)} · ${t().paper} ${num(count.paper)}`,
        ),
      ),
    );
  });
  $('candidates').replaceChildren(...items);
  $('race-totals').textContent = t().valid(num(race.total.valid), race.total.excluded);
  renderRaceRegions($('region-cards'), view(), race, state.latest.turnout.regions);
  renderMapSection();
}

function renderMapSection() {
  const race = state.latest.races.find((r) => r.id === state.race);
  if (!race) return;
  const nodes = {
    grid: $('map-grid'),
    legend: $('map-legend'),
    caption: $('map-caption'),
    table: $('map-table'),
    tableCaption: $('map-table-caption'),
  };
  renderMap(nodes, view(), state.mapMode, race, state.latest.turnout.regions);
}

function renderTurnout() {
  const tt = state.latest.turnout;
  const cast = (r) => r.castOnline + r.castPaper;
  $('turnout-total').textContent = t().turnoutTotal(
    num(cast(tt.total)),
    num(tt.total.roll),
    pct(cast(tt.total), tt.total.roll),
    num(state.latest.reporting.reported),
    num(state.latest.reporting.precincts),
  );
  $('turnout-help').textContent = tt.districts === undefined ? t().turnoutOpenHelp : t().turnoutDistrictsHelp;
  renderTurnoutRegions($('turnout-regions'), view(), tt);
}

/** Past snapshots and their hashes, newest first (hidden without snapshots/index.json). */
function renderChainSection() {
  $('chain-section').hidden = state.index === null;
  if (state.index === null) return;
  $('chain-more').hidden = !renderChain($('chain'), view(), state.index, state.chainShown);
}

/** Organiser, help contact and privacy note: snapshot v5 `election.about` (v4 has none). */
function renderAbout() {
  const about = state.latest?.election.about;
  $('about').hidden = !about;
  if (!about) return;
  $('about-organiser').textContent = name(about.organiser);
  const contacts = [];
  if (about.help.phone) contacts.push(el('a', { href: `tel:${about.help.phone}` }, about.help.phone));
  if (about.help.email) contacts.push(el('a', { href: `mailto:${about.help.email}` }, about.help.email));
  if (about.help.url) contacts.push(el('a', { href: about.help.url, rel: 'noopener' }, about.help.url));
  $('about-help').replaceChildren(name(about.help.names), ...contacts.flatMap((a) => [el('br'), a]));
  $('about-privacy').textContent = name(about.privacy);
  $('about-closes').textContent = state.latest.election.closes ? time(state.latest.election.closes) : '—';
}

/** v3 snapshots list every paper precinct's latest protocol (v2 ones do not: the section stays hidden). */
function renderPrecincts() {
  const list = state.latest.precincts;
  $('precincts-section').hidden = list === undefined;
  if (list === undefined) return;
  const cols = ['precinct', 'district', 'status', 'version', 'issuedCheckIns', 'notes'];
  $('precincts-table').tHead.replaceChildren(
    el('tr', {}, ...cols.map((c) => el('th', { scope: 'col' }, t()[c]))),
  );
  $('precincts-table').tBodies[0].replaceChildren(
    ...list.map((p) => {
      const notes = [];
      if (p.status === 'rejected') notes.push(el('li', { class: 'bad' }, t().rejectedBecause(p.rejection)));
      if (p.reason !== '') notes.push(el('li', {}, t().correctedBecause(p.reason)));
      for (const d of p.dissents) notes.push(el('li', {}, t().dissent(d.version, d.author, d.text)));
      return el(
        'tr',
        { 'data-precinct': p.id, 'data-status': p.status },
        el('th', { scope: 'row' }, p.id),
        el('td', {}, p.district),
        el('td', {}, t().precinctStatus[p.status]),
        el('td', {}, p.version === 0 ? '—' : String(p.version)),
        el('td', {}, p.status === 'missing' ? num(p.checkIns) : `${num(p.issued)} / ${num(p.checkIns)}`),
        el('td', {}, notes.length === 0 ? '' : el('ul', {}, ...notes)),
      );
    }),
  );
}

/** The declared result: winners per race (ties flagged) and each district's signed protocol. */
function renderFinal() {
  const f = state.final;
  $('final-section').hidden = f === null;
  if (f === null) return;
  const s = f.snapshot;
  const d = s.final;
  const raceNames = new Map(s.races.map((r) => [r.id, r]));
  const candidateName = (race, id) => {
    const c = raceNames.get(race)?.candidates.find((x) => x.id === id);
    return c ? name(c.names) : id;
  };
  const votes = (race, id) => raceNames.get(race)?.total.candidates.find((x) => x.id === id)?.total ?? 0;
  $('final-declared').textContent = t().finalDeclared(
    d.round,
    d.by,
    time(new Date(d.at).toISOString()),
    d.reason,
    d.reference,
    s.seq,
  );
  const changes = d.changes ?? [];
  $('final-changes-summary').hidden = d.changes === null;
  $('final-changes-summary').textContent = t().finalChanges(d.round - 1, changes.length);
  $('final-changes').hidden = changes.length === 0;
  $('final-changes').replaceChildren(
    ...changes.map((c) =>
      el(
        'li',
        {},
        t().changeLine(
          name(raceNames.get(c.race)?.names ?? { kk: c.race, ru: c.race, en: c.race }),
          c.district,
          candidateName(c.race, c.candidate),
          c.what,
          c.what === 'votes' ? num(c.from) : (t().changeValue[c.from] ?? c.from),
          c.what === 'votes' ? num(c.to) : (t().changeValue[c.to] ?? c.to),
        ),
      ),
    ),
  );
  $('winners-table').tHead.replaceChildren(
    el(
      'tr',
      {},
      el('th', { scope: 'col' }, t().raceCol),
      el('th', { scope: 'col', class: 'names' }, t().winnersCol),
    ),
  );
  $('winners-table').tBodies[0].replaceChildren(
    ...d.winners.map((w) => {
      const cell = el('td', { class: 'names' });
      const list = el(
        'ul',
        { class: 'winners' },
        ...w.winners.map((id) =>
          el('li', { 'data-winner': id }, `${candidateName(w.race, id)} — ${num(votes(w.race, id))}`),
        ),
      );
      if (w.winners.length > 0) cell.append(list);
      if (w.tie !== null) {
        cell.append(
          el(
            'p',
            { class: 'tie', 'data-tie': w.tie.candidates.join(' ') },
            t().tie(num(w.tie.at), w.tie.candidates.map((id) => candidateName(w.race, id)).join(', ')),
          ),
        );
      }
      if (cell.childNodes.length === 0) cell.append('—');
      return el(
        'tr',
        { 'data-race': w.race },
        el(
          'th',
          { scope: 'row' },
          name(raceNames.get(w.race)?.names ?? { kk: w.race, ru: w.race, en: w.race }),
          el('small', { class: 'seats' }, `${t().seatsCol}: ${num(w.seats)}`),
        ),
        cell,
      );
    }),
  );
  $('protocols-table').tHead.replaceChildren(
    el(
      'tr',
      {},
      el('th', { scope: 'col' }, t().district),
      el('th', { scope: 'col' }, t().protocolJson),
      el('th', { scope: 'col' }, t().protocolPrint),
    ),
  );
  $('protocols-table').tBodies[0].replaceChildren(
    ...f.round.districts.map((id) => {
      const base = `final/${f.round.round}/${id}`;
      return el(
        'tr',
        { 'data-district': id },
        el('th', { scope: 'row' }, id),
        el('td', {}, el('a', { href: `${base}.json`, download: `${id}.json` }, t().protocolJsonLink(id))),
        el(
          'td',
          {},
          el('a', { href: `${base}.html`, target: '_blank', rel: 'noopener' }, t().protocolPrintLink(id)),
        ),
      );
    }),
  );
}

/** The newest declared round and its snapshot (fetched once per round: published files never change). */
async function loadFinal() {
  const index = await getJson('final/index.json', true);
  const round = index?.rounds.at(-1) ?? null;
  if (round === null) return null;
  if (state.final?.round.round === round.round) return state.final;
  return { round, snapshot: await getJson(`snapshots/${round.seq}.json`) };
}

function renderDownloads() {
  const s = state.latest;
  $('dl-json').href = `snapshots/${s.seq}.json`;
  $('dl-json').textContent = `JSON (#${s.seq})`;
  $('dl-csv').href = `snapshots/${s.seq}.csv`;
  $('dl-csv').textContent = `CSV (#${s.seq})`;
  $('dl-codes').href = s.codes.file;
  $('dl-precincts').parentElement.hidden = s.precincts === undefined;
  $('dl-precincts').href = `snapshots/${s.seq}.precincts.csv`;
}

function render() {
  applyStrings();
  if (!$('receipt-error').hidden) $('receipt-error').textContent = t().receiptBad;
  renderGlossary($('glossary-list'), state.lang);
  renderHeader();
  renderLive();
  renderFinal();
  const has = state.latest !== null;
  for (const id of ['race-section', 'map-section', 'turnout-section', 'downloads']) $(id).hidden = !has;
  renderAbout();
  renderChainSection();
  if (!has) return;
  renderRaceSelect();
  renderRace();
  renderTurnout();
  renderPrecincts();
  labelCells($('precincts-table'));
  renderDownloads();
}

/** Our own message under the field, in the page's language (the browser's would be in its own). */
function showReceiptError(message) {
  const input = $('receipt-code');
  $('receipt-error').hidden = message === null;
  $('receipt-error').textContent = message ?? '';
  if (message === null) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
}

async function lookUp(event) {
  event?.preventDefault();
  const out = $('receipt-result');
  // Typed as shown (groups, lower case) or with look-alikes (0, 1, 8): common/web/receipt-code.js.
  const code = normaliseReceiptCode($('receipt-code').value);
  showReceiptError(code === null ? t().receiptBad : null);
  if (code === null) {
    out.className = '';
    out.textContent = '';
    $('receipt-code').focus();
    return;
  }
  if (state.latest === null) {
    out.className = 'bad';
    out.textContent = t().noResults;
    return;
  }
  out.className = '';
  out.textContent = t().loading;
  const s = state.latest;
  if (state.codes?.seq !== s.seq) {
    const text = (await getText(s.codes.file)) ?? '';
    state.codes = {
      seq: s.seq,
      list:
        text === ''
          ? []
          : text
              .slice(0, -1)
              .split('\n')
              .map((c) => c.toUpperCase()),
    };
  }
  const list = state.codes.list;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < code) lo = mid + 1;
    else hi = mid;
  }
  const found = list[lo] === code;
  out.className = found ? 'good' : 'bad';
  out.textContent = found ? t().receiptFound(s.seq) : t().receiptMissing(s.seq, time(s.takenAt));
}

async function runVerify() {
  const out = $('verify-result');
  const log = $('verify-log');
  log.replaceChildren();
  if (state.latest === null) {
    out.textContent = t().noResults;
    return;
  }
  out.className = '';
  out.textContent = t().verifying;
  const latest = await getJson('latest.json', true);
  const manifest = await getJson(`elections/${latest.election.id}.json`);
  // What this browser saw on its last good run: the pinned key and the head (verify.js).
  const stored = `saylau:verify:${latest.election.id}`;
  const trust = readTrust(stored);
  const result = await verifyChain({
    latest,
    spki: manifest?.snapshotKey?.spki ?? '',
    trust,
    fetchJson: (p) => getJson(p),
    fetchText: getText,
    onStep: (seq) => log.append(el('li', {}, t().verifyStep(seq))),
    onMerkle: () => log.append(el('li', {}, t().verifyMerkle)),
  }).catch((e) => ({ ok: false, problem: e.message }));
  out.className = result.ok ? 'good' : 'bad';
  if (!result.ok) {
    out.textContent = t().verifyFail(result.code ? t().problems[result.code](result) : result.problem);
    return;
  }
  localStorage.setItem(stored, JSON.stringify({ keyFingerprint: result.keyFingerprint, head: result.head }));
  log.append(
    el(
      'li',
      {},
      trust === null ? t().verifyPinned(result.keyFingerprint) : t().verifyKeyKept(result.keyFingerprint),
    ),
  );
  if (trust?.head && trust.head.seq < result.head.seq)
    log.append(el('li', {}, t().verifyGrew(trust.head.seq, result.head.seq)));
  out.textContent = t().verifyOk(result.count);
}

function readTrust(key) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** snapshots/index.json, or null where the publisher does not write one (before snapshot v5). */
async function loadIndex() {
  const index = await getJson('snapshots/index.json', true).catch(() => null);
  return Array.isArray(index?.snapshots) ? index : null;
}

async function refresh() {
  try {
    const [latest, live, final] = await Promise.all([
      getJson('latest.json', true),
      getJson('live.json', true),
      loadFinal(),
    ]);
    const changed = latest?.seq !== state.latest?.seq || final?.round.round !== state.final?.round.round;
    // The list of snapshots is rewritten after each one: read again only when a new one is out.
    if (latest !== null && latest.seq !== state.latest?.seq) state.index = await loadIndex();
    state.latest = latest;
    state.live = live;
    state.final = final;
    if (changed) render();
    else renderLive();
  } catch {
    $('status').textContent = t().loadFailed;
  }
}

function main() {
  state.lang = pickLang();
  applyStrings();
  $('status').textContent = t().loading;
  for (const b of document.querySelectorAll('#langs button')) {
    b.addEventListener('click', () => {
      state.lang = b.dataset.lang;
      localStorage.setItem('lang', state.lang);
      render();
    });
  }
  $('race-select').addEventListener('change', (e) => {
    if (e.target.value === '') return;
    state.race = e.target.value;
    renderRace();
  });
  $('race-search').addEventListener('input', (e) => {
    state.raceQuery = e.target.value;
    if (state.latest !== null) renderRaceSelect();
  });
  for (const radio of document.querySelectorAll('input[name="map-mode"]')) {
    radio.addEventListener('change', () => {
      state.mapMode = radio.value;
      if (state.latest !== null) renderMapSection();
    });
  }
  $('chain-more').addEventListener('click', () => {
    state.chainShown += 20;
    renderChainSection();
  });
  $('receipt-form').addEventListener('submit', lookUp);
  $('verify-button').addEventListener('click', runVerify);
  void refresh().then(render).then(lookUpLinkedReceipt);
  setInterval(refresh, 5000);
}

/**
 * The voter's receipt page links here as `#receipt=<code>`: fill the form and
 * check it at once, so following the link answers "was my ballot counted?".
 */
function lookUpLinkedReceipt() {
  const linked = /^#receipt=(.{1,100})$/.exec(location.hash);
  if (linked === null) return;
  let code = linked[1];
  try {
    code = decodeURIComponent(code);
  } catch {
    // Not percent-encoded: take it as it is; the check below says if it is not a code.
  }
  $('receipt-code').value = code;
  $('receipt').scrollIntoView();
  void lookUp();
}

main();
