/**
 * The results site in a real browser (Debian Chromium) against a real
 * snapshot (ballots through Kafka and ClickHouse): it shows the snapshot's
 * numbers, switches between Kazakh, Russian and English, finds a counted
 * receipt and not an uncounted one, and verifies the chain with WebCrypto.
 * Leaves a screenshot in test-output/ for a person to look at.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { LiveFeed } from '../publisher/live-feed.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import { installSite } from '../publisher/site-assets.js';
import type { Snapshot } from '../publisher/snapshot.js';
import { StaticServer } from '../publisher/static-server.js';
import {
  awaitInClickHouse,
  closeRealPublishers,
  produceResults,
  realPublisher,
} from './publisher.real-data.js';
import { launchChromium } from './support/chromium.js';

const OUT = join(repoRoot, 'test-output');
let browser: Browser;
let base: string;
let snapshot: Snapshot;
let counted: string;
let publicDir: string;
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
  const produced = await produceResults(t.index, 48);
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
    const regionRows = await page.locator('#region-table tbody tr').count();
    expect(regionRows).toBe(snapshot.races[0]!.regions.length);

    // Russian, then English.
    await page.click('button[data-lang="ru"]');
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    expect(await page.locator('#status').textContent()).toContain(`Срез №${snapshot.seq}`);
    expect(await page.locator('#race-h').textContent()).toBe(snapshot.races[0]!.names.ru);
    await page.click('button[data-lang="en"]');
    expect(await page.locator('#status').textContent()).toContain(`Snapshot #${snapshot.seq}`);

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

  it('serves immutable snapshots with long cache headers and the feed with short ones', async () => {
    const immutable = await fetch(`${base}snapshots/${snapshot.seq}.json`);
    expect(immutable.headers.get('cache-control')).toContain('immutable');
    const latest = await fetch(`${base}latest.json`);
    expect(latest.headers.get('cache-control')).toMatch(/max-age=2\b/);
    const again = await fetch(`${base}latest.json`, {
      headers: { 'if-none-match': latest.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
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
    expect(Object.keys(live).sort()).toEqual(['at', 'election', 'regions', 'snapshot', 'total', 'v']);
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
