/**
 * One keep-alive HTTP/1.1 connection on node:net, one request at a time.
 * Cheaper per request than node:http (no IncomingMessage, no header
 * objects): the response is scanned for the status code and Content-Length
 * (uWS always sends one) and dropped.
 *
 *   idle ──send()──► busy ──response──► idle   (onDone(status, bodyText, receipt))
 *                     └──error/close──► dead   (onDone(-1, message, null))
 */
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;
/** A cast's answer carries its receipt as `"ballotId":"<26 base32 chars>"`. */
const BALLOT_ID_KEY = Buffer.from('"ballotId":"');
const BALLOT_ID_LENGTH = 26;

/** `receipt`: the ballotId in a 2xx answer, found without decoding the body; null when absent. */
export type Done = (status: number, body: string, receipt: string | null) => void;

export class HttpConnection {
  readonly socket: Socket;
  connected = false;
  dead = false;
  busy = false;
  /** When the current request should have started (the open model's clock), ms. */
  intendedAt = 0;
  sentAt = 0;
  /** When the connection last became idle (performance.now()). */
  idleSince = 0;
  private pending: Buffer | null = null;
  private onDone: Done | null = null;

  constructor(
    port: number,
    localAddress: string | null,
    private readonly onIdle: (c: HttpConnection) => void,
    private readonly onDead: (c: HttpConnection, message: string) => void,
  ) {
    this.socket = connect(
      localAddress === null ? { port, host: '127.0.0.1' } : { port, host: '127.0.0.1', localAddress },
    );
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.connected = true;
      this.idleSince = performance.now();
      this.onIdle(this);
    });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (err) => this.die(err.message));
    this.socket.on('close', () => this.die('connection closed'));
  }

  send(request: string, intendedAt: number, onDone: Done): void {
    this.busy = true;
    this.intendedAt = intendedAt;
    this.onDone = onDone;
    this.sentAt = performance.now();
    this.socket.write(request);
  }

  /** Closes an idle connection (see IDLE_RETIRE_MS in http-load.ts). */
  retire(): void {
    this.dead = true;
    this.socket.destroy();
  }

  /** Gives up on the current request (timeout): the connection cannot be reused. */
  abort(message: string): void {
    this.die(message);
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const end = data.indexOf(HEADER_END);
    if (end === -1) {
      this.pending = data;
      return;
    }
    const header = data.toString('latin1', 0, end);
    const length = Number(CONTENT_LENGTH.exec(header)?.[1] ?? '0');
    const bodyStart = end + 4;
    if (data.length < bodyStart + length) {
      this.pending = data;
      return;
    }
    this.pending = data.length > bodyStart + length ? data.subarray(bodyStart + length) : null;
    const status = Number(header.slice(9, 12));
    const ok = status === 200 || status === 201;
    const body = length > 0 && !ok ? data.toString('utf8', bodyStart, bodyStart + length) : '';
    let receipt: string | null = null;
    if (ok) {
      const at = data.indexOf(BALLOT_ID_KEY, bodyStart);
      const from = at + BALLOT_ID_KEY.length;
      if (at !== -1 && from + BALLOT_ID_LENGTH <= bodyStart + length) {
        receipt = data.toString('latin1', from, from + BALLOT_ID_LENGTH);
      }
    }
    const done = this.onDone;
    this.onDone = null;
    this.busy = false;
    done?.(status, body, receipt);
    this.idleSince = performance.now();
    if (!this.dead) this.onIdle(this);
  }

  private die(message: string): void {
    if (this.dead) return;
    this.dead = true;
    const done = this.onDone;
    this.onDone = null;
    done?.(-1, message, null);
    this.onDead(this, message);
  }
}
