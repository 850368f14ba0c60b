/**
 * `npm run screenshots`: every view of the voter page and the results site,
 * in kk, ru and en, at phone (390×844) and desktop (1366×900) size, as PNGs
 * in `screenshots/` (git-ignored) with an `index.html` to page through them —
 * so a reviewer sees every view without clicking through the flows.
 *
 * It drives the same walkers the accessibility tests use
 * (`test/support/voter-views.ts`, `test/support/results-views.ts`) against a
 * running system: start one first with `npm start` (the sample election).
 * The voter walk signs in as a demo member, so each run casts a few ballots.
 *
 *   npm run screenshots [-- --ingest http://127.0.0.1:8080] [--results http://127.0.0.1:8081]
 *                       [--out screenshots] [--only voter|results]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../common/paths.js';
import { launchChromium } from './support/chromium.js';
import { walkResultsViews } from './support/results-views.js';
import { walkVoterViews } from './support/voter-views.js';

const LANGS = ['kk', 'ru', 'en'] as const;
const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1366, height: 900 },
] as const;

type Site = 'voter' | 'results';
type Walk = (
  page: Page,
  baseUrl: string,
  lang: (typeof LANGS)[number],
  onView: (name: string) => Promise<void>,
) => Promise<void>;

const WALKS: Record<Site, Walk> = {
  voter: (page, baseUrl, lang, onView) => walkVoterViews(page, { baseUrl, lang }, onView),
  results: (page, baseUrl, lang, onView) => walkResultsViews(page, { baseUrl, lang }, onView),
};

const { values: args } = parseArgs({
  options: {
    ingest: { type: 'string', default: `http://127.0.0.1:${process.env.INGEST_PORT ?? 8080}` },
    results: { type: 'string', default: `http://127.0.0.1:${process.env.PUBLISHER_PORT ?? 8081}` },
    out: { type: 'string', default: join(repoRoot, 'screenshots') },
    only: { type: 'string' },
  },
});

const sites: Site[] = args.only === undefined ? ['voter', 'results'] : [args.only as Site];
if (!sites.every((s) => s in WALKS)) throw new Error(`--only must be voter or results (got ${args.only})`);
const baseUrls: Record<Site, string> = { voter: args.ingest, results: args.results };

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return res.ok;
  } catch {
    return false;
  }
}

for (const site of sites) {
  if (!(await reachable(baseUrls[site]))) {
    console.error(`${site}: nothing answers at ${baseUrls[site]} — start the system first: npm start`);
    process.exit(2);
  }
}

const out = args.out;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const shots: { site: Site; lang: string; size: string; view: string; file: string }[] = [];

const browser: Browser = await launchChromium();
try {
  for (const site of sites) {
    for (const lang of LANGS) {
      // One walk per language, both sizes at each view: a voter walk uses up a roll member.
      const context = await browser.newContext({ viewport: SIZES[0] });
      const page = await context.newPage();
      let n = 0;
      await WALKS[site](page, baseUrls[site], lang, async (view) => {
        n += 1;
        await mkdir(join(out, site), { recursive: true });
        for (const size of SIZES) {
          await page.setViewportSize({ width: size.width, height: size.height });
          const file = join(out, site, `${lang}-${String(n).padStart(2, '0')}-${view}-${size.name}.png`);
          await page.screenshot({ path: file, fullPage: true });
          shots.push({ site, lang, size: size.name, view, file: relative(out, file) });
        }
        await page.setViewportSize(SIZES[0]);
      });
      await context.close();
      console.log(`${site} ${lang}: ${n} views at ${SIZES.length} sizes`);
    }
  }
} finally {
  await browser.close();
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const rows = shots
  .map(
    (s) =>
      `<figure><figcaption>${escapeHtml(`${s.site} · ${s.lang} · ${s.size} · ${s.view}`)}</figcaption>` +
      `<a href="${escapeHtml(s.file)}"><img loading="lazy" src="${escapeHtml(s.file)}" alt="${escapeHtml(s.view)}" width="${s.size === 'phone' ? 195 : 341}"></a></figure>`,
  )
  .join('\n');
await writeFile(
  join(out, 'index.html'),
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>saylau screenshots</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem}figure{display:inline-block;vertical-align:top;margin:.5rem}figcaption{font-size:.8rem}</style>
<h1>saylau: every view (${shots.length} screenshots)</h1>
${rows}
</html>
`,
);
console.log(`${shots.length} screenshots in ${relative(process.cwd(), out) || '.'}/ (open index.html)`);
