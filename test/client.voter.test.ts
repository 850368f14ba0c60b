/**
 * The voter web client in Debian's Chromium against a real ingest process
 * and the real stack: a voter signs in (dev identity provider), votes in
 * every race, gets a receipt whose ballot is in Kafka; the page rides out an
 * ingest restart right after issuance and an overloaded ingest (place in
 * line shown) and the voter is counted once; a second browser is told the
 * voter already has a credential. Screenshots of the ballot and the receipt
 * in kk/ru/en go to test-output/client/, and axe-core finds no serious
 * accessibility violation.
 */
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { TOPICS } from '../common/records.js';
import { GLOSSARY, TERM_IDS } from '../common/web/glossary.js';
import { type ElectionIndex, issueDevToken, loadElection, readKeys, voterHash } from '../election/index.js';
import { buildClient, CRITICAL_BUDGET_BYTES, sizeReport, totals } from '../ingest/client/build.js';
import { modulusOf } from '../ingest/crypto/blind-rsa.js';
import { api, forgetElection, type Ingest, offsetsOf, readRecords, startIngest } from './ingest.harness.js';
import { launchChromium } from './support/chromium.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';
import { VOTER_VIEWS, walkVoterViews } from './support/voter-views.js';

const PORT = testPort(18_681);
/** The publisher (results site) this test runs for its election; the receipt links to it. */
const PUBLISHER_PORT = testPort(18_682);
/** A stand-in external identity provider (when dev login is off). */
const IDP_PORT = testPort(18_683);
/** A fresh election per run: ClickHouse keeps every run's ballots, and the publisher reconciles per election. */
const ELECTION = `client-${Date.now().toString(36)}`;
/** Small, so a few held requests are enough to overload the process. */
const MAX_IN_FLIGHT = 2;
/** Kafka linger, so a write holds its admission slot this long at least (the overload step). */
const LINGER_MS = 500;
/** Roll members the page's voters use; the overload step's storm takes members after them. */
const PAGE_VOTERS = 16;
const shots = join(repoRoot, 'test-output', 'client');
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } };
const run = promisify(execFile);
const kafka = kafkaClient('client-voter-test');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const catalogue = (lang: string) =>
  JSON.parse(readFileSync(join(repoRoot, 'ingest', 'client', 'i18n', `${lang}.json`), 'utf8'));

