/**
 * Bounded request body reader.
 *
 * Bodies over the limit are refused before they are buffered: a declared
 * `content-length` over the limit is refused without reading, and bytes are
 * counted in `onData` so a lying or chunked sender cannot make us buffer more.
 * Each chunk is copied into one preallocated buffer (uWS neuters the chunk's
 * ArrayBuffer when the callback returns), never `Buffer.concat` in a loop.
 */

import type { HttpResponse } from '../../common/uws.js';
import { IngestError } from '../errors.js';

/** The API's hard body limit (DESIGN §7). */
export const MAX_BODY_BYTES = 8 * 1024;

/** The refusal's message when a body does not arrive in time (counted by the router). */
export const BODY_TIMEOUT_MESSAGE = 'The request body did not arrive in time.';

/**
 * Parses a `content-length` header value: the length, -1 when absent, or
 * throws `payload_too_large` / `bad_request`. Call synchronously in the handler.
 */
export function declaredLength(header: string, limit: number): number {
  if (header === '') return -1;
  if (!/^\d{1,10}$/.test(header)) throw new IngestError('bad_request', 'Invalid content-length.');
  const length = Number(header);
  if (length > limit) throw new IngestError('payload_too_large');
  return length;
}

/**
 * Reads the body of `res`. Must be called synchronously inside the route
 * handler (before any await) so no chunk is missed. A body not whole within
 * `timeoutMs` is refused (`bad_request`, the router closes the connection):
 * a slow sender holds its buffer at most that long.
 */
export function readBody(
  res: HttpResponse,
  declared: number,
  limit: number,
  timeoutMs: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(declared >= 0 ? declared : limit);
    let received = 0;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new IngestError('bad_request', BODY_TIMEOUT_MESSAGE));
    }, timeoutMs);
    res.onData((chunk, isLast) => {
      if (settled) return;
      const size = chunk.byteLength;
      if (received + size > buffer.length) {
        settled = true;
        clearTimeout(timer);
        reject(new IngestError(declared >= 0 ? 'bad_request' : 'payload_too_large'));
        return;
      }
      buffer.set(new Uint8Array(chunk), received);
      received += size;
      if (isLast) {
        settled = true;
        clearTimeout(timer);
        resolve(received === buffer.length ? buffer : buffer.subarray(0, received));
      }
    });
  });
}
