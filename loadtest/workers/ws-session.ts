/**
 * A minimal WebSocket client for holding many idle sessions on node:net:
 * the RFC 6455 upgrade handshake and a frame parser that answers pings and
 * counts text frames. Nothing per socket but the socket and a few fields
 * (no `ws` object graph, no per-socket timers); see loadtest/README.md for
 * the measured cost against the `ws` package.
 *
 * Client frames must be masked (RFC 6455 §5.3); a zero mask key is a valid key.
 *
 *   byte 0: FIN | opcode (1 text, 8 close, 9 ping, 10 pong)
 *   byte 1: MASK | len (126 → u16 follows, 127 → u64 follows)
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One fixed key for every session: the accept value is computed once. */
const KEY = 'c2F5bGF1LWxvYWR0ZXN0IQ==';
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
const HEADER_END = Buffer.from('\r\n\r\n');

export interface SessionEvents {
  open(s: WsSession): void;
  message(s: WsSession): void;
  /** `refused`: the upgrade was answered with a non-101 status (e.g. 503 at the session cap). */
  closed(s: WsSession, reason: 'refused' | 'error' | 'closed', detail: string): void;
}

export class WsSession {
  readonly socket: Socket;
  upgraded = false;
  startedAt = performance.now();
  private pending: Buffer | null = null;
  private done = false;

  constructor(
    port: number,
    localAddress: string | null,
    private readonly events: SessionEvents,
  ) {
    this.socket = connect(
      localAddress === null ? { port, host: '127.0.0.1' } : { port, host: '127.0.0.1', localAddress },
    );
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.socket.write(
        `GET /v1/session HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (err) => this.finish('error', err.message));
    this.socket.on('close', () => this.finish('closed', 'closed by peer'));
  }

  /** Closes without reporting a drop. */
  close(): void {
    this.done = true;
    this.socket.destroy();
  }

  private finish(reason: 'refused' | 'error' | 'closed', detail: string): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    this.events.closed(this, reason, detail);
  }

  private read(chunk: Buffer): void {
    let data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    if (!this.upgraded) {
      const end = data.indexOf(HEADER_END);
      if (end === -1) {
        this.pending = data;
        return;
      }
      const header = data.toString('latin1', 0, end);
      if (!header.startsWith('HTTP/1.1 101') || !header.includes(ACCEPT)) {
        this.finish('refused', header.split('\r\n', 1)[0] ?? 'no status');
        return;
      }
      this.upgraded = true;
      this.events.open(this);
      data = data.subarray(end + 4);
    }
    this.frames(data);
  }

  private frames(data: Buffer): void {
    let at = 0;
    while (data.length - at >= 2) {
      const opcode = data[at]! & 0x0f;
      let len = data[at + 1]! & 0x7f;
      let offset = at + 2;
      if (len === 126) {
        if (data.length - at < 4) break;
        len = data.readUInt16BE(at + 2);
        offset = at + 4;
      } else if (len === 127) {
        if (data.length - at < 10) break;
        len = Number(data.readBigUInt64BE(at + 2));
        offset = at + 10;
      }
      if (data.length < offset + len) break;
      if (opcode === 9) this.control(0x8a, data.subarray(offset, offset + len));
      else if (opcode === 8) {
        this.control(0x88, data.subarray(offset, offset + Math.min(len, 2)));
        this.finish('closed', `close frame ${len >= 2 ? data.readUInt16BE(offset) : ''}`);
        return;
      } else if (opcode === 1 || opcode === 2) this.events.message(this);
      at = offset + len;
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
  }

  /** Sends a masked control frame (pong or close) with a zero mask key. */
  private control(firstByte: number, payload: Buffer): void {
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = firstByte;
    frame[1] = 0x80 | payload.length;
    payload.copy(frame, 6); // mask key 0,0,0,0: payload XOR 0 is the payload
    this.socket.write(frame);
  }
}
