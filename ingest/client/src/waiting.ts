/**
 * The panel both pages show while retry.ts waits to send a request again:
 * why (`wait.<code>`), the place in line when known, and a countdown to the
 * next attempt. Needs the page's catalogue to have `wait.*` messages.
 */
import { API_CODES } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import type { Waiting } from './retry.js';

let countdown: number | null = null;

/** Counts down to the next attempt; outside the live region, so it is not read out every second. */
function tickRetry(nextAt: number): void {
  if (countdown !== null) window.clearInterval(countdown);
  const update = () => {
    const el = document.getElementById('retry-in');
    if (el === null) {
      if (countdown !== null) window.clearInterval(countdown);
      countdown = null;
      return;
    }
    el.textContent = t('wait.retry', { n: Math.max(0, Math.ceil((nextAt - Date.now()) / 1000)) });
  };
  countdown = window.setInterval(update, 1000);
  update();
}

/** The waiting panel, or null when nothing is being waited for. */
export function waitingPanel(w: Waiting | null): HTMLElement | null {
  if (w === null) return null;
  const code = (API_CODES as readonly string[]).includes(w.code) ? w.code : 'unavailable';
  const panel = h(
    'div',
    { class: 'waiting' },
    h(
      'div',
      { role: 'status' },
      h('p', {}, t(`wait.${code}`)),
      w.position !== null && w.position > 0
        ? h('p', { class: 'position' }, t('wait.position', { n: w.position }))
        : null,
    ),
    h('p', { id: 'retry-in' }),
    h('p', { class: 'hint' }, t('wait.safe')),
  );
  window.setTimeout(() => tickRetry(w.nextAt), 0);
  return panel;
}
