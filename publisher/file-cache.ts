/**
 * Public files held in memory with their response headers ready-made
 * (STYLE §7), so a page view costs a Map lookup and a socket write — never a
 * ClickHouse or Redis query, and on a hit not even a file-system call.
 *
 *   path ──► Entry {body, gzip|null, etag, type, cacheControl, stamp, checkedAt}
 *
 * Immutable files (`snapshots/N.*`, `codes/N.txt`, `final/N/<district>.*`) are cached for good.
 * Mutable ones (`latest.json`, `live.json`, site assets) are trusted for
 * `revalidateMs`, then re-`stat`ed; a changed inode/size/mtime reloads them.
 * Entries are evicted oldest-first beyond `maxBytes`.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface Entry {
  readonly body: Buffer;
  /** Gzip-compressed body, when that is smaller; `null` otherwise. */
  readonly gzip: Buffer | null;
  readonly etag: string;
  readonly type: string;
  readonly cacheControl: string;
  readonly immutable: boolean;
  /** Every header of a 200 but `Content-Encoding`, in write order, computed once at load (STYLE §7). */
  readonly headers: readonly (readonly [string, string])[];
  readonly stamp: string;
  checkedAt: number;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** A year, and `immutable`: these names are never rewritten (snapshot-store.ts). */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Short: `latest.json` and `live.json` change every few seconds to minutes. */
const FEED = 'public, max-age=2, stale-while-revalidate=5';
const ASSET = 'public, max-age=60';
const IMMUTABLE_PATH =
  /^(snapshots\/\d+\.(json|csv)|codes\/\d+\.txt|final\/\d+\/[A-Za-z0-9_-]+\.(json|html))$/;
/** Only these characters, no dot-files, no `..`: anything else is a 404 without touching the disk. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Pages get the browser-side protections; data files get CORS so any auditor's page or tool may fetch them. */
const PAGE_HEADERS: readonly (readonly [string, string])[] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  [
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  ],
];
const DATA_HEADERS: readonly (readonly [string, string])[] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Access-Control-Allow-Origin', '*'],
];

function responseHeaders(
  type: string,
  cacheControl: string,
  etag: string,
  vary: boolean,
): readonly (readonly [string, string])[] {
  const headers: (readonly [string, string])[] = [
    ['Content-Type', type],
    ['Cache-Control', cacheControl],
    ['ETag', etag],
  ];
  if (vary) headers.push(['Vary', 'Accept-Encoding']);
  headers.push(...(type.startsWith('text/html') ? PAGE_HEADERS : DATA_HEADERS));
  return headers;
}

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

  /** Maps a URL path to a file path under the root, or `null` if it may not be served. */
  static resolve(url: string): string | null {
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
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    const compressible = body.length > 1024 && !type.startsWith('image/png');
    const zipped = compressible ? await gzipAsync(body) : null;
    const immutable = IMMUTABLE_PATH.test(path);
    const gzipped = zipped !== null && zipped.length < body.length ? zipped : null;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const cacheControl = immutable
      ? IMMUTABLE
      : path === 'latest.json' || path === 'live.json'
        ? FEED
        : ASSET;
    const entry: Entry = {
      body,
      gzip: gzipped,
      etag,
      type,
      cacheControl,
      immutable,
      headers: responseHeaders(type, cacheControl, etag, gzipped !== null),
      stamp,
      checkedAt: Date.now(),
    };
    this.#drop(path);
    this.#entries.set(path, entry);
    this.#bytes += entry.body.length + (entry.gzip?.length ?? 0);
    for (const key of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes || key === path) break;
      this.#drop(key);
    }
    return entry;
  }

  #drop(path: string): null {
    const e = this.#entries.get(path);
    if (e !== undefined) {
      this.#bytes -= e.body.length + (e.gzip?.length ?? 0);
      this.#entries.delete(path);
    }
    return null;
  }
}
