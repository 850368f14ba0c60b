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

interface PendingBody {
  readonly deadline: number;
  readonly expire: () => void;
}

/**
 * Body-read deadlines with one timer for the process (no per-request timers):
 * every read has the same timeout, so the set's insertion order is deadline
 * order and a sweep stops at the first read still in time. A read expires
 * within `timeoutMs` + a quarter of it.
 */
export class BodyDeadlines {
  private readonly pending = new Set<PendingBody>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly timeoutMs: number) {
    this.timer = setInterval(() => this.sweep(performance.now()), Math.max(25, timeoutMs / 4));
    this.timer.unref();
  }

  /** Calls `expire` once the deadline passes, unless the returned function is called first. */
  track(expire: () => void): () => void {
    const entry: PendingBody = { deadline: performance.now() + this.timeoutMs, expire };
    this.pending.add(entry);
    return () => this.pending.delete(entry);
  }

  private sweep(now: number): void {
    for (const entry of this.pending) {
      if (entry.deadline > now) return;
      this.pending.delete(entry);
      entry.expire();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Reads the body of `res`. Must be called synchronously inside the route
 * handler (before any await) so no chunk is missed. A body not whole by its
 * deadline is refused (`bad_request`, the router closes the connection): a
 * slow sender holds its buffer at most that long.
 */
export function readBody(
  res: HttpResponse,
  declared: number,
  limit: number,
  deadlines: BodyDeadlines,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(declared >= 0 ? declared : limit);
    let received = 0;
    let settled = false;
    const untrack = deadlines.track(() => {
      settled = true;
      reject(new IngestError('bad_request', BODY_TIMEOUT_MESSAGE));
    });
    res.onData((chunk, isLast) => {
      if (settled) return;
      const size = chunk.byteLength;
      if (received + size > buffer.length) {
        settled = true;
        untrack();
        reject(new IngestError(declared >= 0 ? 'bad_request' : 'payload_too_large'));
        return;
      }
      buffer.set(new Uint8Array(chunk), received);
      received += size;
      if (isLast) {
        settled = true;
        untrack();
        resolve(received === buffer.length ? buffer : buffer.subarray(0, received));
      }
    });
  });
}
