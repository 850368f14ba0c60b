/**
 * Painting the steps. Every view is a pure function of its arguments and the
 * current language, so switching language repaints the step the voter is on
 * without touching the request in flight. Each view has one `h1` that takes
 * the focus; changes of state are also spoken through the `#live` region.
 */

import { groupReceiptCode } from '../../../common/web/receipt-code.js';
import type { ApiCode } from './api.js';
import { announce, byId, h, show } from './dom.js';
import { glossaryLink, paintGlossary } from './glossary.js';
import { dateTime, lang, nameOf, t } from './i18n.js';
import type { LiveStatus } from './live.js';
import type { DistrictSlice, ElectionSummary, Race } from './manifest.js';
import type { Receipt } from './persist.js';
import type { Waiting } from './retry.js';
import { type About, type ElectionFacts, helpContact, paintTrust } from './trust.js';
import { waitingPanel } from './waiting.js';

const main = () => byId('main');

export function paintChrome(summary: ElectionFacts | null): void {
  document.title = summary === null ? t('app.title') : `${nameOf(summary.names)} — ${t('app.title')}`;
  byId('skip').textContent = t('app.skip');
  byId('langs').setAttribute('aria-label', t('app.language'));
  byId('election-name').textContent = summary === null ? t('app.title') : nameOf(summary.names);
  for (const button of document.querySelectorAll<HTMLButtonElement>('#langs button')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang()));
  }
  paintTrust(summary);
  paintGlossary();
}

/**
 * The commission's word above every step: paused (why, and until when if
 * said), closed, not open yet; nothing while voting runs. `#banner` is a
 * status region, so a change is read out without moving the voter's focus.
 */
export function paintBanner(status: LiveStatus | null): void {
  const banner = byId('banner');
  const parts: HTMLElement[] = [];
  if (status?.phase === 'paused' && status.pause !== null) {
    parts.push(
      h('p', { class: 'banner-title' }, t('banner.paused')),
      h('p', {}, t('banner.reason', { reason: status.pause.reason })),
      h(
        'p',
        {},
        status.pause.until === null
          ? t('banner.untilUnknown')
          : t('banner.until', { time: dateTime(status.pause.until) }),
      ),
    );
  } else if (status?.phase === 'closed') {
    parts.push(h('p', { class: 'banner-title' }, t('banner.closed')));
  } else if (status?.phase === 'scheduled') {
    parts.push(h('p', { class: 'banner-title' }, t('banner.scheduled', { time: dateTime(status.opens) })));
  }
  banner.className = parts.length === 0 ? '' : `banner ${status?.phase ?? ''}`;
  banner.replaceChildren(...parts);
}

/** A step that is waiting on the server (connecting, issuing, casting). */
export function paintWorking(
  step: 'connecting' | 'preparing' | 'issuing' | 'casting',
  w: Waiting | null,
): void {
  const heading = h('h1', {}, t(`work.${step}`));
  const panel = waitingPanel(w);
  const root = main();
  // While retrying, keep focus where it is: only the first paint of a step moves it.
  if (root.dataset.step === step) {
    root.replaceChildren(heading, h('p', { class: 'busy' }, t('work.wait')), panel ?? '');
    return;
  }
  root.dataset.step = step;
  show(root, heading, h('p', { class: 'busy' }, t('work.wait')), panel);
  announce(t(`work.${step}`));
}

function leaveStep(): void {
  delete main().dataset.step;
}

export interface SignInOptions {
  readonly devLogin: boolean;
  readonly identityProviderUrl: string;
  readonly members: readonly { memberId: string; district: string }[] | null;
  readonly notice: string | null;
  readonly onDevLogin: (memberId: string) => void;
  readonly onProvider: () => void;
  readonly summary: ElectionSummary;
}

