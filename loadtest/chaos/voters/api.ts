/**
 * One request to ingest and what its answer means, Jepsen style:
 *
 *   ok       2xx                                             the operation happened
 *   refused  4xx (429 `rate_limited`: retried); 503 `overloaded` (admission, before any     it did not happen
 *            work); 503 `rebuilding`; connection refused
 *            (nothing was sent)
 *   unknown  503 `unavailable` and other 5xx, timeouts,        it may or may not have happened
 *            resets, a body cut off
 *
 * `retriable` follows the web client (`ingest/client/src/api.ts`): every 5xx,
 * timeout and network failure is retried with the same request, and `429
 * rate_limited` after its Retry-After; any other 4xx is final.
 */

export type Outcome = 'ok' | 'refused' | 'unknown';

export interface Answer {
  /** HTTP status; 0 when none arrived. */
  readonly status: number;
  /** The API's error code, `timeout`, `reset`, `conn_refused`, or '' for 2xx. */
  readonly code: string;
  readonly outcome: Outcome;
  readonly retriable: boolean;
  readonly ms: number;
  /** From `Retry-After`, ms; null when absent. */
  readonly retryAfterMs: number | null;
  readonly body: Record<string, unknown> | null;
}

/** 503 codes that promise nothing was done. */
const DEFINITE_503 = new Set(['overloaded', 'rebuilding']);

function networkCode(error: unknown): { code: string; outcome: Outcome } {
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return { code: 'timeout', outcome: 'unknown' };
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  // connect() failed: not one byte of the request left this process.
  if (code === 'ECONNREFUSED') return { code: 'conn_refused', outcome: 'refused' };
  return { code: 'reset', outcome: 'unknown' };
}

function retryAfter(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 300) * 1000 : null;
}

export async function post(
  base: string,
  path: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<Answer> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (error) {
    const { code, outcome } = networkCode(error);
    return { status: 0, code, outcome, retriable: true, ms: elapsed(), retryAfterMs: null, body: null };
  }
  let parsed: Record<string, unknown> | null = null;
  try {
    parsed = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    // A cut-off body: the answer is unknown whatever the status said.
    return {
      status: res.status,
      code: 'truncated',
      outcome: 'unknown',
      retriable: true,
      ms: elapsed(),
      retryAfterMs: null,
      body: null,
    };
  }
  const ms = elapsed();
  const wait = retryAfter(res.headers.get('retry-after'));
  if (res.ok)
    return {
      status: res.status,
      code: '',
      outcome: 'ok',
      retriable: false,
      ms,
      retryAfterMs: null,
      body: parsed,
    };
  const error = (parsed as { error?: { code?: unknown } } | null)?.error?.code;
  const code = typeof error === 'string' ? error : `http_${res.status}`;
  if (res.status >= 500) {
    const outcome: Outcome = res.status === 503 && DEFINITE_503.has(code) ? 'refused' : 'unknown';
    return { status: res.status, code, outcome, retriable: true, ms, retryAfterMs: wait, body: parsed };
  }
  return {
    status: res.status,
    code,
    outcome: 'refused',
    retriable: res.status === 429,
    ms,
    retryAfterMs: wait,
    body: parsed,
  };
}
