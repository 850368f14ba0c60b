/**
 * The polling-station official's page (`GET /official/`) in Debian's
 * Chromium against a real ingest and the real stack:
 * - sign-in by pasting the token, check-ins typed by keyboard only in kk, ru
 *   and en (Tab, typing, Enter; no clicks), each answer on screen in that
 *   language with the focus back in the member-id field; the refusals
 *   (already voted online with the rule, already checked in here, checked in
 *   at another station, not on the roll, a malformed id); sign-out;
 * - a token ingest refuses (expired): sign in again, the queued check-in is
 *   kept and sent once signed in;
 * - an answer lost on the way (the request recorded, the page told nothing):
 *   the resend is answered `repeated` and the page says "recorded: check the
 *   list" rather than "issue a ballot" or "issued earlier";
 * - offline for 30 s while 10 members are checked in, the page reloaded in
 *   the middle (served by its service worker): nothing lost; back online the
 *   page sends them one at a time in the order typed, and Kafka's `issuance`
 *   topic holds paper check-ins of that precinct for exactly those 10 voter
 *   hashes (the pepper's HMAC, as ingest computes it);
 * - axe-core finds no serious violation on any view; at phone size
 *   (390×844) nothing overflows sideways (screenshots in test-output/official/).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../common/paths.js';
import { TOPICS } from '../common/records.js';
import {
  type ElectionIndex,
  type ElectionKeys,
  issueDevStaffToken,
  listSampleMembers,
  loadElection,
  readKeys,
  voterHash,
} from '../election/index.js';
import {
  api,
  forgetElection,
  type Ingest,
  offsetsOf,
  readRecords,
  startIngest,
  VoterClient,
} from './ingest.harness.js';
import { launchChromium } from './support/chromium.js';
import { testPort } from './support/ports.js';
import { config, kafkaClient } from './support/stack.js';

const PORT = testPort(18_745);
/** A fresh election per run: the issuance topic keeps every run's check-ins. */
const ELECTION = `official-${Date.now().toString(36)}`;
const PRECINCT = 'P-71-1';
const DISTRICT = 'D-71-1';
const OFFICIAL = 'O-71-1-a';
/** A second station of the same district, where one member is checked in first. */
const OTHER_STATION = {
  id: 'P-71-2',
  district: DISTRICT,
  address: 'Астана, ул. Кенесары, 40',
  officials: [{ id: 'O-71-2-a', name: 'Chair 71-2' }],
};
const OFFLINE_MS = 30_000;
const PHONE = { width: 390, height: 844 };
const LANGS = ['kk', 'ru', 'en'] as const;
const shots = join(repoRoot, 'test-output', 'official');
const run = promisify(execFile);
const kafka = kafkaClient('official-page-test');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
type Catalogue = Record<string, string | Record<string, string>>;
const catalogues = Object.fromEntries(
  LANGS.map((lang) => [
    lang,
    JSON.parse(
      readFileSync(join(repoRoot, 'ingest', 'client', 'official', 'i18n', `${lang}.json`), 'utf8'),
    ) as Catalogue,
  ]),
) as Record<(typeof LANGS)[number], Catalogue>;
const text = (lang: (typeof LANGS)[number], key: string) => catalogues[lang][key] as string;

