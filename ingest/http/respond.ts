/**
 * Writing responses: always corked (a response after an await is outside
 * uWS's implicit cork), with back-pressure (`tryEnd` + `onWritable`), and
 * never on an aborted response.
 */
import { endHead } from '../../common/static-files/send.js';
import { type Exchange, type Headers, JSON_TYPE, type Reply } from './exchange.js';

export const NOT_MODIFIED = '304 Not Modified';

/**
 * Sends a complete response. Returns false when it was not sent (aborted, or
 * already answered). `closeConnection` is for refusals mid-body (413).
 */
export function respond(
  ex: Exchange,
  status: string,
  body: Buffer,
  headers: Headers,
  closeConnection = false,
  contentType = JSON_TYPE,
): boolean {
  if (ex.aborted || ex.responded) return false;
  ex.responded = true;
  ex.status = status;
  const res = ex.res;
  res.cork(() => {
    res.writeStatus(status);
    res.writeHeader('content-type', contentType);
    if (headers !== null) for (const [name, value] of headers) res.writeHeader(name, value);
    if (ex.head) {
      // A HEAD refused (404 on a conditional route): the length, never the bytes.
      endHead(res, body.length);
      return;
    }
    if (closeConnection) {
      res.end(body, true);
      return;
    }
    const offset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(body, body.length);
    if (ok || done) return;
    // The socket buffer is full: resume from where the kernel stopped taking bytes.
    res.onWritable((at) => {
      if (ex.aborted) return true;
      const [written] = res.tryEnd(body.subarray(at - offset), body.length);
      return written;
    });
  });
  return true;
}

/**
 * Sends the head of `reply` only: a 304 (its headers, no Content-Length —
 * RFC 9110 §15.4.5) or the answer to a HEAD (the Content-Length a GET would
 * have had, §9.3.2).
 */
export function respondWithoutBody(ex: Exchange, reply: Reply): boolean {
  if (ex.aborted || ex.responded) return false;
  ex.responded = true;
  ex.status = reply.status;
  const res = ex.res;
  res.cork(() => {
    res.writeStatus(reply.status);
    if (reply.status !== NOT_MODIFIED) res.writeHeader('content-type', reply.contentType);
    if (reply.headers !== null) for (const [name, value] of reply.headers) res.writeHeader(name, value);
    if (reply.status === NOT_MODIFIED) res.endWithoutBody();
    else endHead(res, reply.body.length);
  });
  return true;
}
