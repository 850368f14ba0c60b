/**
 * The official's page works offline, reloads included: this service worker
 * keeps the page's shell (index.html, script, stylesheet, catalogues) in a
 * cache made at install. The shell's files are content-hashed, so the
 * cache is named after them and a new build replaces it. `/official/` is
 * fetched from the network first (a new build is picked up when online) and
 * from the cache when that fails. API requests are not touched: the
 * check-in queue (queue.ts) handles their failures.
 */

/** The shell's URL paths, filled in by build.ts. */
declare const __SHELL__: readonly string[];
/** The cache's name: a hash of the shell's paths. */
declare const __CACHE__: string;

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly location: Location;
}

const scope = self as unknown as WorkerScope;
const PREFIX = 'saylau-official-';
const INDEX = '/official/';

scope.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(__CACHE__)
      .then((cache) => cache.addAll([...__SHELL__]))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((n) => n.startsWith(PREFIX) && n !== __CACHE__).map((n) => caches.delete(n)),
        ),
      )
      .then(() => scope.clients.claim()),
  );
});

scope.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== scope.location.origin) return;
  if (url.pathname === INDEX) {
    event.respondWith(
      fetch(event.request).catch(async () => (await caches.match(INDEX)) ?? Response.error()),
    );
  } else if (__SHELL__.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit ?? fetch(event.request)));
  }
});
