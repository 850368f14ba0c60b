/**
 * Serves the web client from ingest: the voter's page `GET /`, the
 * polling-station official's page `GET /official/`, and `GET /assets/*`.
 *
 * Everything is prepared once at start-up (STYLE 6, 7): the client is read
 * from `dist/`, built once at install (`npm run client:build`, dist.ts) — a
 * missing or stale build stops start-up with the command to run — and each
 * file is compressed with Brotli and gzip, its headers (ETag per variant,
 * Cache-Control, CSP) fixed. A request, GET or HEAD, is answered by the
 * static-file module both sites share (common/static-files/: Accept-Encoding
 * negotiation with q-values, If-None-Match with lists and weak tags, 304).
 *
 *   /, /official/          no-cache, revalidated with the ETag (names the hashed assets)
 *   /assets/config.json    no-cache: dev login on/off, identity provider, results port, publishing interval
 *   /favicon.ico           the build's SVG icon (browsers ask for it whatever the page links)
 *   /official/sw.js        no-cache: the official page's service worker (offline reloads)
 *   /assets/<name>-HASH.*  public, max-age=1y, immutable
 *
 * These routes bypass admission control: they are static, answered from
 * memory, and a voter who cannot load the page cannot wait in line either.
 */

import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import { type Header, type Representation, representSync } from '../../common/static-files/representation.js';
import { askOf, endWith, send, watchAbort } from '../../common/static-files/send.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../common/uws.js';
import { DIST_DIR, readDist } from './dist.js';

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

const securityHeaders = (resultsPort: number): readonly Header[] => [
  ['content-security-policy', clientCsp(resultsPort)],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['permissions-policy', 'camera=(), microphone=(), geolocation=()'],
];

/** What the page reads at start: everything the server knows that the bundle must not hard-code. */
export interface ClientConfig {
  readonly devLogin: boolean;
  /** External identity provider to redirect to when dev login is off; '' when none is configured. */
  readonly identityProviderUrl: string;
  /** The results site's port on the same host (the publisher, DESIGN §6). */
  readonly resultsPort: number;
  /** How often the publisher publishes: SNAPSHOT_INTERVAL when set, else the election's (publisher/main.ts). */
  readonly snapshotIntervalSec: number;
}

/** Pages get every protection; the files they load need only `nosniff` and CORP. */
function headersFor(type: string, security: readonly Header[]): readonly Header[] {
  return type.startsWith('text/html') ? security : [security[1]!, security[4]!];
}

/**
 * Registers `GET /`, `GET /official/`, `GET /assets/*` and `GET /favicon.ico`
 * (and HEAD) on `app`. Call before listening. `electionIntervalSec` is the
 * election config's `snapshotIntervalSec`. Rejects with a `ClientBuildError`
 * naming the command to run when `dist` holds no build of the current sources.
 */
export async function serveClient(
  app: TemplatedApp,
  config: Config,
  log: Logger,
  electionIntervalSec: number,
  dist = DIST_DIR,
): Promise<void> {
  const files = await readDist(dist);
  const clientConfig: ClientConfig = {
    devLogin: config.devLogin,
    identityProviderUrl: config.identityProviderUrl,
    resultsPort: config.publisher.port,
    snapshotIntervalSec: config.publisher.snapshotIntervalSec || electionIntervalSec,
  };
  files.push({
    path: '/assets/config.json',
    body: Buffer.from(JSON.stringify(clientConfig)),
    type: 'application/json',
    immutable: false,
  });
  // Under its fixed name too, revalidated (unlike the hashed copy): browsers ask for it unprompted.
  const icon = files.find((f) => /^\/assets\/favicon-[^/]+\.svg$/.test(f.path));
  if (icon !== undefined) files.push({ ...icon, path: '/favicon.ico', immutable: false });
  const security = securityHeaders(config.publisher.port);
  const byPath = new Map<string, Representation>();
  for (const file of files) {
    const rep = representSync(file.body, {
      type: file.type,
      cacheControl: file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      headers: headersFor(file.type, security),
      effort: 'max',
    });
    byPath.set(file.path, rep);
  }
  const index = byPath.get('/');
  if (index === undefined) throw new Error('voter client: no index.html');
  byPath.set('/index.html', index);
  log.debug({ files: byPath.size }, 'voter client loaded from dist/');

  const handler = (res: HttpResponse, req: HttpRequest): void => {
    const rep = byPath.get(req.getUrl());
    const ask = askOf(req);
    if (rep === undefined) {
      endWith(
        res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain'),
        'Not found',
        ask.head,
      );
      return;
    }
    send(res, rep, ask, watchAbort(res));
  };
  for (const pattern of ['/', '/index.html', '/assets/*', '/official/', '/official/sw.js', '/favicon.ico']) {
    app.get(pattern, handler);
    app.head(pattern, handler);
  }
  // The address as people type it, without the slash.
  app.get('/official', (res) => {
    res.writeStatus('308 Permanent Redirect').writeHeader('location', '/official/').endWithoutBody();
  });
}