/** The page's globals, for functions that run in the browser (the root tsconfig has no DOM lib). */
interface PageGlobals {
  localStorage: { getItem(key: string): string | null } & Record<string, string>;
  document: {
    documentElement: { lang: string };
    activeElement: { tagName: string } | null;
    addEventListener(
      type: string,
      listener: (e: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
  __csp: string[];
  axe: { run(context: unknown, options: unknown): Promise<unknown> };
}

let browser: Browser;
let ingest: Ingest;
let electionPath: string;
let index: ElectionIndex;
let members: { memberId: string; district: string }[] = [];
const publicDir = join(shots, 'public');
const ingestEnv = {
  INGEST_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
  // Every write waits this long for others before it is sent: the overload step's writes hold their slots.
  INGEST_PRODUCE_LINGER_MS: String(LINGER_MS),
  PUBLIC_DIR: publicDir,
  PUBLISHER_PORT: String(PUBLISHER_PORT),
};
/** Receipts the voters of this run got, checked against the published snapshot at the end. */
const receipts: string[] = [];
/** Every ballot body the page sent, by length: one fixed size for all voters. */
const castSizes = new Set<number>();

/**
 * `election/configs/tiny.json` (3 districts, so keys are quick to make) under
 * this run's id, open now; `election init` makes its keys and loads its roll.
 */
async function prepareTinyElection(): Promise<{ path: string; index: ElectionIndex }> {
  mkdirSync(shots, { recursive: true });
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  // One mark in the national race (2 active candidates), so every district's ballot has a race
  // where the limit disables the other boxes.
  for (const race of tiny.races) if (race.id === 'R-NAT') race.maxChoices = 1;
  const path = join(shots, `${ELECTION}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ ...tiny, id: ELECTION, opens: '2020-01-01T00:00:00Z', closes: '2099-12-31T23:59:59Z', snapshotIntervalSec: 60, sampleRoll: { seed: ELECTION, size: 500 } }, null, 2)}\n`,
  );
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', 'init', path], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return { path, index: loadElection(path) };
}

beforeAll(async () => {
  // The global setup wrote dist/ (what ingest serves); this checks the budget of the same build.
  const build = await buildClient();
  process.stderr.write(`${sizeReport(build)}\n`);
  expect(totals(build.critical).gzip).toBeLessThanOrEqual(CRITICAL_BUDGET_BYTES);

  rmSync(publicDir, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  ({ path: electionPath, index } = await prepareTinyElection());
  ingest = await startIngest({ election: electionPath, port: PORT, processes: 1, env: ingestEnv });
  members = (await api(ingest.base, 'GET', `/v1/dev/members?election=${ELECTION}&limit=200`)).body.members;
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await ingest?.stop();
  await forgetElection(config, ELECTION);
});

interface Watched {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Requests to anywhere but this ingest. */
  readonly foreign: string[];
  readonly cspViolations: () => Promise<string[]>;
  /** Watches another page of the context as `page` is watched (a page opened after a crash). */
  readonly watch: (page: Page) => void;
}

async function openPage(locale: string): Promise<Watched> {
  const context = await browser.newContext({ locale, viewport: { width: 412, height: 915 } });
  // Collected by an init script (run by the browser, outside the page's CSP).
  await context.addInitScript(() => {
    const seen: string[] = [];
    const g = globalThis as unknown as PageGlobals;
    g.__csp = seen;
    g.document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const foreign: string[] = [];
  const watch = (page: Page) =>
    page.on('request', (req) => {
      const url = req.url();
      // The one request to another origin: the results site's signed district keys (key-check.ts).
      const keyCheck = url === `http://127.0.0.1:${PUBLISHER_PORT}/keys.json`;
      if (
        !url.startsWith(`http://127.0.0.1:${PORT}/`) &&
        !url.startsWith(`ws://127.0.0.1:${PORT}/`) &&
        !keyCheck
      )
        foreign.push(url);
      if (req.method() === 'POST' && url.endsWith('/v1/ballots'))
        castSizes.add(Buffer.byteLength(req.postData() ?? ''));
    });
  watch(page);
  await page.goto(`http://127.0.0.1:${PORT}/`);
  return {
    context,
    page,
    foreign,
    watch,
    cspViolations: () => page.evaluate(() => (globalThis as unknown as PageGlobals).__csp),
  };
}

/** Presses Tab until `selector` has the focus: proves it is reachable by keyboard, in order. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const there = await page.evaluate(
      (sel) =>
        (
          globalThis as unknown as { document: { activeElement: { matches(s: string): boolean } | null } }
        ).document.activeElement?.matches(sel) ?? false,
      selector,
    );
    if (there) return;
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

async function signIn(page: Page, memberId: string): Promise<void> {
  await page.locator('#member').selectOption(memberId);
  await page.locator('form.card button[type=submit]').click();
}

/** Marks every race: `maxChoices` candidates each, and checks the rest are then disabled. */
async function fillBallot(page: Page, district: string): Promise<void> {
  await page.locator('form.ballot').waitFor();
  for (const race of index.racesOf(district)) {
    const boxes = page.locator(`input[name="${race.id}"]`);
    const count = await boxes.count();
    for (let i = 0; i < race.maxChoices; i++) await boxes.nth(i).check();
    for (let i = race.maxChoices; i < count; i++) expect(await boxes.nth(i).isDisabled()).toBe(true);
  }
}

async function review(page: Page): Promise<void> {
  await page.locator('form.ballot button[type=submit]').click();
  await page.locator('dl.review').waitFor();
}

async function castAndWaitForReceipt(page: Page, timeout = 60_000): Promise<string> {
  await page.locator('.actions button.primary').click();
  await page.locator('#receipt-code').waitFor({ timeout });
  return page.evaluate(
    (id) =>
      JSON.parse(
        (globalThis as unknown as PageGlobals).localStorage.getItem(`saylau:receipt:${id}`) ?? 'null',
      ).ballotId,
    ELECTION,
  );
}

/** axe-core, every rule (WCAG 2.1 A/AA and best practices); returns the violations of any impact. */
async function axe(page: Page): Promise<string[]> {
  // Injected through DevTools (the page's CSP does not block it), once per document.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const g = globalThis as unknown as PageGlobals;
    return g.axe.run(g.document, { resultTypes: ['violations'] });
  });
  const violations = (
    result as { violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }
  ).violations;
  return violations.map((v) => `${v.id} (${v.impact}, ${v.nodes.map((n) => String(n.target)).join(' ')})`);
}

async function ballotsFor(since: Map<number, string>, ballotId: string) {
  return readRecords(kafka, TOPICS.ballots, since, (v) => v.election === ELECTION && v.ballotId === ballotId);
}

/** What the page stores about the vote in progress (persist.ts). */
async function storedVote(
  page: Page,
): Promise<{ phase: string; step?: string; marks?: Record<string, string[]> }> {
  return page.evaluate(
    (id) =>
      JSON.parse((globalThis as unknown as PageGlobals).localStorage.getItem(`saylau:vote:${id}`) ?? 'null'),
    ELECTION,
  );
}

/** The ids of the marked boxes, in page order. */
const markedBoxes = (page: Page) =>
  page
    .locator('form.ballot input:checked')
    .evaluateAll((boxes) => boxes.map((b) => (b as unknown as { id: string }).id));

const reviewText = (page: Page) => page.locator('dl.review').textContent();

describe('voter web client', () => {
  it('a voter signs in, votes in every race and gets a receipt whose ballot is in Kafka; a reload, Back/Forward or a crash at any step keeps the step and the marks', async () => {
    const member = members[0]!;
    const since = await offsetsOf(kafka, TOPICS.ballots);
    const w = await openPage('en-GB');
    let { page } = w;
    await page.locator('#member').waitFor();
    // Sign-in survives a reload (nothing to keep yet).
    await page.reload();
    await page.locator('#member').waitFor();
    // Keyboard only: the first member is preselected; Tab to "sign in", Enter; on the ballot the
    // heading has the focus, Tab reaches the first candidate and Space marks it.
    expect(await page.locator('#member').inputValue()).toBe(member.memberId);
    await tabTo(page, 'form.card button[type=submit]');
    await page.keyboard.press('Enter');
    await page.locator('form.ballot').waitFor();
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.tagName),
    ).toBe('H1');
    await tabTo(page, 'form.ballot input[type=checkbox]');
    await page.keyboard.press('Space');
    expect(await page.locator('form.ballot input[type=checkbox]').first().isChecked()).toBe(true);
    await fillBallot(page, member.district);
    const marked = await markedBoxes(page);
    expect(marked.length).toBe(index.racesOf(member.district).reduce((n, r) => n + r.maxChoices, 0));

    // Reload on the ballot: the same marks.
    await page.reload();
    await page.locator('form.ballot').waitFor();
    expect(await markedBoxes(page)).toEqual(marked);
    // A crash right after a change (renderer killed, nothing runs on the way out): the change is kept.
    await page.locator(`#${marked[0]}`).uncheck();
    const cdp = await w.context.newCDPSession(page);
    const crashed = page.waitForEvent('crash');
    void cdp.send('Page.crash').catch(() => undefined); // answered never: the renderer is gone
    await crashed;
    page = await w.context.newPage();
    w.watch(page);
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.locator('form.ballot').waitFor();
    expect(await markedBoxes(page)).toEqual(marked.slice(1));
    await page.locator(`#${marked[0]}`).check();
    expect(await markedBoxes(page)).toEqual(marked);

    // Review, reload: still the review, same choices; Back: the ballot with its marks; Forward: the review.
    await review(page);
    const choices = await reviewText(page);
    await page.reload();
    await page.locator('dl.review').waitFor();
    expect(await reviewText(page)).toBe(choices);
    expect((await storedVote(page)).step).toBe('review');
    await page.goBack();
    await page.locator('form.ballot').waitFor();
    expect(await markedBoxes(page)).toEqual(marked);
    expect((await storedVote(page)).step).toBe('ballot');
    await page.goForward();
    await page.locator('dl.review').waitFor();
    expect(await reviewText(page)).toBe(choices);

    const ballotId = await castAndWaitForReceipt(page);
    expect(ballotId).toMatch(/^[A-Z2-7]{26}$/);
    // The receipt: a panel with the election and the time, the code in groups that never break
    // inside, the real publishing interval (the election's 60 s), "recorded" in the live region.
    const en = catalogue('en');
    expect(await page.locator('#receipt-panel h1').textContent()).toBe(en['receipt.title']);
    expect(await page.locator('#receipt-panel').textContent()).toContain(index.config.names.en);
    expect(await page.locator('#receipt-time').textContent()).toMatch(/^Recorded: .*\d{1,2}:\d{2}/);
    const groups = await page.locator('#receipt-code .group').allTextContents();
    expect(groups.join('')).toBe(ballotId);
    expect(groups.map((g) => g.length)).toEqual([4, 4, 4, 4, 4, 4, 2]);
    expect(await page.locator('#receipt-code').textContent()).not.toContain('-');
    expect(
      await page
        .locator('#receipt-code .group')
        .first()
        .evaluate(
          (el) =>
            (
              globalThis as unknown as { getComputedStyle(e: unknown): { whiteSpace: string } }
            ).getComputedStyle(el).whiteSpace,
        ),
    ).toBe('nowrap');
    expect(await page.locator('#receipt-interval').textContent()).toBe(
      'Results are published every minute. Your ballot is counted in the next publication.',
    );
    await expect.poll(() => page.locator('#live').textContent()).toBe(en['receipt.title']);
    // Save: a small text file with the election, the time, the code and how to check it.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#receipt-save').click(),
    ]);
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(saved).toContain(index.config.names.en);
    expect(saved).toContain(groups.join(' '));
    expect(saved).toContain(`http://127.0.0.1:${PUBLISHER_PORT}/#receipt=${ballotId}`);
    // Printed: the panel without the page's controls.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#receipt-panel').isVisible()).toBe(true);
    expect(await page.locator('#receipt-print').isVisible()).toBe(false);
    expect(await page.locator('#langs').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });
    expect(await page.locator('#results-link').getAttribute('href')).toBe(
      `http://127.0.0.1:${PUBLISHER_PORT}/#receipt=${ballotId}`,
    );
    // Reload and Back on the receipt: still the receipt.
    await page.reload();
    await page.locator('#receipt-code').waitFor();
    await page.goBack();
    expect(await page.locator('#receipt-code .group').allTextContents()).toEqual(groups);
    receipts.push(ballotId);

    // Only the receipt (and the language choice) is left on the device.
    const stored = (await page.evaluate(() =>
      Object.fromEntries(Object.entries((globalThis as unknown as PageGlobals).localStorage)),
    )) as Record<string, string>;
    expect(Object.keys(stored).sort()).toEqual(['saylau:lang', `saylau:receipt:${ELECTION}`]);
    expect(Object.keys(JSON.parse(stored[`saylau:receipt:${ELECTION}`]!)).sort()).toEqual([
      'ballotId',
      'recordedAt',
    ]);
    expect(w.foreign).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__csp)).toEqual([]);

