/**
 * Builds the web client's two pages: the voter's (`src/main.ts`, `style.css`,
 * `i18n/`, `index.html`, at `/`) and the polling-station official's
 * (`official/`, at `/official/`). For each, esbuild bundles the entry (ES
 * modules, code splitting) and the stylesheet, the message catalogues are
 * content-hashed, and `index.html` is filled with the hashed names. Returns the files in memory;
 * run as a script (`npm run client:build`, once at install: bootstrap, CI,
 * deploy) it writes `dist/` — the only place ingest reads the client from
 * (dist.ts) — and prints the size of the critical path (what a first visit
 * must download before the voter can sign in) and of the lazily loaded chunks.
 * `--if-stale` does nothing when `dist/` is a build of the current sources.
 *
 *   index.html ─► assets/main-HASH.js ─► assets/i18n/<lang>-HASH.json (one)
 *              └► assets/main-HASH.css
 *              └► assets/favicon-HASH.svg (also at /favicon.ico, serve.ts)
 *   later:        assets/credential-HASH.js (RFC 9474 + sjcl, after sign-in)
 *                 assets/qr-HASH.js (on the receipt)
 *   official/ ─► assets/official-HASH.js ─► assets/i18n/official-<lang>-HASH.json
 *             └► assets/official-HASH.css
 *             └► official/sw.js (service worker: the files above, for offline reloads)
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { contentTypeOf } from '../../common/static-files/content-type.js';
import { CLIENT_DIR, type ClientFile, DIST_DIR, distIsCurrent, writeDist } from './dist.js';

export const LANGS = ['kk', 'ru', 'en'] as const;
/** The budget for the critical path, compressed (gzip). */
export const CRITICAL_BUDGET_BYTES = 50 * 1024;

export interface SizeLine {
  readonly path: string;
  readonly raw: number;
  readonly gzip: number;
  readonly brotli: number;
}

export interface ClientBuild {
  readonly files: readonly ClientFile[];
  /** The voter page's index.html, entry script and its static imports, stylesheet, largest catalogue. */
  readonly critical: readonly SizeLine[];
  /** The voter page's lazily loaded chunks. */
  readonly lazy: readonly SizeLine[];
  /** The official's page (`/official/`): all of it is loaded at once. */
  readonly officialCritical: readonly SizeLine[];
}

const hash8 = (body: Buffer): string => createHash('sha256').update(body).digest('base64url').slice(0, 10);

