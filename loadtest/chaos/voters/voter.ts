/**
 * One voter, as the web client behaves (`ingest/client/src/retry.ts`):
 *
 *   member voter:  login ─► blind ─► POST /v1/credentials ─► finalize ─► cast ─┐
 *                  (later, some: second device: login ─► new blinded message ─► credentials ─► cast)
 *   cache voter:   cast with a pre-signed credential ─────────────────────────┤
 *                  (later, some: cast a different ballot with the same credential)
 *
 * Every request is retried, unchanged, after a 5xx, timeout or reset, waiting
 * `Retry-After` (else exponential back-off with jitter), until an answer that
 * is not "try again" or the run's deadline. Some voters change their choices
 * when they have to retry a cast, as 2020's voters did. Every attempt goes to
 * the history (`../history.ts`) with its outcome.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ballotIdOf } from '../../../common/ballot-id.js';
import type { SelectionRow } from '../../../common/records.js';
import type { ElectionIndex } from '../../../election/index.js';
import { BALLOT_BODY_BYTES } from '../../workers/request-sources.js';
import type { BallotWhy, HistoryRecord } from '../history.js';
import { between, type Random } from '../random.js';
import { type Answer, post } from './api.js';
import { type BlindKey, blind, finalize } from './blind-client.js';
import type { Behaviour, ClientSettings, RequestKind, ThinkTime } from './protocol.js';

export interface VoterEnv {
  readonly base: string;
  readonly index: ElectionIndex;
  readonly keys: ReadonlyMap<string, BlindKey>;
  readonly client: ClientSettings;
  readonly behaviour: Behaviour;
  /** Epoch ms: the run's clock starts here. */
  readonly t0: number;
  /** Epoch ms: no request starts after this. */
  readonly deadline: number;
  write(record: HistoryRecord): void;
  /** Counts an answer (ticks, codes). */
  note(kind: RequestKind, answer: Answer): void;
}

export interface Credential {
  readonly district: string;
  readonly message: Buffer;
  readonly signature: Buffer;
}

export interface Member {
  readonly memberId: string;
  readonly district: string;
  readonly voterHash: string;
}

/** What one voter did, for the summary. */
export interface VoterResult {
  gaveUp: boolean;
  changed: boolean;
  recast: boolean;
  secondDevice: boolean;
  skippedLater: boolean;
  anomalies: number;
}

