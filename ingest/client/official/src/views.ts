/**
 * The official's two views: sign in, and the station (check-in form, the
 * big answer, the queue, this shift's log). The station view is built once
 * per language; answers and queue changes update its parts in place, so a
 * member id being typed (or scanned) is never disturbed, and the focus stays
 * in the member-id field. Answers are also spoken through `#live`.
 */
import { formatDateTime } from '../../../../common/web/format.js';
import { announce, byId, h, show } from '../../src/dom.js';
import { lang, nameOf, t } from '../../src/i18n.js';
import type { Names } from '../../src/manifest.js';
import type { Waiting } from '../../src/retry.js';
import { waitingPanel } from '../../src/waiting.js';
import type { Entry } from './queue.js';

const main = () => byId('main');

export function paintChrome(): void {
  document.title = t('app.title');
  byId('skip').textContent = t('app.skip');
  byId('langs').setAttribute('aria-label', t('app.language'));
  byId('app-name').textContent = t('app.title');
  for (const button of document.querySelectorAll<HTMLButtonElement>('#langs button')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang()));
  }
}

export function paintLoading(w: Waiting | null): void {
  show(main(), h('h2', {}, t('load.title')), waitingPanel(w));
}

export function paintProblem(): void {
  show(main(), h('h2', {}, t('problem.title')), h('p', { id: 'problem', role: 'alert' }, t('problem.text')));
}

export interface SignInOptions {
  /** A message key to show above the form (expired sign-in, a token that is not an official's). */
  readonly notice: string | null;
  readonly waiting: readonly { readonly precinct: string; readonly n: number }[];
  readonly onToken: (token: string) => void;
}

export function paintSignIn(o: SignInOptions): void {
  const field = h('textarea', {
    id: 'token',
    name: 'token',
    rows: 4,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'token-hint',
  });
  const form = h(
    'form',
    { class: 'card', id: 'signin' },
    h('label', { for: 'token' }, t('signin.token')),
    h('p', { id: 'token-hint', class: 'hint' }, t('signin.tokenHint')),
    field,
    h('button', { type: 'submit', class: 'primary' }, t('signin.submit')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = field.value.trim();
    if (token !== '') o.onToken(token);
  });
  // Enter signs in (a pasted token is one line); Shift+Enter is left to the field.
  field.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  show(
    main(),
    h('h2', {}, t('signin.title')),
    h('p', {}, t('signin.intro')),
    o.notice === null ? null : h('p', { class: 'notice', role: 'alert' }, t(o.notice)),
    ...o.waiting.map((w) =>
      h('p', { class: 'notice' }, t('signin.waiting', { n: w.n, precinct: w.precinct })),
    ),
    form,
  );
}

export interface Station {
  readonly precinct: string;
  readonly address: string | null;
  /** The district's id, and its names when the manifest has it. */
  readonly district: { readonly id: string; readonly names: Names | null } | null;
  readonly official: string;
}

const districtText = (d: Station['district']) =>
  d === null ? '—' : d.names === null ? d.id : `${nameOf(d.names)} (${d.id})`;

export interface StationOptions {
  readonly station: Station;
  readonly onCheckIn: (memberId: string) => 'queued' | 'invalid' | 'already_waiting';
  readonly onSignOut: () => void;
}