export function paintSignIn(o: SignInOptions): void {
  leaveStep();
  const parts: (HTMLElement | null)[] = [h('h1', {}, t('signin.title')), h('p', {}, t('signin.intro'))];
  if (o.notice !== null) parts.push(h('p', { class: 'notice', role: 'alert' }, t(o.notice)));
  if (o.devLogin) {
    const select = h('select', { id: 'member', name: 'member', required: true });
    for (const m of o.members ?? []) {
      const district = o.summary.districts.find((d) => d.id === m.district);
      select.append(
        h(
          'option',
          { value: m.memberId },
          `${m.memberId} — ${district ? nameOf(district.names) : m.district}`,
        ),
      );
    }
    const form = h(
      'form',
      { class: 'card' },
      h('p', { class: 'hint' }, t('signin.devIntro')),
      h('label', { for: 'member' }, t('signin.member')),
      select,
      h('button', { type: 'submit', class: 'primary' }, t('signin.dev')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (select.value !== '') o.onDevLogin(select.value);
    });
    parts.push(form);
  } else if (o.identityProviderUrl !== '') {
    const button = h('button', { type: 'button', class: 'primary' }, t('signin.provider'));
    button.addEventListener('click', o.onProvider);
    parts.push(button);
  } else {
    parts.push(h('p', { class: 'notice', role: 'alert' }, t('signin.unconfigured')));
  }
  parts.push(glossaryLink());
  show(main(), ...parts);
}

export interface BallotOptions {
  readonly slice: DistrictSlice;
  readonly districtName: string;
  readonly races: readonly Race[];
  readonly draft: Map<string, Set<string>>;
  /** A notice above the ballot (e.g. why it came back), or null. */
  readonly notice: string | null;
  /** After every mark made or cleared: the marks are stored then, not when the page is left. */
  readonly onMark: () => void;
  readonly onReview: () => void;
}

/** A candidate no longer standing: still listed (voters look for them), disabled, with why. */
function notStanding(race: Race, c: Race['candidates'][number], party: string): HTMLElement {
  const id = `c-${race.id}-${c.id}`;
  const whyId = `${id}-why`;
  return h(
    'li',
    { class: 'not-standing' },
    h('input', { type: 'checkbox', id, disabled: true, 'aria-describedby': whyId }),
    h(
      'label',
      { for: id },
      h('span', { class: 'name' }, nameOf(c.names)),
      party && h('span', { class: 'party' }, party),
      h('span', { class: 'why', id: whyId }, t(`ballot.notStanding.${c.status}`)),
    ),
  );
}

function partyName(slice: DistrictSlice, id: string): string {
  const branch = slice.partyBranches.find((b) => b.id === id);
  return branch === undefined ? '' : nameOf(branch.names);
}

/** Checkboxes per race; when a race has `maxChoices` marks the others are disabled until one is cleared. */
export function paintBallot(o: BallotOptions): void {
  leaveStep();
  const form = h('form', { class: 'ballot', novalidate: true });
  for (const race of o.races) {
    const chosen = o.draft.get(race.id) ?? new Set<string>();
    o.draft.set(race.id, chosen);
    const counterId = `count-${race.id}`;
    const hintId = `hint-${race.id}`;
    const counter = h('p', { id: counterId, class: 'counter', 'aria-live': 'polite' });
    const boxes: HTMLInputElement[] = [];
    const update = (changed: boolean) => {
      const full = chosen.size >= race.maxChoices;
      for (const box of boxes) box.disabled = full && !box.checked;
      counter.textContent = t('ballot.chosen', { n: chosen.size, max: race.maxChoices });
      if (changed && full && race.maxChoices > 1) announce(t('ballot.full', { n: race.maxChoices }));
    };
    const list = h('ul', { class: 'candidates' });
    for (const c of race.candidates) {
      if (c.status !== 'active') {
        list.append(notStanding(race, c, partyName(o.slice, c.partyBranch)));
        continue;
      }
      const id = `c-${race.id}-${c.id}`;
      const box = h('input', {
        type: 'checkbox',
        id,
        name: race.id,
        value: c.id,
        checked: chosen.has(c.id),
        'aria-describedby': `${hintId} ${counterId}`,
      });
      box.addEventListener('change', () => {
        if (box.checked) {
          if (chosen.size >= race.maxChoices) {
            box.checked = false;
            return;
          }
          chosen.add(c.id);
        } else chosen.delete(c.id);
        update(true);
        o.onMark();
      });
      boxes.push(box);
      const party = partyName(o.slice, c.partyBranch);
      list.append(
        h(
          'li',
          {},
          box,
          h(
            'label',
            { for: id },
            h('span', { class: 'name' }, nameOf(c.names)),
            party && h('span', { class: 'party' }, party),
          ),
        ),
      );
    }
    form.append(
      h(
        'fieldset',
        {},
        h('legend', {}, nameOf(race.names)),
        h('p', { id: hintId, class: 'hint' }, t('ballot.maxChoices', { n: race.maxChoices })),
        list,
        counter,
      ),
    );
    update(false);
  }
  form.append(
    h('p', { class: 'hint' }, t('ballot.blankAllowed')),
    h('button', { type: 'submit', class: 'primary' }, t('ballot.review')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    o.onReview();
  });
  show(
    main(),
    h('h1', {}, t('ballot.title', { district: o.districtName })),
    o.notice !== null ? h('p', { class: 'notice', role: 'alert' }, t(o.notice)) : null,
    h('p', {}, t('ballot.intro')),
    form,
  );
}

