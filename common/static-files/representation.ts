/**
 * A file or fixed body held in memory with every precompressed variant and
 * its ready-made headers (STYLE 6, 7): a request only chooses among them.
 *
 *   Representation { type, codings: [br?, gzip?, identity], variants }
 *     └─ Variant { coding, body, etag, headers (200), notModified (304) }
 *
 * A compressed variant is kept only when it is smaller than the plain bytes.
 * `max` effort (Brotli 11, gzip 9) is for bodies fixed at start-up; `fast`
 * (Brotli 5, gzip 6, off the event loop) for files that change while the
 * server runs, where Brotli 11 would take seconds on a large snapshot.
 */
import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from 'node:zlib';
import { type Coding, contentEncoding } from './accept-encoding.js';
import { entityTag } from './entity-tag.js';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export type Header = readonly [string, string];

export interface Variant {
  readonly coding: Coding;
  readonly body: Buffer;
  readonly etag: string;
  /** Every header of a 200, in write order. */
  readonly headers: readonly Header[];
  /** The headers a 304 repeats (RFC 9110 §15.4.5): ETag, Cache-Control, Vary. */
  readonly notModified: readonly Header[];
}

export interface Representation {
  readonly type: string;
  /** The codings held, in the server's order of preference (ties in negotiation). */
  readonly codings: readonly Coding[];
  /** Parallel to `codings`. */
  readonly variants: readonly Variant[];
  /** Bytes held in memory, all variants together. */
  readonly bytes: number;
}

export interface RepresentationOptions {
  /** `Content-Type`. */
  readonly type: string;
  readonly cacheControl: string;
  /** Further headers for a 200 (security headers, CORS), written after the standard ones. */
  readonly headers?: readonly Header[];
  /** `max` for bodies fixed at start-up; `fast` for files re-read while running. */
  readonly effort: 'max' | 'fast';
}

/** Types worth compressing: text, JSON, JavaScript, SVG. Images and fonts already are. */
export function isCompressible(type: string): boolean {
  return /^(text\/|application\/(json|javascript|manifest\+json)|image\/svg\+xml)/.test(type);
}

const brotliOptions = (body: Buffer, effort: 'max' | 'fast') => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: effort === 'max' ? 11 : 5,
    [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
  },
});
const gzipOptions = (effort: 'max' | 'fast') => ({ level: effort === 'max' ? 9 : 6 });

function variant(plain: Buffer, body: Buffer, coding: Coding, options: RepresentationOptions): Variant {
  const etag = entityTag(plain, coding);
  const notModified: Header[] = [
    ['etag', etag],
    ['cache-control', options.cacheControl],
    ['vary', 'accept-encoding'],
  ];
  const headers: Header[] = [['content-type', options.type], ...notModified];
  const encoding = contentEncoding(coding);
  if (encoding !== null) headers.push(['content-encoding', encoding]);
  headers.push(...(options.headers ?? []));
  return { coding, body, etag, headers, notModified };
}

function assemble(plain: Buffer, br: Buffer | null, gz: Buffer | null, options: RepresentationOptions) {
  const variants: Variant[] = [];
  if (br !== null && br.length < plain.length) variants.push(variant(plain, br, 'br', options));
  if (gz !== null && gz.length < plain.length) variants.push(variant(plain, gz, 'gzip', options));
  variants.push(variant(plain, plain, 'identity', options));
  return {
    type: options.type,
    codings: variants.map((v) => v.coding),
    variants,
    bytes: variants.reduce((sum, v) => sum + v.body.length, 0),
  };
}

/** Prepares `body` now, blocking: for what is served from start-up on. */
export function representSync(body: Buffer, options: RepresentationOptions): Representation {
  if (!isCompressible(options.type)) return assemble(body, null, null, options);
  const br = brotliCompressSync(body, brotliOptions(body, options.effort));
  const gz = gzipSync(body, gzipOptions(options.effort));
  return assemble(body, br, gz, options);
}

/** Prepares `body` on the thread pool: for files loaded while serving. */
export async function represent(body: Buffer, options: RepresentationOptions): Promise<Representation> {
  if (!isCompressible(options.type)) return assemble(body, null, null, options);
  const [br, gz] = await Promise.all([
    brotliAsync(body, brotliOptions(body, options.effort)),
    gzipAsync(body, gzipOptions(options.effort)),
  ]);
  return assemble(body, br, gz, options);
}
