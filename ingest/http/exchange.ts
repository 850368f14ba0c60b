import type { HttpResponse } from '../../common/uws.js';

/** Extra response headers, as [name, value] pairs; `null` when there are none. */
export type Headers = readonly (readonly [string, string])[] | null;

/** What a route handler answers; the router writes it (corked, with back-pressure). */
export interface Reply {
  readonly status: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly headers: Headers;
}

export const JSON_TYPE = 'application/json';

/** A JSON reply; objects are serialised here, buffers are sent as they are (pre-serialised). */
export function json(status: string, body: object | Buffer, headers: Headers = null): Reply {
  return {
    status,
    contentType: JSON_TYPE,
    body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
    headers,
  };
}

/**
 * One HTTP request/response pair. uWS's `HttpRequest` lives only for the
 * synchronous part of the handler, so everything a route needs later is
 * copied here up front (STYLE 15). Every field is set in the constructor so
 * all exchanges share one hidden class (STYLE 10).
 */
export class Exchange {
  /** Set by `onAborted`: the socket is gone and `res` must not be touched. */
  aborted = false;
  /** Set once a response has started; a second one is a bug and is ignored. */
  responded = false;
  /** The status line sent, for metrics. */
  status = '';
  /** Route parameters (`:id`), copied. */
  readonly params: string[] = [];
  /** Raw query string, copied. */
  query = '';
  /** `authorization` header, copied when the route reads it. */
  authorization = '';
  /** `if-none-match` header, copied when the route is conditional. */
  ifNoneMatch = '';
  /** `accept-encoding` header, copied when the route is conditional (negotiated). */
  acceptEncoding = '';
  /** A HEAD request (conditional routes answer HEAD as GET, without the body). */
  head = false;
  /** The TCP peer's address as text, copied when the route reads it (issuance limits). */
  address = '';
  /** The request body (≤ 8 KiB), once read; `null` for routes without one. */
  body: Buffer | null = null;
  /** Admission slot held, to be released exactly once. */
  admitted = false;
  /** The handler is running: it, not `onAborted`, finishes the exchange. */
  handling = false;
  /** Metrics recorded and slot released. */
  finished = false;
  readonly startedAt: number;

  constructor(
    readonly res: HttpResponse,
    readonly route: string,
    /** Every answer padded to this many bytes (the cast route), or null. */
    readonly padTo: number | null,
  ) {
    this.startedAt = performance.now();
  }
}
