/**
 * Every view of the voter page, in order, for tests and the screenshot
 * script: a fresh page (no stored vote) opens the glossary, signs in with
 * dev login, marks one candidate per race, reviews, is held on "sending" by
 * a refused connection, gets its receipt, finishes, signs in again as the
 * same member (the "credential on another device" help) and opens the page
 * with a token that names no district (an error view). `onView(name)` runs at each with
 * the view painted; it may resize the page, take screenshots, run axe.
 *
 *   sign-in → glossary → ballot → review → waiting → receipt → another-device → error
 *
 * Uses up one roll member per walk (`member`, else the first free one in
 * the dev list).
 */
import type { Page } from 'playwright-core';

export type VoterLang = 'kk' | 'ru' | 'en';

export const VOTER_VIEWS = [
  'sign-in',
  'glossary',
  'ballot',
  'review',
  'waiting',
  'receipt',
  'another-device',
  'error',
] as const;

/** The browser's globals, for functions that run in the page (the root tsconfig has no DOM lib). */
interface Globals {
  document: { documentElement: { lang: string } };
  dispatchEvent(event: unknown): boolean;
  Event: new (type: string) => unknown;
}

/** A JWT whose claims name no district: the page refuses it as "not on the roll" before sending it. */
const NO_DISTRICT_TOKEN = 'e30.e30.x';

async function useLang(page: Page, lang: VoterLang): Promise<void> {
  await page.locator(`#langs button[data-lang="${lang}"]`).click();
  await page.waitForFunction(
    (l) => (globalThis as unknown as Globals).document.documentElement.lang === l,
    lang,
  );
}

async function signIn(page: Page, memberId: string): Promise<'ballot' | 'another-device'> {
  await page.locator('#member').selectOption(memberId);
  await page.locator('form.card button[type=submit]').click();
  const ballot = page.locator('form.ballot');
  const another = page.locator('#another-steps');
  await ballot.or(another).waitFor({ timeout: 30_000 });
  return (await ballot.count()) > 0 ? 'ballot' : 'another-device';
}

export async function walkVoterViews(
  page: Page,
  opts: { baseUrl: string; lang: VoterLang; member?: string },
  onView: (name: (typeof VOTER_VIEWS)[number]) => Promise<void>,
): Promise<void> {
  const base = opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`;
  await page.goto(base);
  await page.locator('#member').waitFor();
  await useLang(page, opts.lang);
  await onView('sign-in');
  // The glossary (footer), opened from the sign-in view's link; closed again after.
  await page.locator('a.glossary-link').click();
  await page.locator('#glossary-list dt').first().waitFor();
  await onView('glossary');
  await page.locator('#glossary-title').click();

  const candidates =
    opts.member === undefined
      ? await page
          .locator('#member option')
          .evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value))
      : [opts.member];
  let member: string | undefined;
  for (const id of candidates) {
    if ((await signIn(page, id)) === 'ballot') {
      member = id;
      break;
    }
    await page.locator('#another-steps ~ .actions button').click(); // back to sign-in, try the next
    await page.locator('#member').waitFor();
  }
  if (member === undefined) throw new Error('walkVoterViews: no member of the list can still vote');

  for (const race of await page.locator('form.ballot fieldset').all()) {
    const box = race.locator('input[type=checkbox]:not([disabled])').first();
    if ((await box.count()) > 0) await box.check();
  }
  await onView('ballot');
  await page.locator('form.ballot button[type=submit]').click();
  await page.locator('dl.review').waitFor();
  await onView('review');

  // The first attempt to send is refused by the network: the page waits and says so.
  let refused = false;
  await page.route('**/v1/ballots', async (route) => {
    if (refused) return route.continue();
    refused = true;
    return route.abort('internetdisconnected');
  });
  await page.locator('.actions button.primary').click();
  await page.locator('.waiting').waitFor();
  await onView('waiting');
  await page.unroute('**/v1/ballots');
  // The page retries at once when the browser says it is back online.
  await page.evaluate(() => {
    const g = globalThis as unknown as Globals;
    g.dispatchEvent(new g.Event('online'));
  });
  await page.locator('#receipt-code').waitFor({ timeout: 30_000 });
  await page.locator('.qr').waitFor();
  await page.locator('#receipt-status:not(.checking)').waitFor();
  await onView('receipt');

  await page.locator('main .actions:not(.keep) button').last().click(); // finish: the receipt is removed
  await page.locator('#member').waitFor();
  if ((await signIn(page, member)) !== 'another-device')
    throw new Error(`walkVoterViews: ${member} was given a second credential`);
  await onView('another-device');

  await page.goto(`${base}#token=${NO_DISTRICT_TOKEN}`);
  await page.reload();
  await page.locator('#problem').waitFor();
  await onView('error');
}
