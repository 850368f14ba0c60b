/**
 * Answers a GET or HEAD from a {@link Representation} on a uWS response:
 * negotiation first, then the precondition on the chosen variant (RFC 9110
 * §13.2.2: If-None-Match is evaluated against the selected representation),
 * then the write, corked and with back-pressure (STYLE 15).
 *
 *   Accept-Encoding ─► chooseCoding ─► none: 406
 *                                     └► variant ─► If-None-Match matches: 304 (ETag, Cache-Control, Vary)
 *                                                  └► 200 (HEAD: headers and Content-Length only)
 */
import type { HttpRequest, HttpResponse } from '../uws.js';
import { chooseCoding } from './accept-encoding.js';
import { ifNoneMatchMatches } from './entity-tag.js';
import type { Representation, Variant } from './representation.js';

/** What the request asks, copied from `HttpRequest` (which lives only for the synchronous part). */
export interface Ask {
  readonly head: boolean;
  readonly acceptEncoding: string;
  readonly ifNoneMatch: string;
}

export type Selection =
  | { readonly status: '200 OK' | '304 Not Modified'; readonly variant: Variant }
  | { readonly status: '406 Not Acceptable'; readonly variant: null };

/** Copies what {@link select} needs from `req`. */
export function askOf(req: HttpRequest): Ask {
  return {
    head: req.getCaseSensitiveMethod() === 'HEAD',
    acceptEncoding: req.getHeader('accept-encoding'),
    ifNoneMatch: req.getHeader('if-none-match'),
  };
}

/** The answer to `ask`, without writing it: ingest's router writes JSON answers itself. */
export function select(rep: Representation, acceptEncoding: string, ifNoneMatch: string): Selection {
  const coding = chooseCoding(acceptEncoding, rep.codings);
  if (coding === null) return { status: '406 Not Acceptable', variant: null };
  const variant = rep.variants[rep.codings.indexOf(coding)]!;
  if (ifNoneMatchMatches(ifNoneMatch, variant.etag)) return { status: '304 Not Modified', variant };
  return { status: '200 OK', variant };
}

/** Set by `onAborted`: after it, `res` must not be touched. */
export interface AbortFlag {
  aborted: boolean;
}

/** Registers `onAborted` (required before anything asynchronous, and before a back-pressured write). */
export function watchAbort(res: HttpResponse): AbortFlag {
  const flag: AbortFlag = { aborted: false };
  res.onAborted(() => {
    flag.aborted = true;
  });
  return flag;
}

const NOT_ACCEPTABLE = 'not acceptable: no content coding you accept (Accept-Encoding)\n';

/** Writes the answer to `ask`; returns the status line sent, or null if the client had gone. */
export function send(res: HttpResponse, rep: Representation, ask: Ask, abort: AbortFlag): string | null {
  if (abort.aborted) return null;
  const selection = select(rep, ask.acceptEncoding, ask.ifNoneMatch);
  res.cork(() => {
    res.writeStatus(selection.status);
    if (selection.variant === null) {
      res.writeHeader('content-type', 'text/plain; charset=utf-8').writeHeader('vary', 'accept-encoding');
      endWith(res, NOT_ACCEPTABLE, ask.head);
      return;
    }
    const variant = selection.variant;
    if (selection.status === '304 Not Modified') {
      for (const [name, value] of variant.notModified) res.writeHeader(name, value);
      res.endWithoutBody();
      return;
    }
    for (const [name, value] of variant.headers) res.writeHeader(name, value);
    if (ask.head) endHead(res, variant.body.length);
    else writeBody(res, variant.body, abort);
  });
  return selection.status;
}

/**
 * Ends a HEAD answer with the Content-Length a GET would have had (RFC 9110
 * §9.3.2). Not `endWithoutBody(length)`: in this uWS build that leaves the
 * response open, and the next request on the connection hangs up.
 */
export function endHead(res: HttpResponse, length: number): void {
  res.writeHeader('content-length', String(length));
  res.endWithoutBody();
}

/** Ends a small answer (404, 500) with `body`, or for HEAD with its length alone. */
export function endWith(res: HttpResponse, body: string, head: boolean): void {
  if (head) endHead(res, Buffer.byteLength(body));
  else res.end(body);
}

/** Ends with `body`, resuming from where the socket stopped taking bytes (large files on slow links). */
function writeBody(res: HttpResponse, body: Buffer, abort: AbortFlag): void {
  const offset = res.getWriteOffset();
  const [ok, done] = res.tryEnd(body, body.length);
  if (ok || done) return;
  res.onWritable((at) => {
    if (abort.aborted) return true;
    const [written] = res.tryEnd(body.subarray(at - offset), body.length);
    return written;
  });
}
