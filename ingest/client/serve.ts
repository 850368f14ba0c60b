/**
 * Serves the web client from ingest: the voter's page `GET /`, the
 * polling-station official's page `GET /official/`, and `GET /assets/*`.
 *
 * Everything is prepared once at start-up (STYLE 6, 7): the client is built
 * in memory (or read from `dist/` when esbuild is not installed), each file is
 * compressed with brotli and gzip, and its headers (ETag, Cache-Control, CSP)
 * are fixed. A request only picks the variant its `accept-encoding` allows.
 *
 *   /, /official/          no-cache, revalidated with the ETag (names the hashed assets)
 *   /assets/config.json    no-cache: dev login on/off, identity provider, results port
 *   /official/sw.js        no-cache: the official page's service worker (offline reloads)
 *   /assets/<name>-HASH.*  public, max-age=1y, immutable
 *
 * These routes bypass admission control: they are static, answered from
 * memory, and a voter who cannot load the page cannot wait in line either.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../common/uws.js';
import { buildClient, type ClientFile, DIST_DIR, distPath, sizeReport } from './build.js';

/**
 * No inline script or style, nothing from another origin but the results
 * site. `connect-src 'self'` covers the same-origin session WebSocket in
 * current browsers; `*:<resultsPort>` lets the page fetch the signed
 * `keys.json` it checks district keys against (src/key-check.ts) — any host,
 * since ingest does not know which host name voters use, on that port only.
 */
export function clientCsp(resultsPort: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' *:${resultsPort}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const securityHeaders = (resultsPort: number): readonly (readonly [string, string])[] => [
  ['content-security-policy', clientCsp(resultsPort)],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['permissions-policy', 'camera=(), microphone=(), geolocation=()'],
];

/** Bodies smaller than this are sent as they are: compression would not pay for itself. */
const MIN_COMPRESS_BYTES = 512;

interface Variant {
  readonly body: Buffer;
  /** `content-encoding`, or null for identity. */
  readonly encoding: string | null;
}

interface PreparedFile {
  readonly etag: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly identity: Variant;
  readonly gzip: Variant | null;
  readonly brotli: Variant | null;
}

/** What the page reads at start: everything the server knows that the bundle must not hard-code. */
export interface ClientConfig {
  readonly devLogin: boolean;
  /** External identity provider to redirect to when dev login is off; '' when none is configured. */
  readonly identityProviderUrl: string;
  /** The results site's port on the same host (the publisher, DESIGN §6). */
  readonly resultsPort: number;
}

function prepare(file: ClientFile, security: readonly (readonly [string, string])[]): PreparedFile {
  const etag = `"${createHash('sha256').update(file.body).digest('base64url').slice(0, 22)}"`;
  const cache = file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
  const headers: (readonly [string, string])[] = [
    ['content-type', file.type],
    ['cache-control', cache],
    ['etag', etag],
    ['vary', 'accept-encoding'],
  ];
  if (file.type.startsWith('text/html')) headers.push(...security);
  else headers.push(security[1]!, security[4]!);
  let gzip: Variant | null = null;
  let brotli: Variant | null = null;
  if (file.body.length >= MIN_COMPRESS_BYTES) {
    const gz = gzipSync(file.body, { level: 9 });
    const br = brotliCompressSync(file.body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: file.body.length },
    });
    if (gz.length < file.body.length) gzip = { body: gz, encoding: 'gzip' };
    if (br.length < file.body.length) brotli = { body: br, encoding: 'br' };
  }
  return { etag, headers, identity: { body: file.body, encoding: null }, gzip, brotli };
}

/** Picks the smallest variant the client accepts (a plain substring test: q=0 is not honoured). */
function pick(file: PreparedFile, acceptEncoding: string): Variant {
  if (file.brotli !== null && acceptEncoding.includes('br')) return file.brotli;
  if (file.gzip !== null && acceptEncoding.includes('gzip')) return file.gzip;
  return file.identity;
}

/** Sends a prepared file, with back-pressure (STYLE 15): large assets on slow links fill the socket. */
function send(res: HttpResponse, file: PreparedFile, acceptEncoding: string, ifNoneMatch: string): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.cork(() => {
    if (ifNoneMatch === file.etag) {
      res.writeStatus('304 Not Modified');
      for (const [name, value] of file.headers) res.writeHeader(name, value);
      res.endWithoutBody();
      return;
    }
    const variant = pick(file, acceptEncoding);
    res.writeStatus('200 OK');
    for (const [name, value] of file.headers) res.writeHeader(name, value);
    if (variant.encoding !== null) res.writeHeader('content-encoding', variant.encoding);
    const body = variant.body;
    const offset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(body, body.length);
    if (ok || done) return;
    res.onWritable((at) => {
      if (aborted) return true;
      const [written] = res.tryEnd(body.subarray(at - offset), body.length);
      return written;
    });
  });
}

/** The build: in memory from the sources, or the prebuilt `dist/` where esbuild is not installed. */
async function loadFiles(log: Logger): Promise<ClientFile[]> {
  try {
    const build = await buildClient();
    log.debug({ report: sizeReport(build) }, 'voter client built');
    return [...build.files];
  } catch (err) {
    const index = JSON.parse(await readFile(join(DIST_DIR, 'files.json'), 'utf8')) as {
      path: string;
      type: string;
      immutable: boolean;
    }[];
    log.warn({ err, code: 'SAYLAU_ERR_CLIENT_BUILD' }, 'voter client not built from source; serving dist/');
    return Promise.all(
      index.map(async (f) => ({
        ...f,
        body: await readFile(join(DIST_DIR, distPath(f.path))),
      })),
    );
  }
}

/**
 * Registers `GET /`, `GET /official/` and `GET /assets/*` on `app`. Call before listening.
 */
export async function serveClient(app: TemplatedApp, config: Config, log: Logger): Promise<void> {
  const files = await loadFiles(log);
  const clientConfig: ClientConfig = {
    devLogin: config.devLogin,
    identityProviderUrl: config.identityProviderUrl,
    resultsPort: config.publisher.port,
  };
  files.push({
    path: '/assets/config.json',
    body: Buffer.from(JSON.stringify(clientConfig)),
    type: 'application/json; charset=utf-8',
    immutable: false,
  });
  const security = securityHeaders(config.publisher.port);
  const byPath = new Map(files.map((f) => [f.path, prepare(f, security)]));
  const index = byPath.get('/');
  if (index === undefined) throw new Error('voter client: no index.html');

  const handler = (res: HttpResponse, req: HttpRequest): void => {
    const file = byPath.get(req.getUrl());
    if (file === undefined) {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain').end('Not found');
      return;
    }
    send(res, file, req.getHeader('accept-encoding'), req.getHeader('if-none-match'));
  };
  app.get('/', handler);
  app.get('/index.html', (res, req) => send(res, index, req.getHeader('accept-encoding'), ''));
  app.get('/assets/*', handler);
  app.get('/official/', handler);
  app.get('/official/sw.js', handler);
  // The address as people type it, without the slash.
  app.get('/official', (res) => {
    res.writeStatus('308 Permanent Redirect').writeHeader('location', '/official/').endWithoutBody();
  });
}
