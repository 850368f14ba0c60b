/**
 * The results site's own HTTP server (DESIGN §6, promise 5): serves the
 * public directory — site assets, snapshots, live feed — from memory
 * (file-cache.ts), GET and HEAD, through the static-file module both sites
 * share (common/static-files/: Brotli/gzip negotiation, ETags, 304); `/healthz`, `/readyz` and `/metrics` on a second,
 * operations port (PUBLISHER_OPS_PORT), never on the public one (DESIGN §11:
 * operations endpoints never share a public port). Its own process and
 * ports; it never shares either with ingest.
 *
 * uWebSockets.js (native binary, common/uws.ts) rather than node:http: the
 * same server library the project already ships, and 1.3–3.1× node:http's
 * rate over the same cache in every run of publisher/bench.ts, so one origin
 * process absorbs more of a results-night refresh storm. Any static host or
 * CDN can serve the same directory instead: nothing here is dynamic.
 *
 * Handler contract (STYLE §15): `req` read synchronously; `onAborted`
 * before anything asynchronous; `cork` around writes after an await; large
 * bodies sent with `tryEnd` + `onWritable` (back-pressure).
 */
import type { Logger } from '../common/log.js';
import { type AbortFlag, type Ask, askOf, endWith, send, watchAbort } from '../common/static-files/send.js';
import {
  type HttpRequest,
  type HttpResponse,
  type ListenSocket,
  loadUws,
  type TemplatedApp,
  type Uws,
} from '../common/uws.js';
import { type Entry, FileCache } from './file-cache.js';
import type { PublisherMetrics } from './metrics.js';

export interface StaticServerOptions {
  readonly root: string;
  readonly port: number;
  /** `/healthz`, `/readyz`, `/metrics` (0: any free port). */
  readonly opsPort: number;
  readonly host?: string;
  readonly metrics: PublisherMetrics;
  readonly logger: Logger;
  /** Whether `/readyz` should say ready (site assets in place, first feed written). */
  readonly ready: () => boolean;
  /** Mounts routes of its own on the public app before the files (the observers' feed). */
  readonly mount?: (app: TemplatedApp, uws: Uws) => void;
}

export class StaticServer {
  readonly cache: FileCache;
  readonly #options: StaticServerOptions;
  #listen: ListenSocket[] = [];
  #port = 0;
  #opsPort = 0;

  constructor(options: StaticServerOptions) {
    this.#options = options;
    this.cache = new FileCache(options.root);
  }

  get port(): number {
    return this.#port;
  }

  get opsPort(): number {
    return this.#opsPort;
  }

  /** Starts listening on both ports; resolves with the bound public port (pass 0 for any free one). */
  async listen(): Promise<number> {
    const uws = loadUws();
    const app = uws.App();
    this.#options.mount?.(app, uws);
    const handler = (res: HttpResponse, req: HttpRequest): void => {
      const ask = askOf(req);
      const path = FileCache.resolve(req.getUrl());
      if (path === null) {
        this.#notFound(res, ask.head);
        return;
      }
      const hit = this.cache.fresh(path, Date.now());
      const abort = watchAbort(res);
      if (hit !== undefined) {
        this.#send(res, hit, ask, abort);
        return;
      }
      this.cache.load(path).then(
        (entry) => {
          if (abort.aborted) return;
          if (entry === null) res.cork(() => this.#notFound(res, ask.head));
          else this.#send(res, entry, ask, abort);
        },
        (error: unknown) => {
          this.#options.logger.error({ err: error, path }, 'cannot read public file');
          if (!abort.aborted)
            res.cork(() => endWith(res.writeStatus('500 Internal Server Error'), '', ask.head));
        },
      );
    };
    app.get('/*', handler);
    app.head('/*', handler);
    app.any('/*', (res) => {
      res.writeStatus('405 Method Not Allowed').writeHeader('Allow', 'GET, HEAD').end();
    });
    this.#port = await this.#bind(app, this.#options.port);
    this.#opsPort = await this.#bind(this.#opsApp(), this.#options.opsPort);
    return this.#port;
  }

  /** `/healthz`, `/readyz`, `/metrics`; anything else 404. */
  #opsApp(): TemplatedApp {
    const { metrics, ready } = this.#options;
    const ops = loadUws().App();
    ops.get('/healthz', (res) => {
      res.writeHeader('Cache-Control', 'no-store').end('ok\n');
    });
    ops.get('/readyz', (res) => {
      const ok = ready();
      res
        .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
        .writeHeader('Cache-Control', 'no-store')
        .end(ok ? 'ready\n' : 'not ready\n');
    });
    ops.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      void metrics.registry.metrics().then((text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeHeader('Content-Type', metrics.registry.contentType).end(text);
        });
      });
    });
    ops.any('/*', (res) => {
      res.writeStatus('404 Not Found').end('not found\n');
    });
    return ops;
  }

  #bind(app: TemplatedApp, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      app.listen(this.#options.host ?? '0.0.0.0', port, (token) => {
        if (!token) {
          reject(new Error(`cannot listen on port ${port}`));
          return;
        }
        this.#listen.push(token);
        resolve(loadUws().us_socket_local_port(token as never));
      });
    });
  }

  /** Stops accepting connections; responses already being written finish. */
  close(): void {
    for (const token of this.#listen) loadUws().us_listen_socket_close(token);
    this.#listen = [];
  }

  #notFound(res: HttpResponse, head: boolean): void {
    this.#options.metrics.requests.inc({ status: '404' });
    endWith(
      res.writeStatus('404 Not Found').writeHeader('Cache-Control', 'public, max-age=2'),
      'not found\n',
      head,
    );
  }

  #send(res: HttpResponse, entry: Entry, ask: Ask, abort: AbortFlag): void {
    const status = send(res, entry.rep, ask, abort);
    if (status !== null) this.#options.metrics.requests.inc({ status: status.slice(0, 3) });
  }
}
