/**
 * The observers' page (`/observe/` on the publisher) in Debian's Chromium
 * against a real publisher and stack:
 * - kk, ru and en at phone (390×844) and desktop (1366×900) size: sign in by
 *   typing the observer token and pressing Enter; the live view shows the
 *   turnout table (every region and district, names from the manifest), a
 *   signed commission action produced to `election-events` with its reason,
 *   and the chain section; then a second action while the page is open
 *   appears without a reload;
 * - axe-core finds no violation of any impact; at phone size nothing
 *   overflows sideways (screenshots in test-output/observers/);
 * - a voter's token is refused with the page's message in that language,
 *   and the sign-in form comes back.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELECTION_EVENTS_PARTITION, TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  issueDevStaffToken,
  issueDevToken,
  listSampleMembers,
  newEventId,
  readKeys,
  signEvent,
} from '../election/index.js';
import { forgetElection } from './ingest.harness.js';
import { outputDir, type Publisher, prepareTinyElection, startPublisher } from './observers.support.js';
import { launchChromium } from './support/chromium.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PUBLISHER_PORT = testPort(18_782);
const ELECTION = `observe-page-${Date.now().toString(36)}`;
const LANGS = ['kk', 'ru', 'en'] as const;
const LOCALES = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' } as const;
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } } as const;
/** What the page says for a refused voter token, per language (publisher/site/observe/i18n.js). */
const WRONG_ROLE = {
  kk: 'Бұл токен бақылаушыға арналмаған',
  ru: 'Этот токен не для наблюдателя',
  en: "This token is not an observer's",
} as const;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The page's globals, for functions that run in the browser (the root tsconfig has no DOM lib). */
interface PageGlobals {
  innerWidth: number;
  document: { documentElement: { lang: string; scrollWidth: number } };
  axe: { run(context: unknown, options: unknown): Promise<unknown> };
}

let index: ElectionIndex;
let keys: ElectionKeys;
let publisher: Publisher;
let browser: Browser;
let producer: Producer;
let observerToken: string;
/** Each action extends the closing time one more day (an extension must be later than the last). */
let extensions = 0;
const reason = 'Observers page test: the closing time is extended by a day';

async function act(detail: string): Promise<string> {
  const [operator, key] = [...keys.operators.entries()][0]!;
  const record = signEvent(
    {
      v: 1,
      id: newEventId(),
      election: ELECTION,
      type: 'extended',
      at: Date.now(),
      by: operator,
      detail,
      until: new Date(index.closesAt + 86_400_000 * ++extensions).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
    key.privateKey,
  );
  await producer.send({
    topic: TOPICS.electionEvents,
    acks: -1,
    messages: [{ key: record.id, value: JSON.stringify(record), partition: ELECTION_EVENTS_PARTITION }],
  });
  return record.id;
}

beforeAll(async () => {
  const prepared = await prepareTinyElection(ELECTION);
  index = prepared.index;
  keys = await readKeys(config.stackDir, ELECTION);
  observerToken = await issueDevStaffToken(keys, index, { role: 'observer', id: 'proxy-1' });
  producer = kafkaClient('observers-page-test').producer();
  // One after the other: a start that fails must not leave the other behind, unstopped.
  publisher = await startPublisher({
    election: prepared.path,
    port: PUBLISHER_PORT,
    publicDir: join(outputDir, `${ELECTION}-public`),
  });
  browser = await launchChromium();
  await producer.connect();
  await act(reason);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await producer?.disconnect();
  await publisher?.stop();
  await forgetElection(config, ELECTION);
});

/** axe-core (WCAG 2.1 A/AA rules): every violation, whatever its impact. */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    (globalThis as unknown as PageGlobals).axe.run((globalThis as unknown as PageGlobals).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  return (result as { violations: { id: string; impact: string; nodes: unknown[] }[] }).violations.map(
    (v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`,
  );
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${publisher.base}/observe/`);
  await page.locator('#token').focus();
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
}

describe("the observers' page", () => {
  for (const lang of LANGS) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      it(`${lang} at ${size} size: signs in, shows live data, axe clean`, async () => {
        const context = await browser.newContext({ locale: LOCALES[lang], viewport });
        const page = await context.newPage();
        try {
          await page.goto(`${publisher.base}/observe/`);
          expect(await axe(page)).toEqual([]);
          await signIn(page, observerToken);
          await page.locator('#view').waitFor({ state: 'visible', timeout: 30_000 });
          expect(
            await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.lang),
          ).toBe(lang);
          // Every region and district, named in this language.
          const rows = page.locator('#turnout-table tbody tr');
          await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(5);
          const district = index.config.districts[0]!;
          expect(await page.locator('#turnout-table').textContent()).toContain(district.names[lang]);
          // The commission's action, with its reason; the chain section.
          await expect
            .poll(() => page.locator('#actions').textContent(), { timeout: 15_000 })
            .toContain(reason);
          expect(await page.locator('#phase').textContent()).not.toBe('');
          expect(await page.locator('#chain').textContent()).not.toBe('');
          expect(await axe(page)).toEqual([]);
          await page.screenshot({ path: join(outputDir, `observe-${lang}-${size}.png`), fullPage: true });
          const { scroll, width } = await page.evaluate(() => ({
            scroll: (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
            width: (globalThis as unknown as PageGlobals).innerWidth,
          }));
          expect(scroll, `${lang} ${size} overflows sideways`).toBeLessThanOrEqual(width);
          if (lang === 'en' && size === 'desktop') {
            // Live: an action taken while the page is open appears without a reload.
            const later = 'Observers page test: a second extension';
            const id = await act(later);
            await expect
              .poll(() => page.locator(`#actions li[data-id="${id}"]`).textContent(), { timeout: 10_000 })
              .toContain(later);
          }
        } finally {
          await context.close();
        }
      }, 90_000);
    }
  }

  it("refuses a voter's token in the page's language and asks again", async () => {
    const voter = await issueDevToken(keys, index, listSampleMembers(index, 0, 1)[0]!.memberId);
    for (const lang of LANGS) {
      const context = await browser.newContext({ locale: LOCALES[lang], viewport: SIZES.phone });
      const page = await context.newPage();
      try {
        await signIn(page, voter);
        await expect
          .poll(() => page.locator('#signin-error').textContent(), { timeout: 15_000 })
          .toContain(WRONG_ROLE[lang]);
        expect(await page.locator('#signin').isVisible()).toBe(true);
        expect(await page.locator('#view').isVisible()).toBe(false);
        expect(await axe(page)).toEqual([]);
      } finally {
        await context.close();
      }
    }
  }, 90_000);
});
