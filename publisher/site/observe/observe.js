// The observers' page: signs in to /v1/observe/feed with a staff token and
// renders each pushed view (turnout per region and district, intake health,
// commission actions, report counts, the chain head) in Kazakh, Russian or
// English. Plain JS module, no build step. The token stays in this tab
// (sessionStorage) and is sent only as the socket's first message.

import { el } from '../dom.js';
import { formatDateTime, formatNumber, formatPercent } from '../web/format.js';
import { LANGS, STRINGS } from './i18n.js';

const $ = (id) => document.getElementById(id);
const state = { lang: 'kk', view: null, manifest: null, socket: null, retryMs: 1000, refused: null };

function pickLang() {
  const saved = localStorage.getItem('lang');
  if (LANGS.includes(saved)) return saved;
  const nav = (navigator.language || 'kk').slice(0, 2);
  return LANGS.includes(nav) ? nav : 'kk';
}

const t = () => STRINGS[state.lang];
// Through web/format.js, not Intl: browsers without Kazakh data would show "800,000" and "2026 M12 4".
const num = (n) => formatNumber(state.lang, n);
const time = (when) => formatDateTime(state.lang, when, { seconds: true });
const name = (names, fallback) => (names ? (names[state.lang] ?? names.en) : fallback);

function applyStrings() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t()[node.dataset.i18n];
  for (const b of document.querySelectorAll('#langs button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  }
  document.title = `${t().title} — Saylau`;
}

function regionNames(code) {
  return state.manifest?.regions?.find((r) => r.code === code)?.names;
}
function districtNames(id) {
  return state.manifest?.districts?.find((d) => d.id === id)?.names;
}
function candidateName(race, candidate) {
  const r = state.manifest?.races?.find((x) => x.id === race);
  return name(r?.candidates?.find((c) => c.id === candidate)?.names, candidate);
}

function renderPhase(v) {
  const phase = $('phase');
  phase.className = `phase ${v.phase}`;
  phase.textContent = t().phase[v.phase] ?? v.phase;
  $('pause').textContent = v.pause
    ? t().pause(v.pause.reason, v.pause.until ? time(v.pause.until) : null)
    : '';
  $('closes').textContent = t().closes(time(v.closes));
  $('updated').textContent = t().updated(time(v.at));
}

function row(cls, header, counts) {
  return el(
    'tr',
    { class: cls },
    el('th', { scope: 'row' }, header),
    el('td', {}, num(counts.issuedOnline)),
    el('td', {}, num(counts.paperCheckIns)),
    el('td', {}, num(counts.castOnline)),
  );
}

function renderTurnout(v) {
  const { total, regions } = v.turnout;
  $('turnout-total').textContent = t().turnoutTotal(
    num(total.castOnline),
    num(total.issuedOnline),
    num(total.paperCheckIns),
    num(total.roll),
  );
  const head = $('turnout-table').tHead;
  head.replaceChildren(
    el(
      'tr',
      {},
      el('th', { scope: 'col' }, t().area),
      el('th', { scope: 'col' }, t().issuedOnline),
      el('th', { scope: 'col' }, t().paperCheckIns),
      el('th', { scope: 'col' }, t().castOnline),
    ),
  );
  const rows = [];
  for (const r of regions) {
    rows.push(row('region', name(regionNames(r.code), r.code), r));
    for (const d of r.districts) rows.push(row('district', name(districtNames(d.id), d.id), d));
  }
  $('turnout-table').tBodies[0].replaceChildren(...rows);
}

function renderIngest(v) {
  const h = v.ingest;
  $('ingest').textContent = h.processes > 0 ? t().ingest(num(h.processes)) : t().ingestNone;
  const pct = (n) => formatPercent(state.lang, h.processes > 0 ? n / h.processes : 0, 0);
  $('ingest-shares').replaceChildren(
    ...['accepting', 'paused', 'overloaded'].map((k) =>
      el('li', { class: k }, el('strong', {}, pct(h[k])), `${t().shares[k]} (${num(h[k])})`),
    ),
  );
}

function renderActions(v) {
  $('actions-none').hidden = v.actions.length > 0;
  const items = [...v.actions].reverse().map((a) => {
    const what = [t().action[a.type] ?? a.type];
    if (a.candidate) what.push(`: ${candidateName(a.race, a.candidate)}`);
    const li = el(
      'li',
      { 'data-id': a.id },
      el('span', { class: 'what' }, what.join('')),
      el('span', { class: 'who' }, t().by(a.by, time(a.at))),
      el('span', { class: 'why' }, t().reason(a.detail)),
    );
    if (a.reference) li.append(el('span', { class: 'ref' }, t().reference(a.reference)));
    if (a.until) li.append(el('span', { class: 'ref' }, t().until(time(a.until))));
    return li;
  });
  $('actions').replaceChildren(...items);
}

const STATUSES = ['open', 'investigating', 'upheld', 'dismissed'];

function renderReports(v) {
  const categories = Object.keys(v.reports);
  $('reports-none').hidden = categories.length > 0;
  $('reports-table').hidden = categories.length === 0;
  $('reports-table').tHead.replaceChildren(
    el(
      'tr',
      {},
      el('th', { scope: 'col' }, t().category),
      ...STATUSES.map((s) => el('th', { scope: 'col' }, t().statuses[s])),
    ),
  );
  $('reports-table').tBodies[0].replaceChildren(
    ...categories.map((c) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, t().categories[c] ?? c),
        ...STATUSES.map((s) => el('td', {}, num(v.reports[c][s] ?? 0))),
      ),
    ),
  );
}

