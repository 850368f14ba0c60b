/**
 * Keeps sending the same request until it gets an answer that is not
 * "try again later": `503 overloaded` / `unavailable`, a network failure or a
 * timeout. Waits honour `Retry-After` (else exponential back-off with
 * jitter, capped at 30 s). While overloaded the voter joins the line on the
 * session channel (`GET /v1/session`, ingest/routes/session.ts) and sees
 * their place in it: `{"type":"queue"}` → `{queue:{ticket, position}}`, then
 * pushes of `{queue:{served}}`, place = ticket − served.
 */
import { ApiError } from './api.js';

export interface Waiting {
  readonly attempt: number;
  readonly code: string;
  /** When the next attempt starts (ms since epoch). */
  readonly nextAt: number;
  /** Place in line from the session channel; null when unknown. */
  readonly position: number | null;
}

const MAX_BACKOFF_MS = 30_000;

class QueueSession {
  private ws: WebSocket | null = null;
  private ticket = 0;
  position: number | null = null;

  constructor(private readonly onChange: () => void) {}

  join(): void {
    if (this.ws !== null) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/v1/session`);
    } catch {
      return; // no line position, but the retries go on
    }
    this.ws = ws;
    ws.onopen = () => ws.send('{"type":"queue"}');
    ws.onmessage = (event) => this.message(String(event.data));
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
    };
  }

  private message(text: string): void {
    let data: { queue?: { ticket?: number; position?: number; served?: number } };
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    const queue = data.queue;
    if (queue === undefined) return;
    if (typeof queue.ticket === 'number') this.ticket = queue.ticket;
    if (typeof queue.position === 'number') this.position = queue.position;
    else if (typeof queue.served === 'number' && this.ticket > 0)
      this.position = Math.max(0, this.ticket - queue.served);
    this.onChange();
  }

  close(): void {
    this.ws?.close();
    this.ws = null;
    this.ticket = 0;
    this.position = null;
  }
}

/** Resolves after `ms`, or earlier when the browser comes back online after a network failure. */
function pause(ms: number, wakeOnOnline: boolean): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (wakeOnOnline) window.addEventListener('online', done);
  });
}

/** Runs `send` until it succeeds or fails for good (a non-retriable ApiError, rethrown). */
export async function untilAnswered<T>(send: () => Promise<T>, onWait: (w: Waiting) => void): Promise<T> {
  let current: Waiting | null = null;
  const queue = new QueueSession(() => {
    if (current !== null) {
      current = { ...current, position: queue.position };
      onWait(current);
    }
  });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof ApiError) || !error.retriable) throw error;
        const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt - 1, 5));
        // Retry-After is a floor; the jitter spreads voters who were refused together.
        const wait =
          error.retryAfterMs !== null
            ? error.retryAfterMs + Math.random() * 500
            : backoff * (0.75 + Math.random() * 0.5);
        if (error.code === 'overloaded') queue.join();
        current = { attempt, code: error.code, nextAt: Date.now() + wait, position: queue.position };
        onWait(current);
        await pause(wait, error.code === 'network');
      }
    }
  } finally {
    queue.close();
  }
}