    const records = await ballotsFor(since, ballotId);
    expect(records.length).toBeGreaterThanOrEqual(1);
    const selections = records[0]!.value.selections as string[][];
    expect(selections.map((row) => row[0]).sort()).toEqual(
      index
        .racesOf(member.district)
        .map((r) => r.id)
        .sort(),
    );
    const receipt = await api(ingest.base, 'GET', `/v1/receipts/${ballotId}`);
    expect(receipt.status).toBe(200);
    expect(['accepted', 'counted']).toContain(receipt.body.status);
    await w.context.close();
  });

  it('a reload at every step keeps the step and the marks, and Back/Forward too: kk, ru and en at 390×844 and 1366×900', async () => {
    const combos = (['kk', 'ru', 'en'] as const).flatMap((lang) =>
      Object.entries(SIZES).map(([size, viewport]) => ({ lang, size, viewport })),
    );
    for (const [i, { lang, size, viewport }] of combos.entries()) {
      const where = `${lang} ${size}`;
      const member = members[5 + i]!; // 5–10: no other test votes as them
      const context = await browser.newContext({ locale: lang, viewport });
      try {
        const page = await context.newPage();
        await page.goto(`http://127.0.0.1:${PORT}/`);
        await page.locator(`#langs button[data-lang="${lang}"]`).click();
        await page.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
        await page.reload();
        await page.locator('#member').waitFor();
        expect(await page.getAttribute('html', 'lang'), where).toBe(lang);
        await signIn(page, member.memberId);
        await page.locator('form.ballot').waitFor();
        await page.locator('form.ballot input[type=checkbox]:not([disabled])').first().check();
        const marked = await markedBoxes(page);
        await page.reload();
        await page.locator('form.ballot').waitFor();
        expect(await markedBoxes(page), where).toEqual(marked);
        await review(page);
        const choices = await reviewText(page);
        await page.reload();
        await page.locator('dl.review').waitFor();
        expect(await reviewText(page), where).toBe(choices);
        await page.goBack();
        await page.locator('form.ballot').waitFor();
        expect(await markedBoxes(page), where).toEqual(marked);
        await page.goForward();
        await page.locator('dl.review').waitFor();
        const ballotId = await castAndWaitForReceipt(page);
        const title = catalogue(lang)['receipt.title'];
        await expect.poll(() => page.locator('#live').textContent()).toBe(title);
        await page.reload();
        await page.locator('#receipt-code').waitFor();
        expect(await page.locator('#receipt-panel h1').textContent(), where).toBe(title);
        expect((await page.locator('#receipt-code .group').allTextContents()).join(''), where).toBe(ballotId);
      } finally {
        await context.close();
      }
    }
  }, 180_000);

  it('every voter view, kk/ru/en at 390×844 and 1366×900: one h1, trust cues, no axe violation (screenshots)', async () => {
    const about = index.config.about!;
    // One walk (a walk uses up a member and takes its time): at each view, every language and size.
    const context = await browser.newContext({ locale: 'kk-KZ', viewport: SIZES.phone });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const seen: string[] = [];
    await walkVoterViews(
      page,
      { baseUrl: `http://127.0.0.1:${PORT}/`, lang: 'kk', member: members[4]!.memberId },
      async (view) => {
        seen.push(view);
        if (view === 'glossary') {
          // Every term, in each language (the list is refilled when the language changes).
          for (const lang of ['kk', 'ru', 'en'] as const) {
            await page.locator(`#langs button[data-lang="${lang}"]`).click();
            await expect
              .poll(() => page.locator('#glossary-list dt').allTextContents())
              .toEqual(TERM_IDS.map((id) => GLOSSARY[lang][id].term));
          }
        }
        if (view === 'another-device') {
          expect(await page.locator('#another-help a[href="mailto:help@saylau.example"]').count()).toBe(1);
          // Nothing of the refused attempt is kept.
          expect(await storedVote(page)).toBeNull();
        }
        for (const lang of ['kk', 'ru', 'en'] as const) {
          await page.locator(`#langs button[data-lang="${lang}"]`).click();
          await page.waitForFunction(
            (l) => (globalThis as unknown as PageGlobals).document.documentElement.lang === l,
            lang,
          );
          expect(await page.locator('h1').count(), `${view} ${lang}`).toBe(1);
          expect(await page.locator('#trust').textContent()).toContain(about.organiser[lang]);
          expect(await page.locator('#about a[href="tel:1414"]').count()).toBe(1);
          expect(await page.locator('#about').textContent()).toContain(about.privacy[lang]);
          for (const [size, viewport] of Object.entries(SIZES)) {
            await page.setViewportSize(viewport);
            expect(await axe(page), `${view} ${lang} ${size}`).toEqual([]);
            await page.screenshot({ path: join(shots, `${view}-${lang}-${size}.png`), fullPage: true });
          }
          await page.setViewportSize(SIZES.phone);
        }
      },
    );
    expect(seen).toEqual([...VOTER_VIEWS]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('ingest stopped right after the credential is issued and restarted: the page resumes and the vote counts once', async () => {
    const member = members[1]!;
    const since = await offsetsOf(kafka, TOPICS.ballots);
    const w = await openPage('ru-RU');
    const { page } = w;
    await page.locator('#member').waitFor();
    const issued = page.waitForResponse((r) => r.url().endsWith('/v1/credentials') && r.status() === 200);
    await signIn(page, member.memberId);
    await issued;
    expect(await ingest.stop()).toBe(0);

    await fillBallot(page, member.district);
    await review(page);
    await page.locator('.actions button.primary').click();
    await page.locator('.waiting').waitFor();
    await page.screenshot({ path: join(shots, 'waiting-network-ru.png'), fullPage: true });
    const phase = await page.evaluate(
      (id) =>
        JSON.parse((globalThis as unknown as PageGlobals).localStorage.getItem(`saylau:vote:${id}`)!).phase,
      ELECTION,
    );
    expect(phase).toBe('casting');

    ingest = await startIngest({ election: electionPath, port: PORT, processes: 1, env: ingestEnv });
    await page.locator('#receipt-code').waitFor({ timeout: 90_000 });
    const ballotId = await page.evaluate(
      (id) =>
        JSON.parse((globalThis as unknown as PageGlobals).localStorage.getItem(`saylau:receipt:${id}`)!)
          .ballotId,
      ELECTION,
    );
    // A reload keeps showing the receipt, and asks nothing of the voter.
    await page.reload();
    await page.locator('#receipt-code').waitFor();

    receipts.push(ballotId);
    const records = await ballotsFor(since, ballotId);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(new Set(records.map((r) => r.value.ballotHash)).size).toBe(1);
    expect((await api(ingest.base, 'GET', `/v1/receipts/${ballotId}`)).body.status).toMatch(
      /accepted|counted/,
    );
    expect(w.foreign).toEqual([]);
    expect(await w.cspViolations()).toEqual([]);
    await w.context.close();
  }, 180_000);

  it('an overloaded ingest: the page waits, shows its place in line, and completes when capacity returns', async () => {
    const member = members[2]!;
    const since = await offsetsOf(kafka, TOPICS.ballots);
    const w = await openPage('en-US');
    const { page } = w;
    await page.locator('#member').waitFor();
    await signIn(page, member.memberId);
    await fillBallot(page, member.district);
    await review(page);

    // Keep the in-flight budget spent with a storm of admitted credential requests, each holding
    // its slot for the Kafka linger (slow bodies cannot do it: bodies are read before a slot is
    // taken). Until the page shows its place in line, its requests are shed.
    const keys = await readKeys(config.stackDir, ELECTION);
    let storming = true;
    let shed = 0;
    let nextMember = PAGE_VOTERS;
    const storm = Array.from({ length: 2 * MAX_IN_FLIGHT }, async () => {
      let member = members[nextMember++];
      while (storming && member !== undefined) {
        const modulus = modulusOf(keys.districts.get(member.district)!.publicKey);
        const blinded = randomBytes(modulus.length);
        blinded[0] = Math.max(0, modulus[0]! - 1); // below n
        const res = await api(
          ingest.base,
          'POST',
          '/v1/credentials',
          { election: ELECTION, blindedMessage: blinded.toString('base64url') },
          { authorization: `Bearer ${await issueDevToken(keys, index, member.memberId)}` },
        ).catch(() => ({ status: 0 }));
        if (res.status === 503) {
          shed++; // refused before any work: the same member again, a moment later
          await new Promise((r) => setTimeout(r, 20));
        } else member = members[nextMember++];
      }
    });
    try {
      for (let i = 0; i < 100 && shed === 0; i++) await new Promise((r) => setTimeout(r, 100));
      if (shed === 0) {
        const metrics = (await api(ingest.ops, 'GET', '/metrics')).body as string;
        throw new Error(`never overloaded: ${/saylau_http_in_flight \S+/.exec(metrics)?.[0]}`);
      }
      await page.locator('.actions button.primary').click();
      const position = page.locator('.waiting .position');
      await position.waitFor({ timeout: 30_000 });
      expect(await position.textContent()).toMatch(/Your place in line: \d+/);
      await page.screenshot({ path: join(shots, 'waiting-queue-en.png'), fullPage: true });
      expect(await axe(page)).toEqual([]);
    } finally {
      storming = false;
      await Promise.all(storm);
    }
    await page.locator('#receipt-code').waitFor({ timeout: 60_000 });
    const ballotId = await page.evaluate(
      (id) =>
        JSON.parse((globalThis as unknown as PageGlobals).localStorage.getItem(`saylau:receipt:${id}`)!)
          .ballotId,
      ELECTION,
    );
    receipts.push(ballotId);
    const records = await ballotsFor(since, ballotId);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(w.foreign).toEqual([]);
    await w.context.close();
  }, 180_000);

  it('serves the client from memory: brotli/gzip, ETag revalidation, immutable hashed assets, strict CSP', async () => {
    const html = await fetch(`${ingest.base}/`, { headers: { 'accept-encoding': 'br' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-encoding')).toBe('br');
    expect(html.headers.get('cache-control')).toBe('no-cache');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const page = await html.text();
    const etag = html.headers.get('etag') ?? '';
    // Revalidated as a browser does: the same Accept-Encoding, so the same (Brotli) variant's tag.
    const again = await fetch(`${ingest.base}/`, {
      headers: { 'accept-encoding': 'br', 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${ingest.base}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${ingest.base}/assets/nothing.js`)).status).toBe(404);
    const clientConfig = await (await fetch(`${ingest.base}/assets/config.json`)).json();
    // The interval the publisher uses: SNAPSHOT_INTERVAL is not set here, so the election's 60 s.
    expect(clientConfig).toEqual({
      devLogin: true,
      identityProviderUrl: '',
      resultsPort: PUBLISHER_PORT,
      snapshotIntervalSec: 60,
    });
    // The icon the page links, and the address browsers try on their own: no 404.
    const icon = /<link rel="icon" type="image\/svg\+xml" href="(\/assets\/favicon-[^"]+\.svg)">/.exec(
      page,
    )?.[1];
    expect(icon).toBeDefined();
    for (const path of [icon!, '/favicon.ico']) {
      const res = await fetch(`${ingest.base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml');
    }
  });

  it('after the next snapshot the receipts show as counted: in ingest and on the results site', async () => {
    expect(receipts.length).toBe(3);
    const publisher = spawn(process.execPath, ['--import', 'tsx', 'publisher/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ELECTION: electionPath,
        PUBLIC_DIR: publicDir,
        PUBLISHER_PORT: String(PUBLISHER_PORT),
        SNAPSHOT_INTERVAL: '3',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    publisher.stdout?.on('data', (d) => {
      output += d;
    });
    publisher.stderr?.on('data', (d) => {
      output += d;
    });
    try {
      // The snapshot that counts them: latest.json names its seq, codes/<seq>.txt lists the ids.
      const counted = () => {
        const latest = join(publicDir, 'latest.json');
        if (!existsSync(latest)) return [];
        const seq = JSON.parse(readFileSync(latest, 'utf8')).seq;
        const file = join(publicDir, 'codes', `${seq}.txt`);
        if (!existsSync(file)) return [];
        const ids = new Set(readFileSync(file, 'utf8').split('\n'));
        return receipts.filter((id) => ids.has(id));
      };
      await expect.poll(counted, { timeout: 150_000, interval: 1_000 }).toHaveLength(3);
      // Ingest re-reads the codes file on its own timer (10 s).
      for (const id of receipts) {
        await expect
          .poll(async () => (await api(ingest.base, 'GET', `/v1/receipts/${id}`)).body.status, {
            timeout: 30_000,
            interval: 1_000,
          })
          .toBe('counted');
      }
      const w = await openPage('en-US');
      await w.page.goto(`http://127.0.0.1:${PUBLISHER_PORT}/`);
      await w.page.locator('#receipt-code').fill(receipts[0]!);
      // The site loads latest.json after its first paint: look the code up until it has.
      const result = w.page.locator('#receipt-result');
      await expect
        .poll(
          async () => {
            await w.page.locator('#receipt-form button[type=submit]').click();
            await w.page.waitForTimeout(500);
            return result.getAttribute('class');
          },
          { timeout: 30_000, interval: 1_000 },
        )
        .toBe('good');
      await w.context.close();
    } catch (error) {
      throw new Error(`${String(error)}\npublisher output:\n${output.slice(-3000)}`);
    } finally {
      publisher.kill('SIGTERM');
    }
  }, 240_000);

  it('without dev login the page redirects to the identity provider and votes with the token it brings back', async () => {
    const member = members[3]!;
    const keys = await readKeys(config.stackDir, ELECTION);
    // A member registry: its own key, published as a JWKS that ingest fetches at start.
    const registry = generateKeyPairSync('ed25519');
    const issuer = `http://127.0.0.1:${IDP_PORT}`;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(registry.publicKey)), kid: 'registry-1' }] });
    // The provider signs the voter in and sends them back with #token=, as a member registry would.
    const idp = createServer((req, res) => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${IDP_PORT}`);
      if (url.pathname === '/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
        return;
      }
      const back = url.searchParams.get('redirect_uri') ?? '';
      if (url.searchParams.get('election') !== ELECTION || !back.startsWith(`http://127.0.0.1:${PORT}/`)) {
        res.writeHead(400).end();
        return;
      }
      void new SignJWT({ district: member.district })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'registry-1' })
        .setSubject(voterHash(keys.pepper, member.memberId))
        .setIssuer(issuer)
        .setAudience(ELECTION)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(registry.privateKey)
        .then((token) => {
          res.writeHead(302, { location: `${back}#token=${token}` }).end();
        });
    });
    await new Promise<void>((resolve) => idp.listen(IDP_PORT, '127.0.0.1', resolve));
    await ingest.stop();
    ingest = await startIngest({
      election: electionPath,
      port: PORT,
      processes: 1,
      env: {
        ...ingestEnv,
        DEV_LOGIN: '0',
        IDENTITY_PROVIDER_URL: `http://127.0.0.1:${IDP_PORT}/`,
        IDENTITY_JWKS: `${issuer}/jwks.json`,
        IDENTITY_ISSUER: issuer,
      },
    });
    try {
      const w = await openPage('kk-KZ');
      const { page } = w;
      await page.locator('main button.primary').click();
      await fillBallot(page, member.district);
      // The token left the address bar as soon as the page took it.
      expect(page.url()).toBe(`http://127.0.0.1:${PORT}/`);
      await review(page);
      const ballotId = await castAndWaitForReceipt(page);
      expect((await api(ingest.base, 'GET', `/v1/receipts/${ballotId}`)).body.status).toMatch(
        /accepted|counted/,
      );
      expect(w.foreign.every((url) => url.startsWith(`http://127.0.0.1:${IDP_PORT}/`))).toBe(true);
      expect(await w.cspViolations()).toEqual([]);
      await w.context.close();
    } finally {
      idp.close();
    }
  }, 180_000);

  it('every ballot request had the same padded length', () => {
    expect(castSizes.size).toBe(1);
    const [size] = [...castSizes];
    expect(size! % 1024).toBe(0);
    expect(size!).toBeLessThanOrEqual(8192);
  });
});