/** The page's globals, for functions that run in the browser (the root tsconfig has no DOM lib). */
interface PageGlobals {
  localStorage: { getItem(key: string): string | null };
  sessionStorage: { getItem(key: string): string | null };
  innerWidth: number;
  navigator: { serviceWorker: { ready: Promise<unknown>; controller: unknown } };
  document: {
    documentElement: { lang: string; scrollWidth: number };
    activeElement: { id: string; matches(s: string): boolean } | null;
    getElementById(id: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>;
  };
  axe: { run(context: unknown, options: unknown): Promise<unknown> };
}

let browser: Browser;
let ingest: Ingest;
let index: ElectionIndex;
let keys: ElectionKeys;
let token: string;
/** Members on the roll of the precinct's district, and one of another district. */
let local: string[] = [];
let elsewhere: string;

/** `election/configs/tiny.json` under this run's id, with a second station in D-71-1; all open now. */
async function prepareTinyElection(): Promise<string> {
  const tiny = JSON.parse(readFileSync(join(repoRoot, 'election', 'configs', 'tiny.json'), 'utf8'));
  const path = join(shots, `${ELECTION}.json`);
  const open = { opens: '2020-01-01T00:00:00Z', closes: '2099-12-31T23:59:59Z' };
  writeFileSync(
    path,
    `${JSON.stringify({ ...tiny, id: ELECTION, ...open, sampleRoll: { seed: ELECTION, size: 500 }, paperPrecincts: [...tiny.paperPrecincts, OTHER_STATION].map((p: object) => ({ ...p, ...open })) }, null, 2)}\n`,
  );
  await run(process.execPath, ['--import', 'tsx', 'election/cli.ts', 'init', path], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return path;
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  const path = await prepareTinyElection();
  index = loadElection(path);
  keys = await readKeys(config.stackDir, ELECTION);
  const roll = listSampleMembers(index, 0, 500);
  local = roll.filter((m) => m.district === DISTRICT).map((m) => m.memberId);
  elsewhere = roll.find((m) => m.district !== DISTRICT)!.memberId;
  expect(local.length).toBeGreaterThanOrEqual(17);
  token = await issueDevStaffToken(keys, index, { role: 'official', id: OFFICIAL, precinct: PRECINCT });
  ingest = await startIngest({ election: path, port: PORT, processes: 1 });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await ingest?.stop();
  await forgetElection(config, ELECTION);
});

async function open(locale: string, path = '/official/'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: PHONE });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${PORT}${path}`);
  return { context, page };
}

const activeId = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id ?? '');

/** Presses Tab until `selector` has the focus: proves it is reachable by keyboard. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (
      await page.evaluate(
        (sel) => (globalThis as unknown as PageGlobals).document.activeElement?.matches(sel) ?? false,
        selector,
      )
    )
      return;
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

async function setLang(page: Page, lang: string): Promise<void> {
  await tabTo(page, `#langs button[data-lang="${lang}"]`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (l) => (globalThis as unknown as PageGlobals).document.documentElement.lang === l,
    lang,
  );
}

/** Types a member id into the focused field and presses Enter, as a barcode scanner does. */
async function scan(page: Page, memberId: string): Promise<void> {
  expect(await activeId(page)).toBe('member-id');
  await page.keyboard.type(memberId);
  await page.keyboard.press('Enter');
}

/** Waits for the big answer about `memberId` and returns its title. */
async function answerFor(page: Page, memberId: string): Promise<string> {
  await page.locator(`#answer:not(.wait) .answer-member:text-is("${memberId}")`).waitFor();
  return (await page.locator('#answer-title').textContent()) ?? '';
}

