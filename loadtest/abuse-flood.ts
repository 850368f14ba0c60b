/**
 * The abuser of the `abuse` scenario, run from the scenario's own process
 * while the cast workers keep their steady load:
 *
 * - **identical issuance retries**: `tokens` voters each get one real
 *   credential, then their very same request is sent again and again, at
 *   `retryRate` per second in all, over keep-alive connections (answered from
 *   the stored signature until the token limit, then `429`; past the address
 *   limit `429` before the token is even verified);
 * - **slow bodies** (slowloris): `slowSockets` connections that send the
 *   headers of a credential request and then one body byte a second; each is
 *   reconnected when ingest cuts it off at the body timeout.
 *
 * Counts what came back, by status, and how many slow connections were cut off.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { issueDevToken, listSampleMembers, readKeys } from '../election/index.js';
import { modulusOf } from '../ingest/crypto/blind-rsa.js';
import type { RunElection } from './run-election.js';
import { HttpConnection } from './workers/http-connection.js';

export interface FloodOptions {
  readonly port: number;
  /** First roll member the flood's voters take (disjoint from every pool's and the real voters'). */
  readonly firstMember: number;
  readonly tokens: number;
  readonly retryRate: number;
  readonly connections: number;
  readonly slowSockets: number;
}

export interface FloodResult {
  /** Retries sent and their answers by HTTP status ("-1": connection lost). */
  readonly retries: number;
  readonly retryStatuses: Record<string, number>;
  /** Slow-body connections opened, and cut off by ingest (answered 400 or closed). */
  readonly slowOpened: number;
  readonly slowCutOff: number;
}

const TICK_MS = 20;

function request(token: string, body: string): string {
  return (
    `POST /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Builds one identical-retry request per flood voter (a dev token and one blinded message each). */
async function retryRequests(run: RunElection, o: FloodOptions): Promise<string[]> {
  const keys = await readKeys(run.stackDir, run.index.id);
  const out: string[] = [];
  for (const member of listSampleMembers(run.index, o.firstMember, o.tokens)) {
    const modulus = modulusOf(keys.districts.get(member.district)!.publicKey);
    const blinded = randomBytes(modulus.length);
    blinded[0] = Math.max(0, modulus[0]! - 1); // below n
    const token = await issueDevToken(keys, run.index, member.memberId);
    out.push(
      request(
        token,
        JSON.stringify({ election: run.index.id, blindedMessage: blinded.toString('base64url') }),
      ),
    );
  }
  return out;
}

export class AbuseFlood {
  private readonly statuses: Record<string, number> = {};
  private retries = 0;
  private slowOpened = 0;
  private slowCutOff = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly idle: HttpConnection[] = [];
  private readonly connections = new Set<HttpConnection>();
  private readonly slow = new Set<Socket>();
  private trickle: NodeJS.Timeout | null = null;

  private constructor(
    private readonly o: FloodOptions,
    private readonly requests: readonly string[],
  ) {}

  /** Issues each flood voter's credential once (the request the flood will repeat). */
  static async prepare(run: RunElection, o: FloodOptions): Promise<AbuseFlood> {
    const requests = await retryRequests(run, o);
    const flood = new AbuseFlood(o, requests);
    for (const r of requests) {
      const status = await flood.once(r);
      if (status !== 200) throw new Error(`flood voter's first issuance answered ${status}`);
    }
    return flood;
  }

  start(): void {
    for (let i = 0; i < this.o.connections; i++) this.open();
    for (let i = 0; i < this.o.slowSockets; i++) this.openSlow();
    let budget = 0;
    let next = 0;
    this.timer = setInterval(() => {
      budget = Math.min(budget + (this.o.retryRate * TICK_MS) / 1000, this.o.retryRate);
      while (budget >= 1 && this.idle.length > 0) {
        const c = this.idle.pop()!;
        budget--;
        this.retries++;
        c.send(this.requests[next++ % this.requests.length]!, performance.now(), (status) => {
          this.statuses[status] = (this.statuses[status] ?? 0) + 1;
        });
      }
    }, TICK_MS);
    // One more body byte a second on every slow connection: never idle, never done.
    this.trickle = setInterval(() => {
      for (const s of this.slow) s.write(' ');
    }, 1000);
  }

  stop(): FloodResult {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.trickle !== null) clearInterval(this.trickle);
    for (const c of this.connections) c.retire();
    for (const s of this.slow) s.destroy();
    return {
      retries: this.retries,
      retryStatuses: { ...this.statuses },
      slowOpened: this.slowOpened,
      slowCutOff: this.slowCutOff,
    };
  }

  private once(req: string): Promise<number> {
    return new Promise((resolve) => {
      const c = new HttpConnection(
        this.o.port,
        null,
        () => {
          if (c.busy) return;
          c.send(req, performance.now(), (status) => {
            c.retire();
            resolve(status);
          });
        },
        () => undefined,
      );
    });
  }

  private open(): void {
    const c = new HttpConnection(
      this.o.port,
      null,
      (idle) => this.idle.push(idle),
      (dead) => {
        this.connections.delete(dead);
        const at = this.idle.indexOf(dead);
        if (at !== -1) this.idle.splice(at, 1);
        if (!this.stopped) this.open();
      },
    );
    this.connections.add(c);
  }

  private openSlow(): void {
    const s = connect(this.o.port, '127.0.0.1');
    this.slowOpened++;
    this.slow.add(s);
    s.on('connect', () =>
      s.write(
        'POST /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"election":',
      ),
    );
    s.on('error', () => undefined);
    // Cut off: ingest answered (400 at the body timeout) or closed; counted once, then replaced.
    let cut = false;
    const cutOff = (): void => {
      if (cut || this.stopped) return;
      cut = true;
      this.slowCutOff++;
      this.slow.delete(s);
      s.destroy();
      this.openSlow();
    };
    s.on('data', cutOff);
    s.on('close', cutOff);
  }
}