/** The station view; `typed` is what was in the member-id field before a language switch. */
export function paintStation(o: StationOptions, typed = ''): void {
  const s = o.station;
  const input = h('input', {
    id: 'member-id',
    name: 'memberId',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    maxlength: 20,
    required: true,
    'aria-describedby': 'member-hint member-error',
  });
  input.value = typed;
  const error = h('p', { id: 'member-error', class: 'field-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card checkin', id: 'checkin' },
    h('label', { for: 'member-id' }, t('checkin.label')),
    h('p', { id: 'member-hint', class: 'hint' }, t('checkin.hint')),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, t('checkin.submit'))),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const result = o.onCheckIn(input.value);
    if (result === 'invalid') {
      error.textContent = t('checkin.invalid');
      input.setAttribute('aria-invalid', 'true');
    } else {
      error.textContent = result === 'already_waiting' ? t('checkin.alreadyWaiting') : '';
      input.removeAttribute('aria-invalid');
      input.value = '';
    }
    input.focus();
  });
  const signOut = h('button', { type: 'button', id: 'sign-out' }, t('station.signOut'));
  signOut.addEventListener('click', o.onSignOut);
  show(
    main(),
    h('h2', {}, t('station.title', { precinct: s.precinct })),
    h(
      'dl',
      { class: 'station' },
      h('dt', {}, t('station.address')),
      h('dd', {}, s.address ?? '—'),
      h('dt', {}, t('station.district')),
      h('dd', {}, districtText(s.district)),
      h('dt', {}, t('station.official')),
      h('dd', { id: 'official-id' }, s.official),
    ),
    signOut,
    form,
    h('section', { id: 'answer', class: 'answer', 'aria-labelledby': 'answer-title' }),
    h(
      'div',
      { id: 'queue', class: 'queue' },
      h('p', { id: 'queue-status', role: 'status' }),
      h('div', { id: 'queue-wait' }),
    ),
    h('h3', { id: 'log-title' }, t('log.title')),
    h('ol', { id: 'log', class: 'log', 'aria-labelledby': 'log-title', reversed: true }),
  );
  // The form is what the official works with: the field, not the heading, has the focus.
  input.focus();
}

/** The member-id field's content, to carry over a language switch. */
export function typedMemberId(): string {
  return (document.getElementById('member-id') as HTMLInputElement | null)?.value ?? '';
}

const time = (ms: number) => formatDateTime(lang(), ms, { date: false, seconds: true });

const kind = (entry: Entry): 'ok' | 'bad' | 'wait' | 'check' =>
  entry.outcome === null
    ? 'wait'
    : entry.outcome === 'checked_in'
      ? 'ok'
      : entry.outcome === 'recorded_unsure'
        ? 'check'
        : 'bad';

const outcomeKey = (entry: Entry) => entry.outcome ?? 'queued';

/** The big answer for one check-in: what to do now. */
export function paintAnswer(entry: Entry): void {
  const box = document.getElementById('answer');
  if (box === null) return;
  const key = outcomeKey(entry);
  const vars = { member: entry.memberId, code: entry.code ?? '' };
  box.className = `answer ${kind(entry)}`;
  box.replaceChildren(
    h('p', { id: 'answer-title', class: 'answer-title' }, t(`answer.${key}.title`)),
    h('p', { class: 'answer-member' }, entry.memberId),
    h('p', {}, t(`answer.${key}.text`, vars)),
  );
  if (entry.outcome === 'already_issued_online') box.append(h('p', { class: 'rule' }, t('rule.onlineOnly')));
}

export function announceAnswer(entry: Entry): void {
  announce(`${entry.memberId}: ${t(`answer.${outcomeKey(entry)}.title`)}`);
}

/** The queue line ("all answered" / "n waiting") and, while resending, why and when. */
export function paintQueue(waitingCount: number, w: Waiting | null): void {
  const box = document.getElementById('queue');
  const status = document.getElementById('queue-status');
  const wait = document.getElementById('queue-wait');
  if (box === null || status === null || wait === null) return;
  box.className = waitingCount > 0 ? 'queue waiting-count' : 'queue';
  // Updated in place: a live region that is replaced is not read out.
  const text = waitingCount > 0 ? t('queue.waiting', { n: waitingCount }) : t('queue.empty');
  if (status.textContent !== text) status.textContent = text;
  const panel = waitingCount > 0 ? waitingPanel(w) : null;
  wait.replaceChildren(...(panel === null ? [] : [panel]));
}

/** This shift's check-ins, newest first, each with its outcome. */
export function paintLog(entries: readonly Entry[]): void {
  const list = document.getElementById('log');
  if (list === null) return;
  if (entries.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, t('log.empty')));
    return;
  }
  list.replaceChildren(
    ...[...entries]
      .reverse()
      .map((e) =>
        h(
          'li',
          { class: `entry ${kind(e)}`, 'data-member': e.memberId, 'data-outcome': outcomeKey(e) },
          h('span', { class: 'time' }, time(e.at)),
          ' ',
          h('span', { class: 'member' }, e.memberId),
          ' ',
          h('span', { class: 'outcome' }, t(`outcome.${outcomeKey(e)}`)),
        ),
      ),
  );
}