/** axe-core (WCAG 2.1 A/AA rules); the serious and critical violations. */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    (globalThis as unknown as PageGlobals).axe.run((globalThis as unknown as PageGlobals).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  return (result as { violations: { id: string; impact: string; nodes: unknown[] }[] }).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`);
}

/** Phone size: the page is no wider than the screen. */
async function fitsPhone(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const { scroll, width } = await page.evaluate(() => ({
    scroll: (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
    width: (globalThis as unknown as PageGlobals).innerWidth,
  }));
  expect(scroll, `${name} overflows sideways`).toBeLessThanOrEqual(width);
}

/** The shift's log as the page shows it, newest first: [member, outcome]. */
const logOutcomes = (page: Page) =>
  page.evaluate(() =>
    [...(globalThis as unknown as PageGlobals).document.querySelectorAll('#log li.entry')].map((li) => [
      li.getAttribute('data-member'),
      li.getAttribute('data-outcome'),
    ]),
  );

describe("official's page", () => {
  it('catalogues: the same keys in kk, ru and en, every plural form', () => {
    const keys = Object.keys(catalogues.en).sort();
    for (const lang of LANGS) {
      expect(Object.keys(catalogues[lang]).sort()).toEqual(keys);
      const forms = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const [key, message] of Object.entries(catalogues[lang])) {
        if (typeof message === 'string') continue;
        for (const form of forms) expect(message[form], `${lang} ${key} ${form}`).toBeTypeOf('string');
      }
    }
  });

  it('served by ingest: /official/ with CSP, brotli and ETag; its service worker', async () => {
    const html = await fetch(`${ingest.base}/official/`, { headers: { 'accept-encoding': 'br' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-encoding')).toBe('br');
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const body = await html.text();
    expect(body).toMatch(/src="\/assets\/official-[^"]+\.js"/);
    const etag = html.headers.get('etag') ?? '';
    const again = await fetch(`${ingest.base}/official/`, {
      headers: { 'accept-encoding': 'br', 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    const bare = await fetch(`${ingest.base}/official`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/official/');
    const worker = await fetch(`${ingest.base}/official/sw.js`);
    expect(worker.headers.get('content-type')).toContain('text/javascript');
    expect(worker.headers.get('cache-control')).toBe('no-cache');
  });

  it('sign in by pasting the token; check-ins by keyboard only in kk, ru and en; refusals; sign out', async () => {
    const { context, page } = await open('kk-KZ');
    await page.locator('#signin').waitFor();
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.lang),
    ).toBe('kk');
    expect(await axe(page)).toEqual([]);
    await fitsPhone(page, 'signin-kk');
    await tabTo(page, '#token');
    await page.keyboard.insertText(token); // a paste
    await page.keyboard.press('Enter');
    await page.locator('#checkin').waitFor();
    expect(await page.locator('#official-id').textContent()).toBe(OFFICIAL);
    expect(await page.locator('dl.station').textContent()).toContain(
      index.config.paperPrecincts.find((p) => p.id === PRECINCT)!.address,
    );

    // One check-in in each language, typed (no clicks); the answer in that language, focus back.
    for (const [i, lang] of LANGS.entries()) {
      if (lang !== 'kk') await setLang(page, lang);
      expect(await activeId(page)).toBe('member-id');
      // The district's name in the page's language.
      const district = index.config.districts.find((d) => d.id === DISTRICT)!;
      expect(await page.locator('dl.station').textContent()).toContain(district.names[lang]);
      await scan(page, local[i]!);
      expect(await answerFor(page, local[i]!)).toBe(text(lang, 'answer.checked_in.title'));
      expect(await page.locator('#answer').getAttribute('class')).toBe('answer ok');
      expect(await activeId(page)).toBe('member-id');
      await expect
        .poll(() =>
          page.evaluate(
            () => (globalThis as unknown as PageGlobals).document.getElementById('live')?.textContent,
          ),
        )
        .toBe(`${local[i]}: ${text(lang, 'answer.checked_in.title')}`);
      expect(await axe(page)).toEqual([]);
      await fitsPhone(page, `checked-in-${lang}`);
    }

    // Refusals, in English: checked in here before; has an online credential; another district.
    await scan(page, local[0]!);
    expect(await answerFor(page, local[0]!)).toBe(text('en', 'answer.repeated.title'));
    const online = local[3]!;
    await new VoterClient(ingest.base, ELECTION).credential(online, DISTRICT);
    await scan(page, online);
    expect(await answerFor(page, online)).toBe(text('en', 'answer.already_issued_online.title'));
    expect(await page.locator('#answer .rule').textContent()).toBe(text('en', 'rule.onlineOnly'));
    expect(await axe(page)).toEqual([]);
    await fitsPhone(page, 'already-online-en');
    await scan(page, elsewhere);
    expect(await answerFor(page, elsewhere)).toBe(text('en', 'answer.not_eligible.title'));
    const other = local[16]!;
    const otherToken = await issueDevStaffToken(keys, index, {
      role: 'official',
      id: OTHER_STATION.officials[0]!.id,
      precinct: OTHER_STATION.id,
    });
    const first = await api(
      ingest.base,
      'POST',
      '/v1/paper/check-ins',
      { election: ELECTION, memberId: other },
      { authorization: `Bearer ${otherToken}` },
    );
    expect(first.body.status).toBe('checked_in');
    await scan(page, other);
    expect(await answerFor(page, other)).toBe(text('en', 'answer.already_checked_in.title'));
    await scan(page, '12345');
    expect(await page.locator('#member-error').textContent()).toBe(text('en', 'checkin.invalid'));
    expect(await activeId(page)).toBe('member-id');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');

    expect(await logOutcomes(page)).toEqual([
      [other, 'already_checked_in'],
      [elsewhere, 'not_eligible'],
      [online, 'already_issued_online'],
      [local[0], 'repeated'],
      [local[2], 'checked_in'],
      [local[1], 'checked_in'],
      [local[0], 'checked_in'],
    ]);
    // The log survives a reload; so does the sign-in (this tab's session).
    await page.reload();
    await page.locator('#log li.entry').first().waitFor();
    expect(await logOutcomes(page)).toHaveLength(7);

    // Sign out: the token and the shift's answered check-ins leave the device.
    await tabTo(page, '#sign-out');
    await page.keyboard.press('Enter');
    await page.locator('#signin').waitFor();
    const left = await page.evaluate(
      (key) => [
        (globalThis as unknown as PageGlobals).sessionStorage.getItem('saylau:official:session'),
        (globalThis as unknown as PageGlobals).localStorage.getItem(key),
      ],
      `saylau:official:shift:${ELECTION}:${PRECINCT}`,
    );
    expect(left).toEqual([null, null]);
    await context.close();
  }, 180_000);

  it('a token ingest refuses: sign in again, the queued check-in is kept and sent after', async () => {
    const member = local[5]!;
    // Expired a minute ago (past ingest's clock tolerance); the page leaves expiry to ingest.
    const expired = await issueDevStaffToken(
      keys,
      index,
      { role: 'official', id: OFFICIAL, precinct: PRECINCT },
      { nowMs: Date.now() - 120_000, ttlSec: 60 },
    );
    const { context, page } = await open('ru-RU', `/official/#token=${expired}`);
    await page.locator('#checkin').waitFor();
    await scan(page, member);
    await page.locator('#signin').waitFor();
    expect(await page.locator('#main .notice').allTextContents()).toEqual([
      text('ru', 'signin.again'),
      (catalogues.ru['signin.waiting'] as Record<string, string>)
        .one!.replace('{n}', '1')
        .replace('{precinct}', PRECINCT),
    ]);
    expect(await axe(page)).toEqual([]);
    await fitsPhone(page, 'signin-again-ru');
    await tabTo(page, '#token');
    await page.keyboard.insertText(token);
    await page.keyboard.press('Enter');
    await page.locator(`#log li.entry[data-member="${member}"][data-outcome="checked_in"]`).waitFor();
    expect(await activeId(page)).toBe('member-id');
    await tabTo(page, '#sign-out');
    await page.keyboard.press('Enter');
    await page.locator('#signin').waitFor();
    await context.close();
  }, 120_000);

  it('an answer lost on the way: the resend is answered repeated, recorded once, and the page says to check the list', async () => {
    const member = local[4]!;
    const since = await offsetsOf(kafka, TOPICS.issuance);
    const { context, page } = await open('en-GB', `/official/#token=${token}`);
    await page.locator('#checkin').waitFor();
    // The first request reaches ingest (and is recorded); its answer never reaches the page.
    let lost = 0;
    await page.route('**/v1/paper/check-ins', async (route) => {
      if (lost++ === 0) {
        await route.fetch();
        await route.abort('connectionreset');
      } else await route.continue();
    });
    await scan(page, member);
    expect(await answerFor(page, member)).toBe(text('en', 'answer.recorded_unsure.title'));
    expect(lost).toBe(2);
    expect(await logOutcomes(page)).toEqual([[member, 'recorded_unsure']]);
    expect(await axe(page)).toEqual([]);
    const records = await readRecords(
      kafka,
      TOPICS.issuance,
      since,
      (v) => v.election === ELECTION && v.channel === 'paper' && v.precinct === PRECINCT,
    );
    expect(new Set(records.map((r) => r.value.voterHash))).toEqual(new Set([voterHash(keys.pepper, member)]));
    // Signed out, so the next test starts with an empty log.
    await tabTo(page, '#sign-out');
    await page.keyboard.press('Enter');
    await page.locator('#signin').waitFor();
    await context.close();
  }, 120_000);

  it('offline for 30 s while 10 members check in, reloaded in the middle: back online, all 10 recorded once, in order', async () => {
    const members = local.slice(6, 16);
    const since = await offsetsOf(kafka, TOPICS.issuance);
    const { context, page } = await open('en-GB', `/official/#token=${token}`);
    await page.locator('#checkin').waitFor();
    // The token left the address bar.
    expect(page.url()).toBe(`http://127.0.0.1:${PORT}/official/`);
    // The service worker keeps the page for the reload while offline.
    await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).navigator.serviceWorker.ready.then(() => true),
    );
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobals).navigator.serviceWorker.controller !== null,
    );

    const sent: string[] = [];
    const answered: { memberId: string; status: number; outcome: string }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const isCheckIn = (url: string, method: string) =>
      method === 'POST' && url.endsWith('/v1/paper/check-ins');
    page.on('request', (req) => {
      if (!isCheckIn(req.url(), req.method())) return;
      sent.push(JSON.parse(req.postData() ?? '{}').memberId);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
    });
    page.on('requestfailed', (req) => {
      if (isCheckIn(req.url(), req.method())) inFlight--;
    });
    page.on('response', async (res) => {
      const req = res.request();
      if (!isCheckIn(req.url(), req.method())) return;
      // Pushed at once, in the order the answers came; the body is filled in when read.
      const answer = {
        memberId: JSON.parse(req.postData() ?? '{}').memberId,
        status: res.status(),
        outcome: '',
      };
      answered.push(answer);
      inFlight--;
      const body = await res.json().catch(() => ({}));
      answer.outcome = body.status ?? body.error?.code;
    });

    await context.setOffline(true);
    const offlineAt = Date.now();
    for (const m of members.slice(0, 5)) await scan(page, m);
    await page.locator('#queue-status').filter({ hasText: 'Queued: 5 check-ins' }).waitFor();
    expect(await page.locator('#answer').getAttribute('class')).toBe('answer wait');
    expect(await axe(page)).toEqual([]);
    await fitsPhone(page, 'queued-en');

    // A reload while offline: the page comes back from the service worker, the queue from storage.
    await page.reload();
    await page.locator('#checkin').waitFor();
    expect(await logOutcomes(page)).toEqual(
      members
        .slice(0, 5)
        .reverse()
        .map((m) => [m, 'queued']),
    );
    for (const m of members.slice(5)) await scan(page, m);
    await page.locator('#queue-status').filter({ hasText: 'Queued: 10 check-ins' }).waitFor();
    const stored = await page.evaluate(
      (key) =>
        JSON.parse((globalThis as unknown as PageGlobals).localStorage.getItem(key) ?? '{"entries":[]}'),
      `saylau:official:shift:${ELECTION}:${PRECINCT}`,
    );
    expect(stored.entries.map((e: { memberId: string; outcome: null }) => [e.memberId, e.outcome])).toEqual(
      members.map((m) => [m, null]),
    );
    await page.waitForTimeout(Math.max(0, OFFLINE_MS - (Date.now() - offlineAt)));
    expect(answered).toEqual([]); // nothing reached ingest while offline

    await context.setOffline(false);
    await page
      .locator('#queue-status')
      .filter({ hasText: text('en', 'queue.empty') })
      .waitFor({ timeout: 90_000 });

    // In the order typed, one at a time, each answered once: `checked_in`, or `repeated` when an
    // attempt the page saw fail had reached ingest after all (then the page says to check the list).
    await expect.poll(() => answered.every((a) => a.outcome !== '')).toBe(true);
    expect(answered.map((a) => [a.memberId, a.status])).toEqual(members.map((m) => [m, 200]));
    const repeated = answered.filter((a) => a.outcome === 'repeated').map((a) => a.memberId);
    expect(answered.filter((a) => a.outcome !== 'checked_in' && a.outcome !== 'repeated')).toEqual([]);
    // Seen in 2 of 11 runs on a busy box (every attempt before had failed in the browser): shown
    // with ingest's log, which says whether the ledger saw its own record twice.
    if (repeated.length > 0)
      process.stderr.write(
        `repeated after the offline spell: ${repeated}\n${ingest.output().slice(-5000)}\n`,
      );
    expect(sent.filter((m, i) => m !== sent[i - 1])).toEqual(members);
    expect(maxInFlight).toBe(1);
    expect(await logOutcomes(page)).toEqual(
      [...members].reverse().map((m) => [m, repeated.includes(m) ? 'recorded_unsure' : 'checked_in']),
    );

    // Kafka: the paper check-ins of this precinct since the offline spell are exactly these members.
    const records = await readRecords(
      kafka,
      TOPICS.issuance,
      since,
      (v) => v.election === ELECTION && v.channel === 'paper' && v.precinct === PRECINCT,
    );
    const hashes = new Set(records.map((r) => r.value.voterHash as string));
    expect(hashes).toEqual(new Set(members.map((m) => voterHash(keys.pepper, m))));
    await context.close();
  }, 240_000);
});
