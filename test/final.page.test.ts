/**
 * The results site's "Final results" view in a real browser (Debian
 * Chromium) against a real final snapshot (ballots through Kafka and
 * ClickHouse, then a declaration): in Kazakh, Russian and English, at phone
 * (390×844) and desktop (1366×900) size, axe-core finds no WCAG 2.1 A/AA
 * violation of any impact on the page; the winners shown are the final's, a tie
 * is flagged, and a district's protocol downloads as signed JSON and opens
 * as a printable page with the same numbers. Screenshots go to
 * test-output/final/ for a person to look at.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { repoRoot } from '../common/paths.js';
import { FinalFiles } from '../publisher/final-files.js';
import { PublisherMetrics } from '../publisher/metrics.js';
import type { DistrictProtocol } from '../publisher/protocol.js';
import { type FollowedEvents, SnapshotScheduler } from '../publisher/scheduler.js';
import { publicKeyFromSpki, verifyDocument } from '../publisher/signer.js';
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

const OUT = join(repoRoot, 'test-output', 'final');
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } } as const;
const TITLES = { kk: 'Түпкілікті нәтижелер', ru: 'Окончательные итоги', en: 'Final results' } as const;

let browser: Browser;
let server: StaticServer;
let base: string;
let final: Snapshot;
let spki: string;

/** The page's globals, for functions that run in the browser (the root tsconfig has no DOM lib). */
interface PageGlobals {
  axe: { run(context: unknown, options: unknown): Promise<unknown> };
  document: unknown;
}

beforeAll(async () => {
  const t = await realPublisher('final-page');
  spki = t.spki;
  const produced = await produceResults(t.index, 42);
  await awaitInClickHouse(t.index, produced.codes.length);
  // The follower's state as the scheduler reads it: a removal, then the declaration (signatures are final.result's business).
  const national = t.index.config.races[0]!;
  const removed = [...(produced.online.get(national.id) ?? [])].sort((a, b) => b[1] - a[1])[0]![0];
  const at = Date.now();
  const removal = {
    id: 'E-AAAAAAAAAA',
    type: 'candidate-removed',
    by: 'OP-1',
    detail: 'deregistered',
    at,
    race: national.id,
    candidate: removed,
    reference: 'CEC-1',
  };
  const declared = {
    id: 'E-BBBBBBBBBB',
    type: 'declared',
    by: 'OP-1',
    detail: 'result of the count',
    at: at + 1,
    reference: 'PROTOCOL-1',
  };
  const followed: FollowedEvents = {
    declarations: [declared],
    events: [removal, declared],
    closesAt: t.index.closesAt,
    closedAt: null,
  };
  const files = new FinalFiles(t.store, t.privateKey);
  await files.open();
  const scheduler = new SnapshotScheduler({
    ...t,
    intervalMs: 60_000,
    settleTimeoutMs: 90_000,
    final: { events: () => followed, files },
  });
  final = await scheduler.runOnce();
  await installSite(t.dir);
  await mkdir(join(t.dir, 'elections'), { recursive: true });
  await writeFile(
    join(t.dir, 'elections', `${t.index.id}.json`),
    JSON.stringify({ id: t.index.id, snapshotKey: { alg: 'Ed25519', spki: t.spki } }),
  );
  server = new StaticServer({
    root: t.dir,
    port: 0,
    opsPort: 0,
    host: '127.0.0.1',
    metrics: new PublisherMetrics(),
    logger: createLogger('site', 'warn'),
    ready: () => true,
  });
  base = `http://127.0.0.1:${await server.listen()}/`;
  browser = await launchChromium();
  await mkdir(OUT, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  await closeRealPublishers();
});

/** axe-core (WCAG 2.1 A/AA rules) over the whole page: every violation, whatever its impact. */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource); // through DevTools, so the page's CSP does not block it
  const result = await page.evaluate(async () => {
    const g = globalThis as unknown as PageGlobals;
    return g.axe.run(g.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
  });
  return (result as { violations: { id: string; impact: string; nodes: unknown[] }[] }).violations.map(
    (v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`,
  );
}

describe('the final results view', () => {
  for (const [size, viewport] of Object.entries(SIZES)) {
    it(`shows the winners in kk, ru and en at ${size} size, accessible`, async () => {
      const context = await browser.newContext({ locale: 'kk-KZ', viewport });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(base);
      await page.locator('#final-section').waitFor();
      for (const lang of ['kk', 'ru', 'en'] as const) {
        await page.click(`button[data-lang="${lang}"]`);
        expect(await page.locator('#final-h').textContent()).toBe(TITLES[lang]);
        expect(await page.locator('#final-declared').textContent()).toContain('PROTOCOL-1');
        expect(await axe(page), `${lang} ${size}`).toEqual([]);
        await page.screenshot({ path: join(OUT, `final-${lang}-${size}.png`) });
      }
      // Every race with its sure winners, in the final's order; a tie at the seat boundary flagged.
      const rows = page.locator('#winners-table tbody tr');
      expect(await rows.count()).toBe(final.final!.winners.length);
      for (const w of final.final!.winners.slice(0, 5)) {
        const row = page.locator(`#winners-table tr[data-race="${w.race}"]`);
        expect(
          await row
            .locator('[data-winner]')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-winner'))),
        ).toEqual(w.winners);
        expect(await row.locator('[data-tie]').count()).toBe(w.tie === null ? 0 : 1);
      }
      const national = final.final!.winners[0]!;
      expect(national.tie).not.toBeNull();
      expect(
        await page.locator(`#winners-table tr[data-race="${national.race}"] [data-tie]`).textContent(),
      ).toContain('for the commission to decide');
      expect(await page.locator('#protocols-table tbody tr').count()).toBe(final.districtKeys.length);
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it("downloads a district's protocol as signed JSON and opens it as a printable page", async () => {
    const context = await browser.newContext({
      locale: 'en-GB',
      viewport: SIZES.desktop,
      acceptDownloads: true,
    });
    const page = await context.newPage();
    await page.goto(base);
    const district = final.districtKeys[0]!.id;
    const row = page.locator(`#protocols-table tr[data-district="${district}"]`);
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a').first().click()]);
    expect(download.suggestedFilename()).toBe(`${district}.json`);
    const protocol = JSON.parse(await readFile((await download.path())!, 'utf8')) as DistrictProtocol;
    expect(verifyDocument(protocol, publicKeyFromSpki(spki))).toBe(true);
    expect(protocol).toMatchObject({ district: { id: district }, round: 1, snapshot: { seq: final.seq } });

    const [printable] = await Promise.all([context.waitForEvent('page'), row.locator('a').nth(1).click()]);
    await printable.waitForLoadState();
    const text = (await printable.locator('body').textContent()) ?? '';
    expect(text).toContain(protocol.signature);
    const race = protocol.races[0]!;
    expect(text).toContain(`${race.valid}`);
    for (const c of race.candidates) expect(text).toContain(c.names.en);
    expect(await axe(printable)).toEqual([]);
    await printable.screenshot({ path: join(OUT, 'protocol.png'), fullPage: true });
    await context.close();
  });
});