function renderChain(v) {
  const c = v.chain;
  $('chain').textContent = c.seq > 0 ? t().chain(c.seq, time(c.takenAt)) : t().chainNone;
  $('chain-hash').textContent = c.hash ?? '';
}

function render() {
  applyStrings();
  const v = state.view;
  $('election-name').textContent = name(state.manifest?.names, v?.election ?? '');
  if (state.refused)
    $('signin-error').textContent = t().refused[state.refused] ?? t().refused.other(state.refused);
  if (!v) return;
  renderPhase(v);
  renderTurnout(v);
  renderIngest(v);
  renderActions(v);
  renderReports(v);
  renderChain(v);
}

async function loadManifest(election) {
  if (state.manifest?.id === election) return;
  const res = await fetch(`../elections/${encodeURIComponent(election)}.json`);
  if (res.ok) state.manifest = await res.json();
}

function showSignedIn(signedIn) {
  $('signin').hidden = signedIn;
  $('view').hidden = !signedIn;
}

function connect(token) {
  state.refused = null;
  $('signin-error').textContent = '';
  $('status').textContent = t().connecting;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/v1/observe/feed`);
  state.socket = socket;
  socket.addEventListener('open', () => socket.send(JSON.stringify({ token })));
  socket.addEventListener('message', async (event) => {
    const first = state.view === null;
    state.view = JSON.parse(event.data);
    state.retryMs = 1000;
    if (first || state.manifest === null) await loadManifest(state.view.election).catch(() => undefined);
    showSignedIn(true);
    $('status').textContent = t().connected;
    render();
  });
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return; // signed out, or replaced
    state.socket = null;
    if (event.code === 4401 || event.code === 4403) {
      sessionStorage.removeItem('observerToken');
      state.refused = event.reason || 'unauthorized';
      state.view = null;
      showSignedIn(false);
      $('status').textContent = '';
      render();
      $('token').focus();
      return;
    }
    $('status').textContent = t().reconnecting;
    setTimeout(() => {
      const saved = sessionStorage.getItem('observerToken');
      if (saved && state.socket === null) connect(saved);
    }, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 30_000);
  });
}

function signOut() {
  sessionStorage.removeItem('observerToken');
  const socket = state.socket;
  state.socket = null;
  socket?.close();
  state.view = null;
  showSignedIn(false);
  $('status').textContent = '';
  render();
  $('token').focus();
}

function init() {
  state.lang = pickLang();
  for (const b of document.querySelectorAll('#langs button')) {
    b.addEventListener('click', () => {
      state.lang = b.dataset.lang;
      localStorage.setItem('lang', state.lang);
      render();
    });
  }
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    sessionStorage.setItem('observerToken', token);
    $('token').value = '';
    connect(token);
  });
  $('signout').addEventListener('click', signOut);
  render();
  const saved = sessionStorage.getItem('observerToken');
  if (saved) connect(saved);
}

init();
