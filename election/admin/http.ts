/**
 * The admin API's small HTTP helpers over uWebSockets.js: a bounded JSON body
 * reader and JSON answers. The handler contract of STYLE §15 holds: the
 * request is read synchronously, `onAborted` is set before anything
 * asynchronous, writes after an await are corked.
 */
import type { HttpResponse } from '../../common/uws.js';
import { AdminError } from './errors.js';

/** An event is a few hundred bytes; a triage a little more. */
export const MAX_BODY_BYTES = 8 * 1024;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A response that remembers whether the client went away. */
export interface Answer {
  readonly res: HttpResponse;
  aborted: boolean;
}

export function answerOf(res: HttpResponse): Answer {
  const answer: Answer = { res, aborted: false };
  res.onAborted(() => {
    answer.aborted = true;
  });
  return answer;
}

export function sendJson(answer: Answer, status: number, body: unknown): void {
  if (answer.aborted) return;
  answer.res.cork(() => {
    answer.res
      .writeStatus(`${status} ${STATUS_TEXT[status] ?? 'Unknown'}`)
      .writeHeader('Content-Type', 'application/json')
      .writeHeader('Cache-Control', 'no-store')
      .end(JSON.stringify(body));
  });
}

/** Reads the whole body (at most {@link MAX_BODY_BYTES}) and parses it as a JSON object. */
export function readJsonBody(answer: Answer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    answer.res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        reject(new AdminError('admin_payload_too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      // uWS reuses the chunk's memory once this returns: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new Error('not an object');
        }
        resolve(parsed as Record<string, unknown>);
      } catch {
        reject(new AdminError('admin_bad_request', 'the body must be a JSON object'));
      }
    });
  });
}

/** The bearer token of an `authorization` header, or ''. */
export function bearerToken(header: string): string {
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? '';
}