/** A log-normal draw (Box–Muller on the voter's seeded stream), capped. */
export function thinkMs(rng: Random, think: ThinkTime): number {
  const u = Math.max(rng(), Number.EPSILON);
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  return Math.min(think.maxMs, think.medianMs * Math.exp(think.sigma * normal));
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

export class Voter {
  readonly result: VoterResult = {
    gaveUp: false,
    changed: false,
    recast: false,
    secondDevice: false,
    skippedLater: false,
    anomalies: 0,
  };

  constructor(
    private readonly env: VoterEnv,
    private readonly rng: Random,
  ) {}

  private get t(): number {
    return Date.now() - this.env.t0;
  }

  /** A cache voter: casts with a credential it already holds. */
  async castOnly(credential: Credential): Promise<void> {
    const recast = this.rng() < this.env.behaviour.recastShare;
    await this.castFlow(credential, recast);
  }

  /** A member voter: gets a credential through issuance, casts, maybe tries a second device. */
  async issueAndCast(member: Member): Promise<void> {
    const second = this.rng() < this.env.behaviour.secondShare;
    const recast = this.rng() < this.env.behaviour.recastShare;
    const credential = await this.issueFlow(member, 1);
    if (credential === null) return;
    const issuedAt = this.t;
    const think = this.env.behaviour.think;
    if (think !== null) await sleep(thinkMs(this.rng, think));
    await this.castFlow(credential, recast);
    if (!second) return;
    if (!(await this.later(issuedAt))) return;
    this.result.secondDevice = true;
    const another = await this.issueFlow(member, 2);
    if (another !== null) await this.castFlow(another, false);
  }

  /** Waits for a later attempt; false when it would come too close to the deadline. */
  private async later(sinceT: number): Promise<boolean> {
    const { laterMinMs, laterMaxMs } = this.env.behaviour;
    const at = this.env.t0 + sinceT + between(this.rng, laterMinMs, laterMaxMs);
    if (at > this.env.deadline - this.env.client.timeoutMs) {
      this.result.skippedLater = true;
      return false;
    }
    await sleep(Math.max(0, at - Date.now()));
    return true;
  }

  private async untilAnswered(
    send: () => Promise<Answer>,
    note: (answer: Answer, attempt: number) => void,
  ): Promise<Answer | null> {
    let last: Answer | null = null;
    for (let attempt = 1; ; attempt++) {
      if (Date.now() >= this.env.deadline) break;
      last = await send();
      note(last, attempt);
      if (last.outcome === 'ok' || !last.retriable) return last;
      const wait = this.backoff(attempt, last.retryAfterMs);
      if (Date.now() + wait >= this.env.deadline) break;
      await sleep(wait);
    }
    this.result.gaveUp = true;
    return last;
  }

  /** Retry-After plus jitter if given, else 1 s · 2^(n−1) ± 25 %; both capped for a bounded run. */
  private backoff(attempt: number, retryAfterMs: number | null): number {
    const cap = this.env.client.backoffCapMs;
    if (retryAfterMs !== null) return Math.min(cap, retryAfterMs) + this.rng() * 500;
    return Math.min(cap, 1000 * 2 ** Math.min(attempt - 1, 5)) * (0.75 + this.rng() * 0.5);
  }

  private post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return post(this.env.base, path, text, headers, this.env.client.timeoutMs);
  }

  private anomaly(what: string, extra: { v?: string; id?: string }): void {
    this.result.anomalies++;
    this.env.write({ k: 'anomaly', t: this.t, what, ...extra });
  }

  private async issueFlow(member: Member, device: number): Promise<Credential | null> {
    const { env } = this;
    const v = member.voterHash;
    const login = await this.untilAnswered(
      () => this.post('/v1/dev/login', { election: env.index.id, memberId: member.memberId }),
      (a, attempt) => {
        env.note('login', a);
        env.write({
          k: 'login',
          t: this.t,
          v,
          d: device,
          a: attempt,
          s: a.status,
          c: a.code,
          o: a.outcome,
          ms: a.ms,
        });
      },
    );
    const token = login?.outcome === 'ok' ? login.body?.token : undefined;
    if (typeof token !== 'string') return null;
    const key = env.keys.get(member.district);
    if (key === undefined) throw new Error(`no key for district ${member.district}`);
    const blinded = blind(key);
    const bh = sha256(blinded.blinded);
    const body = JSON.stringify({ election: env.index.id, blindedMessage: b64u(blinded.blinded) });
    const issued = await this.untilAnswered(
      () => this.post('/v1/credentials', body, { authorization: `Bearer ${token}` }),
      (a, attempt) => {
        env.note('issue', a);
        const sig = a.outcome === 'ok' ? a.body?.blindSignature : undefined;
        const sh = typeof sig === 'string' ? sha256(Buffer.from(sig, 'base64url')) : null;
        env.write({
          k: 'issue',
          t: this.t,
          v,
          d: device,
          a: attempt,
          s: a.status,
          c: a.code,
          o: a.outcome,
          ms: a.ms,
          bh,
          sh,
        });
      },
    );
    const sig = issued?.outcome === 'ok' ? issued.body?.blindSignature : undefined;
    if (typeof sig !== 'string') return null;
    const signature = finalize(key, blinded, Buffer.from(sig, 'base64url'));
    if (signature === null) {
      this.anomaly('bad_blind_signature', { v });
      return null;
    }
    env.write({ k: 'cred', t: this.t, v, d: device, id: ballotIdOf(blinded.prepared) });
    return { district: member.district, message: blinded.prepared, signature };
  }

  private async castFlow(credential: Credential, recast: boolean): Promise<void> {
    const id = ballotIdOf(credential.message);
    const changeOnRetry = this.rng() < this.env.behaviour.changeShare;
    let x = 0;
    let rows = this.firstChoice(credential.district);
    const define = (why: BallotWhy): string => {
      this.env.write({ k: 'ballot', t: this.t, id, x, rows, why });
      return this.body(credential, rows);
    };
    let body = define('first');
    const send = (): Promise<Answer> => this.post('/v1/ballots', body);
    const cast = await this.untilAnswered(send, (a, attempt) => {
      this.recordCast(id, x, a, attempt);
      // A voter told to try again changes their mind, once.
      if (a.outcome === 'ok' || !a.retriable || !changeOnRetry || x !== 0) return;
      const changed = this.changedChoice(credential.district, rows);
      if (changed === null) return;
      x = 1;
      rows = changed;
      body = define('changed');
      this.result.changed = true;
    });
    if (!recast || cast?.outcome !== 'ok') return;
    if (!(await this.later(this.t))) return;
    const other = this.changedChoice(credential.district, rows);
    if (other === null) return;
    this.result.recast = true;
    x += 1;
    rows = other;
    body = define('recast');
    await this.untilAnswered(send, (a, attempt) => this.recordCast(id, x, a, attempt));
  }

  private recordCast(id: string, x: number, a: Answer, attempt: number): void {
    this.env.note('cast', a);
    const got = a.outcome === 'ok' ? a.body?.ballotId : undefined;
    const r = typeof got === 'string' ? got : null;
    this.env.write({
      k: 'cast',
      t: this.t,
      id,
      x,
      a: attempt,
      s: a.status,
      c: a.code,
      o: a.outcome,
      ms: a.ms,
      r,
    });
    if (r !== null && r !== id) this.anomaly('receipt_mismatch', { id });
  }

  /** Races of the district by id (canonical order, as ingest sorts them). */
  private races(district: string) {
    return [...this.env.index.racesOf(district)].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Valid selections in canonical form (choices sorted): one or two candidates per race. */
  private firstChoice(district: string): SelectionRow[] {
    return this.races(district).map((race) => {
      const active = race.candidates.filter((c) => c.status === 'active').map((c) => c.id);
      const count = race.maxChoices >= 2 && active.length >= 2 && this.rng() < 0.3 ? 2 : 1;
      const chosen = new Set<string>();
      while (chosen.size < Math.min(count, active.length)) {
        chosen.add(active[Math.floor(this.rng() * active.length)]!);
      }
      return [race.id, ...[...chosen].sort()] as SelectionRow;
    });
  }

  /** A ballot that differs from `from` in its first race with an unmarked candidate; null if none has one. */
  private changedChoice(district: string, from: readonly SelectionRow[]): SelectionRow[] | null {
    const races = this.races(district);
    for (let i = 0; i < races.length; i++) {
      const race = races[i]!;
      const marked = new Set(from[i]!.slice(1));
      const unmarked = race.candidates.filter((c) => c.status === 'active' && !marked.has(c.id));
      if (unmarked.length === 0) continue;
      const rows = [...from];
      rows[i] = [race.id, unmarked[Math.floor(this.rng() * unmarked.length)]!.id];
      return rows;
    }
    return null;
  }

  private body(credential: Credential, rows: readonly SelectionRow[]): string {
    const body = JSON.stringify({
      election: this.env.index.id,
      district: credential.district,
      credential: { message: b64u(credential.message), signature: b64u(credential.signature) },
      selections: rows.map(([race, ...choices]) => ({ race, choices })),
    });
    // Padded like the web client pads (DESIGN §4), to the load test's size.
    const pad = Math.max(0, BALLOT_BODY_BYTES - body.length - 10);
    return `${body.slice(0, -1)},"pad":"${' '.repeat(pad)}"}`;
  }
}