export interface ReviewOptions {
  readonly races: readonly Race[];
  readonly draft: Map<string, Set<string>>;
  readonly onChange: () => void;
  readonly onCast: () => void;
}

export function paintReview(o: ReviewOptions): void {
  leaveStep();
  const list = h('dl', { class: 'review' });
  for (const race of o.races) {
    const chosen = o.draft.get(race.id) ?? new Set<string>();
    const names = race.candidates.filter((c) => chosen.has(c.id)).map((c) => nameOf(c.names));
    list.append(
      h('dt', {}, nameOf(race.names)),
      h('dd', {}, names.length > 0 ? names.join(', ') : t('review.blank')),
    );
  }
  const change = h('button', { type: 'button' }, t('review.change'));
  const cast = h('button', { type: 'button', class: 'primary' }, t('review.cast'));
  change.addEventListener('click', o.onChange);
  cast.addEventListener('click', () => {
    cast.disabled = true;
    o.onCast();
  });
  show(
    main(),
    h('h1', {}, t('review.title')),
    list,
    h('p', { class: 'notice' }, t('review.final')),
    h('div', { class: 'actions' }, change, cast),
  );
}

export interface ReceiptOptions {
  readonly receipt: Receipt;
  readonly electionName: string;
  readonly resultsUrl: string;
  /** How often the results site publishes (the publisher's real interval). */
  readonly intervalSec: number;
  readonly note: string | null;
  readonly status: 'checking' | 'accepted' | 'counted' | 'pending' | 'unknown';
  readonly qr: SVGSVGElement | null;
  readonly onCheck: () => void;
  readonly onSave: () => void;
  readonly onFinish: () => void;
}

/** "every minute", "every 30 minutes", "every 45 seconds", with the language's plural forms. */
export function every(sec: number): string {
  if (sec % 60 !== 0) return t('every.seconds', { n: sec });
  return sec === 60 ? t('every.minute') : t('every.minutes', { n: sec / 60 });
}

/**
 * The receipt code in groups of four, each kept on one line (`.group` is
 * `white-space: nowrap`); the spaces between them are where a narrow screen
 * may break, so no line ever ends in a dangling separator.
 */
function receiptCode(ballotId: string): HTMLElement {
  const code = h('p', { class: 'code', id: 'receipt-code' });
  groupReceiptCode(ballotId).forEach((group, i) => {
    if (i > 0) code.append(' ');
    code.append(h('span', { class: 'group' }, group));
  });
  return code;
}

/** The lines of the receipt file (`Save`): what it is, for which election, when, and how to check it. */
export function receiptText(o: Pick<ReceiptOptions, 'receipt' | 'electionName' | 'resultsUrl'>): string {
  const lines = [
    t('receipt.title'),
    '',
    t('receipt.file.election', { name: o.electionName }),
    o.receipt.recordedAt === undefined
      ? null
      : t('receipt.file.recorded', { time: dateTime(o.receipt.recordedAt) }),
    t('receipt.file.code', { code: groupReceiptCode(o.receipt.ballotId).join(' ') }),
    '',
    t('receipt.file.check', { url: o.resultsUrl }),
  ];
  return `${lines.filter((line) => line !== null).join('\r\n')}\r\n`;
}