export function sizeOf(path: string, body: Buffer): SizeLine {
  return {
    path,
    raw: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
    brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** One page of the client: its own entry, stylesheet, catalogues and address. */
interface PageSpec {
  /** Where its `index.html` is served: `/` or `/official/`. */
  readonly route: string;
  /** Its folder under the client folder ('' for the voter page). */
  readonly dir: string;
  /** The entry's output name: `main-HASH.js`, `official-HASH.js`. */
  readonly name: string;
  /** Catalogue file prefix: `/assets/i18n/<prefix><lang>-HASH.json`. */
  readonly cataloguePrefix: string;
}

const VOTER: PageSpec = { route: '/', dir: '', name: 'main', cataloguePrefix: '' };
const OFFICIAL: PageSpec = {
  route: '/official/',
  dir: 'official',
  name: 'official',
  cataloguePrefix: 'official-',
};

interface PageBuild {
  readonly files: readonly ClientFile[];
  readonly critical: readonly SizeLine[];
  readonly lazy: readonly SizeLine[];
}

type Esbuild = typeof import('esbuild');

/**
 * Bundles one page. Each page is its own esbuild run, so each gets its own
 * `__CATALOGUES__`; the modules both pages use (src/i18n, api, retry, dom,
 * persist, token, waiting) are bundled into each.
 */
async function buildPage(esbuild: Esbuild, page: PageSpec, favicon: string): Promise<PageBuild> {
  const dir = join(CLIENT_DIR, page.dir);
  const files: ClientFile[] = [];

  const catalogues: Record<string, string> = {};
  const catalogueBodies = new Map<string, Buffer>();
  for (const lang of LANGS) {
    // Re-serialised compactly: the source files are formatted for people.
    const body = Buffer.from(
      JSON.stringify(JSON.parse(await readFile(join(dir, 'i18n', `${lang}.json`), 'utf8'))),
    );
    const path = `/assets/i18n/${page.cataloguePrefix}${lang}-${hash8(body)}.json`;
    catalogues[lang] = path;
    catalogueBodies.set(lang, body);
    files.push({ path, body, type: contentTypeOf(path), immutable: true });
  }

  const outDir = join(CLIENT_DIR, 'out');
  const result = await esbuild.build({
    entryPoints: [
      { in: join(dir, 'src', 'main.ts'), out: page.name },
      { in: join(dir, 'style.css'), out: page.name },
    ],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    write: false,
    metafile: true,
    outdir: outDir,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    legalComments: 'none',
    define: { __CATALOGUES__: JSON.stringify(catalogues) },
    logLevel: 'silent',
  });

  let script = '';
  let style = '';
  const entryImports = new Set<string>();
  for (const [outPath, meta] of Object.entries(result.metafile.outputs)) {
    const name = basename(outPath);
    if (meta.entryPoint?.endsWith('main.ts')) {
      script = name;
      for (const imp of meta.imports)
        if (imp.kind === 'import-statement') entryImports.add(basename(imp.path));
    }
    if (meta.entryPoint?.endsWith('style.css')) style = name;
  }
  if (script === '' || style === '') throw new Error(`client build ${page.route}: entry outputs missing`);

  const lazy: SizeLine[] = [];
  const critical: SizeLine[] = [];
  for (const out of result.outputFiles) {
    const rel = relative(outDir, out.path);
    if (rel.endsWith('.map')) continue;
    const path = `/assets/${rel}`;
    const body = Buffer.from(out.contents);
    files.push({ path, body, type: contentTypeOf(path), immutable: true });
    const line = sizeOf(path, body);
    if (rel === script || rel === style || entryImports.has(rel)) critical.push(line);
    else lazy.push(line);
  }

  const template = await readFile(join(dir, 'index.html'), 'utf8');
  const html = Buffer.from(
    template
      .replace('{{script}}', `/assets/${script}`)
      .replace('{{style}}', `/assets/${style}`)
      .replace('{{favicon}}', favicon),
  );
  files.push({ path: page.route, body: html, type: contentTypeOf('index.html'), immutable: false });
  critical.unshift(sizeOf(page.route, html));
  const largest = [...catalogueBodies.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  critical.push(sizeOf(catalogues[largest[0]]!, largest[1]));
  return { files, critical, lazy };
}

/**
 * The official's service worker (`official/src/sw.ts`) at `/official/sw.js`,
 * with the page's files to keep for offline reloads. Not hashed: the browser
 * looks for a new worker at that address.
 */
async function buildServiceWorker(esbuild: Esbuild, page: PageBuild): Promise<ClientFile> {
  const shell = page.files.map((f) => f.path);
  const result = await esbuild.build({
    entryPoints: [join(CLIENT_DIR, OFFICIAL.dir, 'src', 'sw.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    write: false,
    legalComments: 'none',
    define: {
      __SHELL__: JSON.stringify(shell),
      __CACHE__: JSON.stringify(`saylau-official-${hash8(Buffer.from(shell.join('\n')))}`),
    },
    logLevel: 'silent',
  });
  const body = Buffer.from(result.outputFiles[0]!.contents);
  return { path: `${OFFICIAL.route}sw.js`, body, type: contentTypeOf('sw.js'), immutable: false };
}

/** The tab's icon (`favicon.svg`), content-hashed like the other assets. */
async function favicon(): Promise<ClientFile> {
  const body = await readFile(join(CLIENT_DIR, 'favicon.svg'));
  const path = `/assets/favicon-${hash8(body)}.svg`;
  return { path, body, type: contentTypeOf(path), immutable: true };
}

/** Bundles both pages in memory: the voter's at `/`, the polling-station official's at `/official/`. */
export async function buildClient(): Promise<ClientBuild> {
  const esbuild = await import('esbuild');
  try {
    const icon = await favicon();
    const voter = await buildPage(esbuild, VOTER, icon.path);
    const official = await buildPage(esbuild, OFFICIAL, icon.path);
    const worker = await buildServiceWorker(esbuild, official);
    return {
      files: [icon, ...voter.files, ...official.files, worker],
      critical: voter.critical,
      lazy: voter.lazy,
      officialCritical: official.critical,
    };
  } finally {
    // esbuild keeps a helper process for further builds; an ingest process builds once.
    await esbuild.stop();
  }
}

export function totals(lines: readonly SizeLine[]): SizeLine {
  return lines.reduce(
    (sum, l) => ({
      path: 'total',
      raw: sum.raw + l.raw,
      gzip: sum.gzip + l.gzip,
      brotli: sum.brotli + l.brotli,
    }),
    { path: 'total', raw: 0, gzip: 0, brotli: 0 },
  );
}

/** A printable table of the critical path and the lazy chunks. */
export function sizeReport(build: ClientBuild): string {
  const row = (l: SizeLine) =>
    `${l.path.padEnd(44)} ${String(l.raw).padStart(8)} ${String(l.gzip).padStart(8)} ${String(l.brotli).padStart(8)}`;
  const head = `${'file'.padEnd(44)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`;
  const total = totals(build.critical);
  const official = totals(build.officialCritical);
  const verdict = (t: SizeLine) => (t.gzip <= CRITICAL_BUDGET_BYTES ? 'ok' : 'OVER');
  return [
    'critical path (first visit, before sign-in):',
    head,
    ...build.critical.map(row),
    row(total),
    `budget ${CRITICAL_BUDGET_BYTES} bytes gzip: ${verdict(total)}`,
    'lazy chunks:',
    ...build.lazy.map(row),
    "official's page (/official/):",
    ...build.officialCritical.map(row),
    row(official),
    `budget ${CRITICAL_BUDGET_BYTES} bytes gzip: ${verdict(official)}`,
  ].join('\n');
}

/** Builds and writes `dist/` unless it is a build of the current sources; returns the report, or null. */
export async function buildIfStale(): Promise<string | null> {
  if (await distIsCurrent()) return null;
  const build = await buildClient();
  await writeDist(build.files);
  return sizeReport(build);
}

/** `npm run client:build [-- --if-stale]`: writes `dist/`, prints the sizes, fails over budget. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'if-stale': { type: 'boolean', default: false } } });
  if (values['if-stale'] && (await distIsCurrent())) return;
  const build = await buildClient();
  await writeDist(build.files);
  process.stdout.write(`${sizeReport(build)}\nwritten to ${relative(process.cwd(), DIST_DIR)}/\n`);
  if (Math.max(totals(build.critical).gzip, totals(build.officialCritical).gzip) > CRITICAL_BUDGET_BYTES)
    process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
