/**
 * Every view of the results site, for the axe test (test/publisher.site.test.ts)
 * and the screenshot script: the page is one document whose sections change
 * state, so a "view" is a state with its section scrolled into sight. Views
 * a site does not have (no final, no snapshots/index.json before snapshot
 * v5, no glossary) are skipped. States accumulate (the receipt error stays,
 * the race filter stays, a card opened stays open), so at the last view every
 * section is in its changed state and the first view shows them all unchanged:
 * a check of the whole page at those two covers every view.
 */
import type { Page } from 'playwright-core';

export type ResultsLang = 'kk' | 'ru' | 'en';

export async function walkResultsViews(
  page: Page,
  opts: { baseUrl: string; lang: ResultsLang },
  onView: (name: string) => Promise<void>,
): Promise<void> {
  await page.goto(opts.baseUrl);
  await page.click(`button[data-lang="${opts.lang}"]`);
  await page.locator('#race-section').waitFor();
  await page.locator(`html[lang="${opts.lang}"]`).waitFor({ state: 'attached' });
  await onView('top');

  // The receipt check with a code that cannot be one: our own message, in the page's language.
  await page.fill('#receipt-code', 'not a code');
  await page.click('#receipt-form button[type=submit]');
  await page.locator('#receipt-error').waitFor();
  await onView('receipt-error');

  // Another race, found by typing part of its name, then chosen from the filtered list.
  const other = (await page.locator('#race-select option[value]:not([value=""])').nth(1).textContent()) ?? '';
  await page.fill('#race-search', other.slice(0, 5));
  const value = await page.locator('#race-select option:not([value=""])').first().getAttribute('value');
  await page.selectOption('#race-select', value);
  await page.locator('#race-section').scrollIntoViewIfNeeded();
  await onView('race');
  await page
    .locator('#region-cards details')
    .first()
    .evaluate((d) => {
      (d as unknown as { open: boolean }).open = true;
    });
  await page.locator('#region-cards').scrollIntoViewIfNeeded();
  await onView('region-votes');

  await page.locator('#map-section').scrollIntoViewIfNeeded();
  await page.check('input[name="map-mode"][value="leader"]');
  await onView('map-leader');
  await page.check('input[name="map-mode"][value="turnout"]');
  await onView('map-turnout');

  await page.locator('#turnout-regions summary').first().click();
  await page.locator('#turnout-regions details[open]').first().scrollIntoViewIfNeeded();
  await onView('district-turnout');

  if (await page.locator('#chain-section').isVisible()) {
    await page.locator('#chain-section').scrollIntoViewIfNeeded();
    await onView('snapshots');
  }
  if (await page.locator('#final-section').isVisible()) {
    await page.locator('#final-section').scrollIntoViewIfNeeded();
    await onView('final');
  }

  await page.click('#verify-button');
  await page.locator('#verify-result.good, #verify-result.bad').waitFor({ timeout: 30_000 });
  await page.locator('#verify').scrollIntoViewIfNeeded();
  await onView('verify');

  const glossary = page.locator('#glossary');
  if ((await glossary.count()) > 0) {
    const summary = glossary.locator('summary').first();
    if ((await summary.count()) > 0) await summary.click();
    await glossary.scrollIntoViewIfNeeded();
    await onView('glossary');
  }
}
