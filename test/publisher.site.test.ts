/**
 * The results site in a real browser (Debian Chromium) against a real
 * snapshot (ballots through Kafka and ClickHouse): it shows the snapshot's
 * numbers, switches between Kazakh, Russian and English, finds a counted
 * receipt and not an uncounted one, and verifies the chain with WebCrypto.
 * Against what the browser saw before (localStorage, issue 14): it pins the
 * key, accepts a chain that grew, and names a rolled-back head, a truncated
 * or forked chain, a code gone from a later snapshot and a changed key.
 * Issue 17, phone first: every view axe-clean in kk/ru/en at 390×844 and
 * 1366×900 (test/support/results-views.ts), nothing wider than a phone,
 * votes by region as cards, race search and grouping, the header's figures,
 * the tile map in both modes with its table, district turnout and the list of
 * past snapshots (snapshot v5), the receipt check's own messages.
 * Leaves a screenshot in test-output/ for a person to look at.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { formatDateTime, formatNumber } from '../common/web/format.js';
import { GLOSSARY, TERM_IDS } from '../common/web/glossary.js';
import { loadElection } from '../election/index.js';
import { signKeyStatement } from '../publisher/key-statement.js';
import { LiveFeed } from '../publisher/live-feed.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { installSite } from '../publisher/site-assets.js';
import type { Snapshot } from '../publisher/snapshot.js';
import { StaticServer } from '../publisher/static-server.js';
import { fakeDistrictKeys, publishConstructedChain } from './publisher.fixtures.js';
import {
  awaitInClickHouse,
  closeRealPublishers,
  produceResults,
  realPublisher,
} from './publisher.real-data.js';
import { launchChromium } from './support/chromium.js';
import { testPort } from './support/ports.js';
import { walkResultsViews } from './support/results-views.js';

const OUT = join(repoRoot, 'test-output');
let browser: Browser;
let base: string;
let snapshot: Snapshot;
let counted: string;
let publicDir: string;
let produced: Awaited<ReturnType<typeof produceResults>>;
const servers: StaticServer[] = [];

async function serve(root: string): Promise<string> {
  const s = new StaticServer({
    root,
    port: 0,
    opsPort: 0,
    host: '127.0.0.1',
    metrics: new PublisherMetrics(),
    logger: createLogger('site', 'warn'),
    ready: () => true,
  });
  servers.push(s);
  return `http://127.0.0.1:${await s.listen()}/`;
}

beforeAll(async () => {
  const t = await realPublisher('pub-site');
  produced = await produceResults(t.index, 48);
  await awaitInClickHouse(t.index, produced.codes.length);
  snapshot = await t.scheduler.runOnce();
  counted = produced.codes[5]!;
  publicDir = t.dir;
  await installSite(t.dir);
  await mkdir(join(t.dir, 'elections'), { recursive: true });
  // The site reads only `snapshotKey` from the manifest; the rest is election/'s business.
  await writeFile(
    join(t.dir, 'elections', `${t.index.id}.json`),
    JSON.stringify({ id: t.index.id, snapshotKey: { alg: 'Ed25519', spki: t.spki } }),
  );
  const live = new LiveFeed({ ...t, metrics: new PublisherMetrics(), intervalMs: 5000 });
  await live.refresh();
  base = await serve(t.dir);
  browser = await launchChromium();
  await mkdir(OUT, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  await closeRealPublishers();
});

describe('results site', () => {
  it('shows the snapshot, switches language, looks up receipts and verifies the chain', async () => {
    const context = await browser.newContext({ locale: 'kk-KZ', viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);

    // Kazakh first (the browser's language), with the snapshot number.
    await expect.poll(() => page.locator('#status').textContent()).toContain(`№${snapshot.seq}`);
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    expect(await page.locator('#race-h').textContent()).toBe(snapshot.races[0]!.names.kk);

    // The national race's numbers are the snapshot's.
    for (const c of snapshot.races[0]!.total.candidates) {
      const shown = await page.locator(`li[data-candidate="${c.id}"] [data-total]`).textContent();
      expect(shown?.replace(/\s/g, ''), c.id).toBe(String(c.total));
    }
    const regionCards = await page.locator('#region-cards > li').count();
    expect(regionCards).toBe(snapshot.races[0]!.regions.length);

    // The paper polling stations: every precinct, the one with a protocol accepted at version 1.
    const precincts = snapshot.precincts!;
    expect(await page.locator('#precincts-table tbody tr').count()).toBe(precincts.length);
    const reported = precincts.find((p) => p.status === 'accepted')!;
    const row = page.locator(`#precincts-table tr[data-precinct="${reported.id}"]`);
    expect(await row.getAttribute('data-status')).toBe('accepted');
    expect(await row.locator('td').nth(1).textContent()).toBe('қабылданды');
    expect(await row.locator('td').nth(2).textContent()).toBe('1');

    // Russian, then English.
    await page.click('button[data-lang="ru"]');
    expect(await row.locator('td').nth(1).textContent()).toBe('принят');
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    expect(await page.locator('#status').textContent()).toContain(`Срез №${snapshot.seq}`);
    expect(await page.locator('#race-h').textContent()).toBe(snapshot.races[0]!.names.ru);
    await page.click('button[data-lang="en"]');
    expect(await page.locator('#status').textContent()).toContain(`Snapshot #${snapshot.seq}`);
    expect(await row.locator('td').nth(1).textContent()).toBe('accepted');

    // A counted receipt, typed the way receipts are shown (groups, lower case), and one that is not.
    const grouped = counted.toLowerCase().replace(/(.{5})/g, '$1 ');
    await page.fill('#receipt-code', grouped);
    await page.click('#receipt-form button');
    await expect.poll(() => page.locator('#receipt-result').textContent()).toContain('Yes: this code is in');
    await page.fill('#receipt-code', 'AAAAA BBBBB CCCCC DDDDD EEEEE Z');
    await page.click('#receipt-form button');
    await expect.poll(() => page.locator('#receipt-result').textContent()).toContain('not in snapshot');

    // The voter's receipt page links here with #receipt=<code>: answered on arrival.
    const linked = await context.newPage();
    await linked.goto(`${base}#receipt=${counted}`);
    await expect.poll(() => linked.locator('#receipt-result').getAttribute('class')).toBe('good');
    await linked.close();

    // The in-browser verification: Ed25519 signatures, chain, sums and Merkle root.
    await page.click('#verify-button');
    await expect
      .poll(() => page.locator('#verify-result').textContent(), { timeout: 20_000 })
      .toContain('All good');

    // Back to Kazakh for the picture.
    await page.click('button[data-lang="kk"]');
    await page.fill('#receipt-code', grouped);
    await page.click('#receipt-form button');
    await page.click('#verify-button');
    await expect
      .poll(() => page.locator('#verify-result').textContent(), { timeout: 20_000 })
      .toContain('Барлығы дұрыс');
    await page.screenshot({ path: join(OUT, 'publisher-site.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('writes Kazakh numbers and dates without the browser having Kazakh locale data; shows the glossary', async () => {
    const context = await browser.newContext({
      locale: 'kk-KZ',
      timezoneId: 'UTC',
      viewport: { width: 390, height: 844 },
    });
    // A browser without Kazakh data: number formatting for kk throws, dates and plurals fall back to English.
    await context.addInitScript(() => {
      const kk = (locales: unknown) =>
        ([] as unknown[]).concat(locales ?? []).some((l) => String(l).toLowerCase().startsWith('kk'));
      const { NumberFormat, DateTimeFormat, PluralRules } = Intl;
      const noData = () => new RangeError('no locale data for kk');
      Object.assign(Intl, {
        NumberFormat: class extends NumberFormat {
          constructor(locales?: string, options?: Intl.NumberFormatOptions) {
            if (kk(locales)) throw noData();
            super(locales, options);
          }
        },
        DateTimeFormat: class extends DateTimeFormat {
          constructor(locales?: string, options?: Intl.DateTimeFormatOptions) {
            super(kk(locales) ? 'en' : locales, options);
          }
        },
        PluralRules: class extends PluralRules {
          constructor(locales?: string, options?: Intl.PluralRulesOptions) {
            super(kk(locales) ? 'en' : locales, options);
          }
        },
      });
      for (const proto of [Number.prototype, Date.prototype] as unknown as Record<string, unknown>[])
        for (const method of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) {
          const real = proto[method] as ((...a: unknown[]) => string) | undefined;
          if (real === undefined) continue;
          proto[method] = function (this: unknown, locales?: unknown, ...rest: unknown[]) {
            if (kk(locales)) throw noData();
            return real.call(this, locales, ...rest);
          };
        }
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await expect.poll(() => page.locator('#status').textContent()).toContain(`№${snapshot.seq}`);

    // The roll is in the thousands: grouped with U+00A0, never "800,000".
    const roll = snapshot.turnout.total.roll;
    expect(roll).toBeGreaterThanOrEqual(1000);
    const total = (await page.locator('#turnout-total').textContent()) ?? '';
    expect(total).toContain(formatNumber('kk', roll));
    expect(total).toMatch(/\d\u00a0\d{3}/);
    expect(total).not.toMatch(/\d,\d{3}/);
    // "№1 жария нұсқа, 2026 ж. 4 желтоқсан, 20:21 жағдайы бойынша", never "2026 M12 4" or "December".
    const status = (await page.locator('#status').textContent()) ?? '';
    expect(status).toContain(formatDateTime('kk', snapshot.takenAt, { timeZone: 'UTC' }));
    expect(status).toMatch(
      /қаңтар|ақпан|наурыз|сәуір|мамыр|маусым|шілде|тамыз|қыркүйек|қазан|қараша|желтоқсан/,
    );
    expect(status).not.toMatch(/M\d|[A-Z][a-z]+ \d{4}/);

    // The two buttons say what each does.
    const labels = [
      await page.locator('#receipt-form button').textContent(),
      await page.locator('#verify-button').textContent(),
    ];
    expect(new Set(labels).size).toBe(2);

    // A receipt copied by hand with 0, 1, 8 for O, I, B is still found.
    await page.fill(
      '#receipt-code',
      counted.replace(/O/g, '0').replace(/I/g, '1').replace(/B/g, '8').toLowerCase(),
    );
    await page.click('#receipt-form button');
    await expect.poll(() => page.locator('#receipt-result').getAttribute('class')).toBe('good');

    // The glossary in the footer: every term, in Kazakh.
    await page.click('#glossary summary');
    const terms = await page.locator('#glossary-list dt').allTextContents();
    expect(terms).toEqual(TERM_IDS.map((id) => GLOSSARY.kk[id].term));
    await page.click('button[data-lang="ru"]');
    expect(await page.locator('#glossary summary').textContent()).toBe('Словарь');
    expect(await page.locator('#glossary-list dt').allTextContents()).toEqual(
      TERM_IDS.map((id) => GLOSSARY.ru[id].term),
    );
    expect(errors).toEqual([]);
    await context.close();
  });

  it('serves immutable snapshots with long cache headers and the feed with short ones', async () => {
    const immutable = await fetch(`${base}snapshots/${snapshot.seq}.json`);
    expect(immutable.headers.get('cache-control')).toContain('immutable');
    const latest = await fetch(`${base}latest.json`);
    expect(latest.headers.get('cache-control')).toMatch(/max-age=2\b/);
    const again = await fetch(`${base}latest.json`, {
      headers: { 'if-none-match': latest.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    const index = await fetch(`${base}snapshots/index.json`);
    expect(index.headers.get('cache-control')).toMatch(/max-age=2\b/);
    expect(((await index.json()) as { snapshots: { seq: number }[] }).snapshots[0]!.seq).toBe(snapshot.seq);
    // The icon the pages link, and what browsers ask for unprompted: never a 404.
    for (const icon of ['favicon.svg', 'favicon.ico']) {
      const res = await fetch(`${base}${icon}`);
      expect([res.status, res.headers.get('content-type')], icon).toEqual([200, 'image/svg+xml']);
      expect(await res.text()).toContain('<svg');
    }
    expect(await (await fetch(base)).text()).toContain('<link rel="icon" href="favicon.svg"');
    expect(await (await fetch(`${base}observe/`)).text()).toContain('<link rel="icon" href="../favicon.svg"');
    expect((await fetch(`${base}../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}.latest.json.1.tmp`)).status).toBe(404);
    // Operations endpoints answer on the operations port only.
    for (const path of ['healthz', 'readyz', 'metrics'])
      expect((await fetch(`${base}${path}`)).status).toBe(404);
    const ops = `http://127.0.0.1:${servers[0]!.opsPort}/`;
    expect(await (await fetch(`${ops}healthz`)).text()).toBe('ok\n');
    expect(await (await fetch(`${ops}readyz`)).text()).toBe('ready\n');
    expect(await (await fetch(`${ops}metrics`)).text()).toContain('saylau_site_requests_total');
    expect((await fetch(`${ops}latest.json`)).status).toBe(404);
  });

  it('serves a live feed with turnout and no choices', async () => {
    const live = (await (await fetch(`${base}live.json`)).json()) as Record<string, unknown>;
    expect(Object.keys(live).sort()).toEqual([
      'at',
      'election',
      'nextSnapshotAt',
      'regions',
      'snapshot',
      'total',
      'v',
    ]);
    expect(Object.keys(live.total as object).sort()).toEqual([
      'castOnline',
      'issuedOnline',
      'issuedPaper',
      'roll',
    ]);
    expect((live.total as { castOnline: number }).castOnline).toBe(snapshot.turnout.total.castOnline);
  });

  it('verifies in the browser and reports a tampered snapshot', async () => {
    const tampered = await mkdtemp(join(tmpdir(), 'saylau-tampered-'));
    try {
      await cp(publicDir, tampered, { recursive: true });
      const file = join(tampered, 'snapshots', `${snapshot.seq}.json`);
      const s = JSON.parse(await readFile(file, 'utf8')) as { races: { total: { valid: number } }[] };
      s.races[0]!.total.valid += 1;
      await writeFile(file, JSON.stringify(s));
      await writeFile(join(tampered, 'latest.json'), JSON.stringify(s));
      const url = await serve(tampered);
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      await page.goto(url);
      await expect.poll(() => page.locator('#status').textContent()).toContain('Snapshot #');
      await page.click('#verify-button');
      await expect
        .poll(() => page.locator('#verify-result').textContent(), { timeout: 20_000 })
        .toContain(`Problem found: snapshot ${snapshot.seq}: the signature does not verify`);
      await context.close();
    } finally {
      await rm(tampered, { recursive: true, force: true });
    }
  });
});

describe('site verify against what this browser saw before', () => {
  /** One origin throughout (localStorage is per origin); the server restarts to drop its file cache. */
  const PORT = testPort(18_688);
  const index = loadElection('sample');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64url');
  const dirs: string[] = [];
  let server: StaticServer | null = null;
  let storage: Awaited<ReturnType<BrowserContext['storageState']>> | undefined;

  /** A results directory: site, manifest (with `key`), keys.json, snapshots 1..count. */
  async function site(count: number, vary?: Parameters<typeof publishConstructedChain>[4], key = spki) {
    const dir = await mkdtemp(join(tmpdir(), 'saylau-site-trust-'));
    dirs.push(dir);
    await installSite(dir);
    await mkdir(join(dir, 'elections'));
    await writeFile(
      join(dir, 'elections', `${index.id}.json`),
      JSON.stringify({ id: index.id, snapshotKey: { alg: 'Ed25519', spki: key } }),
    );
    await writeFile(
      join(dir, 'keys.json'),
      JSON.stringify(signKeyStatement(index.id, fakeDistrictKeys(index), privateKey)),
    );
    await publishConstructedChain(dir, index, privateKey, count, vary);
    return dir;
  }

  /** Serves `root` on PORT, verifies in a fresh context carrying the earlier localStorage; result and log. */
  async function verifyAt(root: string, locale = 'en-GB') {
    server?.close();
    server = new StaticServer({
      root,
      port: PORT,
      opsPort: 0,
      host: '127.0.0.1',
      metrics: new PublisherMetrics(),
      logger: createLogger('site', 'warn'),
      ready: () => true,
    });
    await server.listen();
    const context = await browser.newContext({ locale, ...(storage ? { storageState: storage } : {}) });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/[#№]\d/);
    await page.click('#verify-button');
    const result = page.locator('#verify-result');
    await expect.poll(() => result.getAttribute('class'), { timeout: 20_000 }).toMatch(/good|bad/);
    const out = {
      result: (await result.textContent()) ?? '',
      log: (await page.locator('#verify-log').textContent()) ?? '',
    };
    storage = await context.storageState();
    await context.close();
    return out;
  }

  afterAll(async () => {
    server?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('pins the key, accepts growth, names each rollback in kk/ru/en, a vanished code and a changed key', async () => {
    const dir = await site(2);
    const first = await verifyAt(dir);
    expect(first.result).toContain('All good: 2 snapshots');
    const fingerprint = createHash('sha256').update(Buffer.from(spki, 'base64url')).digest('hex');
    expect(first.log).toContain(`Results key pinned on this device (SHA-256 ${fingerprint})`);

    await publishConstructedChain(dir, index, privateKey, 3);
    const grown = await verifyAt(dir);
    expect(grown.result).toContain('All good: 3 snapshots');
    expect(grown.log).toContain('The chain only grew, from snapshot #2 (last seen on this device) to #3');

    // latest.json points back to 2 while 3 is still published.
    await cp(join(dir, 'snapshots', '2.json'), join(dir, 'latest.json'));
    expect((await verifyAt(dir)).result).toContain(
      'Problem found: rolled-back head: the site now shows snapshot #2, but this device already saw snapshot #3',
    );
    expect((await verifyAt(dir, 'ru-RU')).result).toContain(
      'последний срез откачен назад: сайт показывает срез №2',
    );
    expect((await verifyAt(dir, 'kk-KZ')).result).toContain(
      'соңғы нұсқа артқа шегерілді: сайт енді №2 нұсқаны',
    );

    // A mirror that stops at 2.
    await rename(join(dir, 'snapshots', '3.json'), join(dir, 'three.json'));
    expect((await verifyAt(dir)).result).toContain(
      'truncated chain: it ends at snapshot #2, without snapshot #3',
    );
    await rename(join(dir, 'three.json'), join(dir, 'snapshots', '3.json'));
    await cp(join(dir, 'snapshots', '3.json'), join(dir, 'latest.json'));

    // Another chain under the same key.
    const fork = await site(3, () => ({ salt: 'fork' }));
    expect((await verifyAt(fork)).result).toContain(
      'forked chain: snapshot #3 is not the one this device saw',
    );

    // The same chain (deterministic) and a snapshot 4 that counts other codes.
    const vanished = await site(4, (seq) => (seq === 4 ? { salt: 'other' } : {}));
    expect((await verifyAt(vanished)).result).toMatch(
      /Problem found: code [A-Z2-7]{26} is counted in snapshot #3 but not in snapshot #4/,
    );

    // The site now names another snapshot key.
    const other = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64url');
    const rekeyed = await site(3, undefined, other);
    expect((await verifyAt(rekeyed)).result).toContain(
      `the results key changed: this device pinned ${fingerprint.slice(0, 16)}`,
    );

    // Nothing of the failures was saved: the good chain still verifies and has not moved.
    const again = await verifyAt(dir);
    expect(again.result).toContain('All good: 3 snapshots');
    expect(again.log).toContain('Results key is the one pinned on this device');
  });
});

describe('results site, phone first (issue 17)', () => {
  const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } } as const;
  const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  /** The page's globals, for functions that run in the browser (the root tsconfig has no DOM lib). */
  interface PageGlobals {
    axe: { run(context: unknown, options: unknown): Promise<unknown> };
    document: { querySelector(s: string): unknown; documentElement: { scrollWidth: number } };
    innerWidth: number;
  }
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await browser.newContext({ locale: 'en-GB', viewport: SIZES.phone });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  /** axe-core (WCAG 2.1 A/AA) over `selector`'s element: every violation, whatever its impact. */
  async function axe(selector: string): Promise<string[]> {
    if (!(await page.evaluate(() => 'axe' in globalThis)))
      await page.evaluate(await readFile(axeSource, 'utf8'));
    const result = await page.evaluate(async (s) => {
      const g = globalThis as unknown as PageGlobals;
      return g.axe.run(g.document.querySelector(s), {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      });
    }, selector);
    return (
      result as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }
    ).violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  /** Elements of the page that reach past the right edge of the screen. */
  async function tooWide(): Promise<string[]> {
    return page.evaluate(() => {
      const g = globalThis as unknown as {
        innerWidth: number;
        document: {
          querySelectorAll(s: string): Iterable<{
            tagName: string;
            id: string;
            getBoundingClientRect(): { right: number; width: number };
          }>;
        };
      };
      const out: string[] = [];
      for (const e of g.document.querySelectorAll('header *, main *, footer *')) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > g.innerWidth + 0.5)
          out.push(`${e.tagName}#${e.id} right ${Math.round(r.right)}`);
      }
      return out.slice(0, 5);
    });
  }

  it('every view is axe-clean in kk, ru and en, at phone and desktop size, nothing wider than the screen', async () => {
    const problems: string[] = [];
    const seen: string[] = [];
    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      for (const lang of ['kk', 'ru', 'en'] as const) {
        const check = async (view: string) => {
          const where = `${size} ${lang} ${view}`;
          const wide = await page.evaluate(() => {
            const g = globalThis as unknown as PageGlobals;
            return g.document.documentElement.scrollWidth - g.innerWidth;
          });
          if (wide > 0) problems.push(`${where}: the page scrolls sideways by ${wide} px`);
          // axe over the whole page at every view (a view changes one section's state; the rest stay as
          // the walk left them, so the last view has every section in its changed state).
          if (view !== 'end') for (const v of await axe('html')) problems.push(`${where}: ${v}`);
        };
        await walkResultsViews(page, { baseUrl: base, lang }, async (view) => {
          seen.push(view);
          await check(view);
        });
        await check('end');
        expect(await page.locator('#verify-result').getAttribute('class'), `${size} ${lang}`).toBe('good');
      }
    }
    expect(problems).toEqual([]);
    for (const view of [
      'top',
      'receipt-error',
      'race',
      'region-votes',
      'map-leader',
      'map-turnout',
      'district-turnout',
      'verify',
    ])
      expect(seen).toContain(view);
    await page.screenshot({ path: join(OUT, 'publisher-site-last-view.png') });
  });

  it('on a phone, votes by region are cards with the snapshot numbers, nothing wider than the screen', async () => {
    await page.setViewportSize(SIZES.phone);
    await page.goto(base);
    await page.click('button[data-lang="ru"]');
    await page.locator('#region-cards > li').first().waitFor();
    const race = snapshot.races[0]!;
    await page.evaluate(() => {
      const g = globalThis as unknown as {
        document: { querySelectorAll(s: string): Iterable<{ open: boolean }> };
      };
      for (const d of g.document.querySelectorAll('details')) d.open = true;
    });
    for (const region of race.regions) {
      const card = page.locator(`#region-cards > li[data-region="${region.code}"]`);
      for (const c of region.total.candidates) {
        const shown = await card.locator(`tr[data-candidate="${c.id}"] [data-total]`).textContent();
        expect(shown?.replace(/\s/g, ''), `${region.code} ${c.id}`).toBe(String(c.total));
      }
    }
    expect(await tooWide()).toEqual([]);
  });

  it('finds a race by typing, groups races national / by region, and shows the one chosen', async () => {
    await page.setViewportSize(SIZES.phone);
    await page.goto(base);
    await page.click('button[data-lang="en"]');
    await page.locator('#race-section').waitFor();
    const groups = await page
      .locator('#race-select optgroup')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('label')));
    expect(groups[0]).toBe('National');
    expect(groups.slice(1)).toEqual(
      snapshot.turnout.regions
        .filter((r) =>
          snapshot.races.some((race) => race.regions.length === 1 && race.regions[0]!.code === r.code),
        )
        .map((r) => r.names.en),
    );
    expect(await page.locator('#race-count').textContent()).toBe(`${snapshot.races.length} races in all`);
    // A district race, by a part of its name typed in lower case.
    const target = snapshot.races.find((r) => r.regions.length === 1)!;
    await page.fill('#race-search', target.names.en.slice(0, 5).toLowerCase());
    const offered = await page.locator('#race-select option:not([value=""])').allTextContents();
    expect(offered).toContain(target.names.en);
    expect(offered.every((o) => o.toLowerCase().includes(target.names.en.slice(0, 5).toLowerCase()))).toBe(
      true,
    );
    await page.selectOption('#race-select', target.id);
    expect(await page.locator('#race-h').textContent()).toBe(target.names.en);
    expect(await page.locator('#region-cards > li').count()).toBe(1);
    // A region's name finds its races too.
    const region = snapshot.turnout.regions.find((r) => r.code === target.regions[0]!.code)!;
    await page.fill('#race-search', region.names.en);
    expect(await page.locator('#race-select option:not([value=""])').count()).toBe(
      snapshot.races.filter((r) => r.regions.length === 1 && r.regions[0]!.code === region.code).length,
    );
    await page.fill('#race-search', 'zzzz');
    expect(await page.locator('#race-count').textContent()).toBe('0 races found');
  });

  it('heads the page with precincts reporting, ballots counted, last updated and the next snapshot', async () => {
    await page.goto(base);
    await page.click('button[data-lang="en"]');
    await page.locator('#summary').waitFor();
    const { precincts, reported } = snapshot.reporting;
    expect(await page.locator('#sum-reporting').textContent()).toContain(`(${reported} / ${precincts})`);
    const cast = snapshot.turnout.total.castOnline + snapshot.turnout.total.castPaper;
    expect((await page.locator('#sum-counted').textContent())?.replace(/[\s,]/g, '')).toBe(String(cast));
    expect(await page.locator('#sum-updated').textContent()).not.toBe('');
    // Live and snapshot turnout differ: the page says why.
    expect(await page.locator('#live-why').textContent()).toContain('not audited');
    // The next snapshot: live.json's nextSnapshotAt, or taken + the interval (snapshot v5).
    expect(await page.locator('#sum-next-item').isVisible()).toBe(true);
    expect(await page.locator('#sum-next').textContent()).not.toBe('');
    // Who runs it, whom to ask, the privacy note and the closing time (snapshot v5 election.about, closes).
    const about = snapshot.election.about!;
    expect(await page.locator('#about-organiser').textContent()).toBe(about.organiser.en);
    expect(await page.locator('#about-help').textContent()).toContain(about.help.names.en);
    expect(await page.locator('#about-privacy').textContent()).toBe(about.privacy.en);
    expect(await page.locator('#about-closes').textContent()).not.toBe('—');
  });

  it('maps the regions by leader and by turnout, with a table of the same figures', async () => {
    await page.setViewportSize(SIZES.desktop);
    await page.goto(base);
    await page.click('button[data-lang="en"]');
    await page.locator('#map-section').waitFor();
    const race = snapshot.races[0]!;
    expect(await page.locator('#map-grid .tile').count()).toBe(snapshot.turnout.regions.length);
    for (const region of race.regions) {
      const live = region.total.candidates.filter((_, i) => race.candidates[i]!.status !== 'removed');
      const top = Math.max(...live.map((c) => c.total));
      const leaders = live.filter((c) => c.total === top);
      const row = page.locator(`#map-table tr[data-region="${region.code}"] td`).first();
      const expected =
        top === 0 || leaders.length > 1
          ? 'no leader (no votes, or a tie)'
          : race.candidates.find((c) => c.id === leaders[0]!.id)!.names.en;
      expect(await row.textContent(), region.code).toBe(expected);
    }
    // Not by colour alone: the leader's initials are in its tiles and in the legend.
    const led = page.locator('#map-grid .tile .val', { hasText: /^[A-Z]{2}/ });
    expect(await led.count()).toBeGreaterThan(0);
    await page.check('input[name="map-mode"][value="turnout"]');
    for (const r of snapshot.turnout.regions.slice(0, 3)) {
      const share = (100 * (r.castOnline + r.castPaper)) / r.roll;
      expect(await page.locator(`#map-table tr[data-region="${r.code}"] td`).first().textContent()).toBe(
        `${share.toFixed(1)}%`,
      );
    }
    expect(await page.locator('#map-legend li').count()).toBe(5);
  });

  it('checks a receipt typed with look-alikes, and answers a bad code with its own message in Kazakh', async () => {
    await page.setViewportSize(SIZES.phone);
    await page.goto(base);
    await page.click('button[data-lang="kk"]');
    await page.locator('#race-section').waitFor();
    // No HTML pattern: the browser's own (English) message never shows on a Kazakh page.
    expect(await page.locator('#receipt-code').getAttribute('pattern')).toBeNull();
    await page.fill('#receipt-code', '0000');
    await page.click('#receipt-form button[type=submit]');
    const error = page.locator('#receipt-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/[әғқңөұүһі]/);
    expect(await page.locator('#receipt-code').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#receipt-code').getAttribute('aria-describedby')).toContain('receipt-error');
    // O, I and B typed as 0, 1 and 8, in lower case, in groups with hyphens.
    const code = produced.codes.find((c) => /[OIB]/.test(c))!;
    const typed = code
      .replace(/O/g, '0')
      .replace(/I/g, '1')
      .replace(/B/g, '8')
      .toLowerCase()
      .replace(/(.{4})(?=.)/g, '$1-');
    await page.fill('#receipt-code', typed);
    await page.click('#receipt-form button[type=submit]');
    await expect.poll(() => page.locator('#receipt-result').getAttribute('class')).toBe('good');
    expect(await error.isHidden()).toBe(true);
    expect(await page.locator('#receipt-code').getAttribute('aria-invalid')).toBeNull();
    // The receipt page's link, with the code as the voter sees it.
    await page.goto(`${base}#receipt=${encodeURIComponent(typed)}`);
    await page.reload();
    await expect.poll(() => page.locator('#receipt-result').getAttribute('class')).toBe('good');
  });

  it('shows district turnout per region and the past snapshots with their hashes (snapshot v5)', async () => {
    await page.goto(base);
    await page.click('button[data-lang="en"]');
    await page.locator('#turnout-section').waitFor();
    const districts = snapshot.turnout.districts!;
    expect(districts.length).toBeGreaterThan(0);
    const region = districts[0]!.region;
    await page.locator(`#turnout-regions > li[data-region="${region}"] summary`).click();
    // The card's body is built when it opens (region-cards.js).
    await expect
      .poll(() => page.locator(`table[data-districts="${region}"] tbody tr`).count())
      .toBe(districts.filter((d) => d.region === region).length);
    const en = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    for (const d of districts.filter((x) => x.region === region)) {
      const cast = d.castOnline + d.castPaper;
      expect(await page.locator(`tr[data-district="${d.id}"]`).textContent()).toContain(
        `${en(cast)} / ${en(d.roll)}`,
      );
    }
    const index = JSON.parse(await readFile(join(publicDir, 'snapshots', 'index.json'), 'utf8')) as {
      snapshots: { seq: number; hash: string }[];
    };
    const newest = index.snapshots[0]!;
    const item = page.locator(`#chain li[data-seq="${newest.seq}"]`);
    expect(await item.textContent()).toContain(newest.hash);
    expect(await item.locator('a').first().getAttribute('href')).toBe(`snapshots/${newest.seq}.json`);
    expect(await page.locator('#chain li').count()).toBe(Math.min(10, index.snapshots.length));
  });
});
