/**
 * Public files held in memory with their response headers ready-made
 * (STYLE §7), so a page view costs a Map lookup and a socket write — never a
 * ClickHouse or Redis query, and on a hit not even a file-system call.
 *
 *   path ──► Entry {rep: Brotli/gzip/plain variants with ETags and headers, stamp, checkedAt}
 *
 * Immutable files (`snapshots/N.*`, `codes/N.txt`, `final/N/<district>.*`) are cached for good.
 * Mutable ones (`latest.json`, `live.json`, `snapshots/index.json`, site assets) are trusted for
 * `revalidateMs`, then re-`stat`ed; a changed inode/size/mtime reloads them.
 * Entries are evicted oldest-first beyond `maxBytes`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { contentTypeOf } from '../common/static-files/content-type.js';
import { type Header, type Representation, represent } from '../common/static-files/representation.js';
import { LATEST_PATH, LIVE_PATH, SNAPSHOT_INDEX_PATH } from './snapshot.js';

export interface Entry {
  /** Every variant (Brotli, gzip, plain) with its headers, computed once at load (STYLE §7). */
  readonly rep: Representation;
  readonly immutable: boolean;
  readonly stamp: string;
  checkedAt: number;
}

/** A year, and `immutable`: these names are never rewritten (snapshot-store.ts). */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Short: `latest.json` and `live.json` change every few seconds to minutes. */
const FEED = 'public, max-age=2, stale-while-revalidate=5';
const ASSET = 'public, max-age=60';
/** Replaced with each snapshot or feed: as short as the feed. */
const FEEDS: ReadonlySet<string> = new Set([LATEST_PATH, LIVE_PATH, SNAPSHOT_INDEX_PATH]);
/** The site's icon (site/favicon.svg), also what `/favicon.ico` answers. */
const FAVICON = 'favicon.svg';
const IMMUTABLE_PATH =
  /^(snapshots\/\d+\.(json|csv)|codes\/\d+\.txt|final\/\d+\/[A-Za-z0-9_-]+\.(json|html))$/;
/** Only these characters, no dot-files, no `..`: anything else is a 404 without touching the disk. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Pages get the browser-side protections; data files get CORS so any auditor's page or tool may fetch them. */
const PAGE_HEADERS: readonly Header[] = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  [
    'content-security-policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  ],
];
const DATA_HEADERS: readonly Header[] = [
  ['x-content-type-options', 'nosniff'],
  ['access-control-allow-origin', '*'],
];

export class FileCache {
  readonly root: string;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<Entry | null>>();
  readonly #maxBytes: number;
  readonly #revalidateMs: number;
  #bytes = 0;

  constructor(root: string, options: { maxBytes?: number; revalidateMs?: number } = {}) {
    this.root = root;
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.#revalidateMs = options.revalidateMs ?? 1000;
  }

  /**
   * Maps a URL path to a file path under the root, or `null` if it may not be served. Browsers ask
   * for `/favicon.ico` whatever the page links: they get the site's SVG icon, not a 404.
   */
  static resolve(url: string): string | null {
    if (url === '/favicon.ico') return FAVICON;
    const path = url.endsWith('/') ? `${url.slice(1)}index.html` : url.slice(1);
    if (!SAFE_PATH.test(path) || path.includes('..')) return null;
    return path;
  }

  /** The entry if it can be served without I/O now; `undefined` means call {@link load}. */
  fresh(path: string, now: number): Entry | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined) return undefined;
    if (entry.immutable || now - entry.checkedAt < this.#revalidateMs) return entry;
    return undefined;
  }

  /** Loads (or revalidates) a file; `null` if it does not exist. Concurrent calls share one load. */
  load(path: string): Promise<Entry | null> {
    const pending = this.#loading.get(path);
    if (pending !== undefined) return pending;
    const promise = this.#load(path).finally(() => this.#loading.delete(path));
    this.#loading.set(path, promise);
    return promise;
  }

  async #load(path: string): Promise<Entry | null> {
    const file = join(this.root, path);
    let stamp: string;
    try {
      const s = await stat(file);
      if (!s.isFile()) return this.#drop(path);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      // ENOENT and friends: a 404, and forget any stale copy.
      return this.#drop(path);
    }
    const old = this.#entries.get(path);
    if (old !== undefined && old.stamp === stamp) {
      old.checkedAt = Date.now();
      return old;
    }
    const body = await readFile(file).catch(() => null);
    if (body === null) return this.#drop(path);
    const type = contentTypeOf(path);
    const immutable = IMMUTABLE_PATH.test(path);
    const cacheControl = immutable ? IMMUTABLE : FEEDS.has(path) ? FEED : ASSET;
    const rep = await represent(body, {
      type,
      cacheControl,
      headers: type.startsWith('text/html') ? PAGE_HEADERS : DATA_HEADERS,
      effort: 'fast',
    });
    const entry: Entry = { rep, immutable, stamp, checkedAt: Date.now() };
    this.#drop(path);
    this.#entries.set(path, entry);
    this.#bytes += entry.rep.bytes;
    for (const key of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes || key === path) break;
      this.#drop(key);
    }
    return entry;
  }

  #drop(path: string): null {
    const e = this.#entries.get(path);
    if (e !== undefined) {
      this.#bytes -= e.rep.bytes;
      this.#entries.delete(path);
    }
    return null;
  }
}
