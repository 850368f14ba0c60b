/**
 * `Content-Type` by file extension, for the files either site serves. Text
 * types say UTF-8; JSON does not need to (RFC 8259 §11 defines no charset
 * parameter: JSON is UTF-8). Anything unknown is `application/octet-stream`,
 * which with `nosniff` a browser will not run or render.
 */
import { extname } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The type for a file name or URL path; a path ending in `/` is its `index.html`. */
export function contentTypeOf(path: string): string {
  if (path.endsWith('/')) return TYPES['.html']!;
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