/** A GOV.UK-style confirmation panel (heading, election, time, code), then what to do with the code. */
export function paintReceipt(o: ReceiptOptions): void {
  leaveStep();
  const check = h('button', { type: 'button' }, t('receipt.check'));
  check.addEventListener('click', o.onCheck);
  const print = h('button', { type: 'button', id: 'receipt-print' }, t('receipt.print'));
  print.addEventListener('click', () => window.print());
  const save = h('button', { type: 'button', id: 'receipt-save' }, t('receipt.save'));
  save.addEventListener('click', o.onSave);
  const finish = h('button', { type: 'button' }, t('receipt.finish'));
  finish.addEventListener('click', o.onFinish);
  show(
    main(),
    h(
      'div',
      { class: 'panel', id: 'receipt-panel' },
      h('h1', {}, t('receipt.title')),
      h('p', { class: 'panel-election' }, o.electionName),
      o.receipt.recordedAt === undefined
        ? null
        : h('p', { id: 'receipt-time' }, t('receipt.recordedAt', { time: dateTime(o.receipt.recordedAt) })),
      h('p', { class: 'panel-label' }, t('receipt.codeHeading')),
      receiptCode(o.receipt.ballotId),
    ),
    o.note !== null ? h('p', { class: 'notice' }, t(o.note)) : null,
    h('p', {}, t('receipt.intro')),
    h('div', { class: 'actions keep' }, print, save),
    h(
      'p',
      { id: 'receipt-status', role: 'status', class: `status ${o.status}` },
      t(`receipt.status.${o.status}`),
    ),
    h(
      'figure',
      { class: 'qr-box' },
      h('div', { id: 'qr-slot' }, o.qr),
      h('figcaption', {}, t('receipt.qrCaption')),
    ),
    h('h2', {}, t('receipt.nextTitle')),
    h(
      'ol',
      { class: 'next' },
      h('li', { id: 'receipt-interval' }, t('receipt.published', { every: every(o.intervalSec) })),
      h('li', {}, t('receipt.next2')),
      h('li', {}, t('receipt.next3')),
    ),
    h('p', {}, h('a', { href: o.resultsUrl, id: 'results-link' }, t('receipt.link'))),
    h('div', { class: 'actions' }, check, finish),
  );
}

export interface AnotherDeviceOptions {
  readonly about: About | undefined;
  readonly resultsUrl: string;
  readonly onRestart: () => void;
}

/**
 * `credential_already_issued` with nothing stored here: the credential lives
 * in the browser that asked for it. Say what to do and whom to call; no
 * promise of a paper ballot (issued online ⇒ online only, docs/paper.md).
 */
export function paintAnotherDevice(o: AnotherDeviceOptions): void {
  leaveStep();
  const restart = h('button', { type: 'button' }, t('problem.restart'));
  restart.addEventListener('click', o.onRestart);
  const contact = helpContact(o.about);
  show(
    main(),
    h('h1', {}, t('another.title')),
    h('p', { id: 'problem' }, t('another.intro')),
    h(
      'ol',
      { class: 'next', id: 'another-steps' },
      h('li', {}, t('another.finishThere')),
      h('li', {}, t('another.voted'), ' ', h('a', { href: o.resultsUrl }, t('problem.results'))),
      h(
        'li',
        {},
        t(contact.length > 0 ? 'another.helpDesk' : 'another.helpDeskUnknown'),
        contact.length > 0 ? h('div', { class: 'card help', id: 'another-help' }, ...contact) : null,
      ),
    ),
    h('p', { class: 'notice' }, t('another.online')),
    h('div', { class: 'actions' }, restart),
  );
}

export interface ProblemOptions {
  readonly code: ApiCode;
  readonly resultsUrl: string;
  readonly onRestart: () => void;
}

export function paintProblem(o: ProblemOptions): void {
  leaveStep();
  const restart = h('button', { type: 'button', class: 'primary' }, t('problem.restart'));
  restart.addEventListener('click', o.onRestart);
  show(
    main(),
    h('h1', {}, t(`error.${o.code}.title`)),
    h('p', { role: 'alert', id: 'problem' }, t(`error.${o.code}.text`)),
    h('div', { class: 'actions' }, restart, h('a', { href: o.resultsUrl }, t('problem.results'))),
  );
}
