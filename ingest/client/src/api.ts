/**
 * Talking to ingest API v1: JSON in and out, errors as {@link ApiError}
 * carrying the API's stable code (`{error:{code, message}}`), plus `network`
 * and `timeout` for answers that never came. `retriable` is true for codes
 * where the very same request may succeed later.
 */

import { API_CODES, type ApiCode, RETRIED_CODES } from './codes.js';

export { API_CODES, type ApiCode };

const RETRIABLE: ReadonlySet<ApiCode> = new Set(RETRIED_CODES);

/** A slow mobile link gets this long per request before it counts as a network failure. */
const REQUEST_TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly retriable: boolean;

  constructor(
    readonly code: ApiCode,
    readonly status: number,
    /** From `Retry-After`, in milliseconds; null when absent. */
    readonly retryAfterMs: number | null,
    options?: { cause?: unknown },
  ) {
    super(code, options);
    this.retriable = RETRIABLE.has(code) || status >= 500;
  }
}

const asCode = (value: unknown): ApiCode =>
  (API_CODES as readonly unknown[]).includes(value) ? (value as ApiCode) : 'unknown';

function retryAfter(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 300) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * Sends a request; resolves with the body of a 2xx answer as bytes, or throws
 * ApiError. `cache` is the fetch cache mode: API calls bypass the HTTP cache,
 * the fixed election files revalidate with their ETag (`default`).
 */
async function send(
  method: 'GET' | 'POST',
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  cache: RequestCache,
): Promise<Uint8Array<ArrayBuffer>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let res: Response;
  try {
    const init: RequestInit = { method, headers: { ...headers }, signal: controller.signal, cache };
    if (body !== undefined) {
      init.body = body;
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    res = await fetch(path, init);
  } catch (cause) {
    clearTimeout(timer);
    throw new ApiError(controller.signal.aborted ? 'timeout' : 'network', 0, null, { cause });
  }
  let bytes: Uint8Array<ArrayBuffer> | null = null;
  let parsed: unknown = null;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok && bytes.length > 0) parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    // A body cut off mid-way (the server went down while answering) is a network failure.
    if (res.ok || res.status >= 500) throw new ApiError('network', res.status, null, { cause });
  } finally {
    clearTimeout(timer);
  }
  if (res.ok && bytes !== null) return bytes;
  const code = asCode((parsed as { error?: { code?: unknown } } | null)?.error?.code);
  throw new ApiError(
    code === 'unknown' && res.status >= 500 ? 'unavailable' : code,
    res.status,
    retryAfter(res.headers.get('retry-after')),
  );
}

/** Parses a 2xx body as JSON; a body that is not JSON is a network failure (cut off). */
export function parseJson<T>(bytes: Uint8Array<ArrayBuffer>): T {
  try {
    return (bytes.length === 0 ? null : JSON.parse(new TextDecoder().decode(bytes))) as T;
  } catch (cause) {
    throw new ApiError('network', 200, null, { cause });
  }
}

/** Sends a request; resolves with the parsed JSON body of a 2xx answer, or throws ApiError. */
export async function request<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<T> {
  return parseJson<T>(await send(method, path, body, headers, 'no-store'));
}

export const getJson = <T>(path: string): Promise<T> => request<T>('GET', path);

/**
 * GETs a fixed file of the election (summary, district slice): revalidated
 * with its ETag, so a reload costs a 304. Returns the bytes exactly as
 * received, for a digest check before they are parsed.
 */
export const getFixed = (path: string): Promise<Uint8Array<ArrayBuffer>> =>
  send('GET', path, undefined, {}, 'default');
