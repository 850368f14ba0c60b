/**
 * `GET /v1/session`: the WebSocket status channel (DESIGN §7).
 *
 * Built for many idle sockets: per-socket user data is one number (the
 * queue ticket), nothing is sent per socket on a timer, and all pushes go
 * through uWS pub/sub topics from a single process-wide tick:
 *
 *   topic `status`  {type:"status", election, open, turnout}   on change
 *   topic `queue`   {type:"status", queue:{served}}            each tick while anyone waits
 *
 * A voter refused with `503 overloaded` sends `{"type":"queue"}`, gets a
 * ticket and its position, and computes `ticket - served` from the pushes;
 * at ≤ 0 it retries. Per-process line (processes do not coordinate).
 */

import type { TemplatedApp, Uws, WebSocket } from '../../common/uws.js';
import type { IngestContext } from '../context.js';
import { ERROR_BODIES } from '../errors.js';

interface SessionData {
  ticket: number;
}

/** Sessions per process, kept under the 20,000 open-files budget with room for HTTP sockets. */
export const MAX_SESSIONS = 16_000;
const TICK_MS = 2_000;
/** A socket with more than this queued is skipped for direct sends (pub/sub uses maxBackpressure). */
const MAX_BUFFERED = 16 * 1024;
const QUEUE_REQUEST = '{"type":"queue"}';

export class SessionChannel {
  private open = 0;
  private lastStatus = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly app: TemplatedApp,
    private readonly uws: Uws,
    private readonly ctx: IngestContext,
  ) {}

  get sessions(): number {
    return this.open;
  }

  mount(): void {
    const { admission, metrics } = this.ctx;
    this.app.ws<SessionData>('/v1/session', {
      maxPayloadLength: 256,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: MAX_BUFFERED,
      closeOnBackpressureLimit: 1,
      compression: this.uws.DISABLED,
      upgrade: (res, req, context) => {
        if (this.open >= MAX_SESSIONS || this.ctx.lifecycle.draining) {
          res
            .writeStatus('503 Service Unavailable')
            .writeHeader('retry-after', '5')
            .end(ERROR_BODIES.overloaded);
          return;
        }
        res.upgrade<SessionData>(
          { ticket: 0 },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        this.open++;
        metrics.sessions.set(this.open);
        ws.subscribe('status');
        this.sendDirect(ws, this.statusMessage());
      },
      message: (ws, message) => {
        if (Buffer.from(message).toString('utf8') !== QUEUE_REQUEST) return;
        const data = ws.getUserData();
        if (data.ticket === 0) {
          data.ticket = admission.takeTicket();
          ws.subscribe('queue');
        }
        const position = admission.position(data.ticket);
        this.sendDirect(
          ws,
          JSON.stringify({
            type: 'status',
            queue: { ticket: data.ticket, position, served: admission.served },
          }),
        );
      },
      close: () => {
        this.open--;
        metrics.sessions.set(this.open);
      },
    });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  private statusMessage(): string {
    const { election, counted, lifecycle, live } = this.ctx;
    return JSON.stringify({
      type: 'status',
      election: election.id,
      open: live.phase(Date.now()) === 'open' && !lifecycle.draining,
      turnout: counted.turnout ?? null,
    });
  }

  /** One tick for the whole process: publish what changed. */
  tick(): void {
    const status = this.statusMessage();
    if (status !== this.lastStatus) {
      this.lastStatus = status;
      this.app.publish('status', status);
    }
    const served = this.ctx.admission.advance();
    if (this.app.numSubscribers('queue') > 0) {
      this.app.publish('queue', JSON.stringify({ type: 'status', queue: { served } }));
    }
  }

  private sendDirect(ws: WebSocket<SessionData>, message: string): void {
    if (ws.getBufferedAmount() < MAX_BUFFERED) ws.send(message, false);
  }
}
