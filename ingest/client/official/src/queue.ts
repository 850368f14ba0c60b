/**
 * The station's check-ins: a log of this shift kept in localStorage, whose
 * unanswered entries are the queue, sent strictly in the order typed, one
 * at a time (`POST /v1/paper/check-ins`).
 *
 *   add ─► saved (outcome null) ─► drain: the oldest unanswered entry
 *       ─► untilAnswered (network / 503 / 429 / timeout: the same request again, later)
 *       ─► definitive answer ─► saved with its outcome ─► the next one
 *       ─► token refused (401, token_*) ─► stop, keep the entry, ask to sign in again
 *
 * Guarantees:
 * - Saved before it is sent: a reload, a crash or a closed tab loses nothing;
 *   the next page load (signed in for the same precinct) sends what is left.
 * - In order, never two at once: the next entry is sent only after the one
 *   before has its answer, and a Web Lock keeps two tabs of the same station
 *   from draining together.
 * - Leaves the queue only with a definitive answer. A resend after a lost
 *   answer is answered `repeated` (the API is idempotent per member and
 *   precinct), which is recorded. `repeated` cannot tell "your own request,
 *   whose answer was lost" from "checked in earlier here, ballot handed
 *   over", so the page says "issued earlier" only when this device has an
 *   earlier answer for the member, and otherwise `recorded_unsure`: check
 *   the station's signature list (never a silent second ballot, never a
 *   member turned away on a guess).
 */
import { ApiError, request } from '../../src/api.js';
import { readJson, writeJson } from '../../src/persist.js';
import { untilAnswered, type Waiting } from '../../src/retry.js';

/** Refusals with their own message on the official's screen. */
export const REFUSALS = [
  'already_issued_online',
  'already_checked_in',
  'not_eligible',
  'precinct_closed',
] as const;

export type Outcome =
  /** Recorded now: issue a ballot. */
  | 'checked_in'
  /** Recorded before, and this device has the member answered before: a ballot was issued earlier. */
  | 'repeated'
  /** Recorded before, not by an answer this device saw: whether a ballot was handed over is on the station's list. */
  | 'recorded_unsure'
  | (typeof REFUSALS)[number]
  /** Refused for another reason (`code` says which): not recorded. */
  | 'error';

export interface Entry {
  /** Unique in the shift (the same member may be typed twice). */
  readonly id: string;
  readonly memberId: string;
  /** When it was typed (ms since epoch). */
  readonly at: number;
  /** null while queued. */
  readonly outcome: Outcome | null;
  /** The API's code for `error`. */
  readonly code?: string;
  readonly answeredAt?: number;
}

interface Shift {
  readonly entries: readonly Entry[];
}

export interface QueueHooks {
  /** The signed-in official's token; null when signed out. */
  token(): string | null;
  /** The log changed (an entry added or answered, here or in another tab). */
  changed(): void;
  answered(entry: Entry): void;
  /** Waiting to resend the head of the queue (null: not waiting). */
  waiting(w: Waiting | null): void;
  /** The token was refused: the official must sign in again; the queue is kept. */
  signInAgain(code: string): void;
}

/** 12 digits, as printed on the member card; spaces a person may type are dropped. */
export function memberIdOf(typed: string): string | null {
  const id = typed.replace(/[\s-]/g, '');
  return /^\d{12}$/.test(id) ? id : null;
}

/** Answers that say the token (not the check-in) is no good. */
const TOKEN_CODES: ReadonlySet<string> = new Set([
  'unauthorized',
  'token_expired',
  'token_too_old',
  'token_wrong_issuer',
  'token_wrong_audience',
  'token_wrong_role',
]);

const SHIFT_PREFIX = 'saylau:official:shift:';
const shiftKey = (election: string, precinct: string) => `${SHIFT_PREFIX}${election}:${precinct}`;

/** Unanswered check-ins kept on this device, per precinct (the sign-in page says so). */
export function waitingOnDevice(): { precinct: string; n: number }[] {
  const out: { precinct: string; n: number }[] = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key === null || !key.startsWith(SHIFT_PREFIX)) continue;
    const n = (readJson<Shift>(key)?.entries ?? []).filter((e) => e.outcome === null).length;
    if (n > 0) out.push({ precinct: key.slice(key.lastIndexOf(':') + 1), n });
  }
  return out;
}

export class CheckInQueue {
  private readonly key: string;
  private draining = false;
  private seq = 0;

  constructor(
    private readonly election: string,
    precinct: string,
    private readonly hooks: QueueHooks,
  ) {
    this.key = shiftKey(election, precinct);
    window.addEventListener('storage', this.onStorage);
  }

  /** Another tab of this station answered or added an entry. */
  private readonly onStorage = (event: StorageEvent): void => {
    if (event.key === this.key) this.hooks.changed();
  };

  /** Stops listening (sign-out, or another sign-in replaces this queue); what is stored stays. */
  close(): void {
    window.removeEventListener('storage', this.onStorage);
  }

  entries(): readonly Entry[] {
    return readJson<Shift>(this.key)?.entries ?? [];
  }

  waitingCount(): number {
    return this.entries().filter((e) => e.outcome === null).length;
  }

  private save(entries: readonly Entry[]): void {
    writeJson(this.key, { entries } satisfies Shift);
  }

  private update(id: string, change: Partial<Entry>): Entry | undefined {
    let updated: Entry | undefined;
    this.save(
      this.entries().map((e) => {
        if (e.id !== id) return e;
        updated = { ...e, ...change };
        return updated;
      }),
    );
    return updated;
  }

  /** Saves a check-in at the end of the queue and starts sending; null if that member is already waiting. */
  add(memberId: string): Entry | null {
    const entries = this.entries();
    if (entries.some((e) => e.memberId === memberId && e.outcome === null)) return null;
    const entry: Entry = {
      id: `${Date.now().toString(36)}-${(this.seq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
      memberId,
      at: Date.now(),
      outcome: null,
    };
    this.save([...entries, entry]); // before sending: a crash from here on still sends it
    this.hooks.changed();
    this.drain();
    return entry;
  }

  /** Sign-out: forgets the answered check-ins (member ids on a shared device), keeps the queue. */
  forgetAnswered(): void {
    const waiting = this.entries().filter((e) => e.outcome === null);
    if (waiting.length === 0) localStorage.removeItem(this.key);
    else this.save(waiting);
  }

  /** Sends the queue, oldest first, until it is empty or the token is refused. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    const run = () => this.sendAll().finally(() => (this.draining = false));
    // One tab of a station sends at a time; the holder re-reads storage before each entry,
    // so entries typed in another tab are sent by whichever tab holds the lock.
    if (navigator.locks !== undefined) void navigator.locks.request(`${this.key}:send`, run);
    else void run();
  }

  private async sendAll(): Promise<void> {
    for (;;) {
      const entry = this.entries().find((e) => e.outcome === null);
      const token = this.hooks.token();
      if (entry === undefined || token === null) return;
      let outcome: Outcome;
      let code: string | undefined;
      try {
        const { status } = await untilAnswered(
          () => this.send(entry.memberId, token),
          (w) => this.hooks.waiting(w),
        );
        outcome = status === 'checked_in' ? 'checked_in' : this.repeatedOutcome(entry);
      } catch (error) {
        this.hooks.waiting(null);
        const apiError = error instanceof ApiError ? error : null;
        code = apiError?.code ?? 'unknown';
        if (TOKEN_CODES.has(code) || apiError?.status === 401) {
          this.hooks.signInAgain(code);
          return;
        }
        outcome = (REFUSALS as readonly string[]).includes(code) ? (code as Outcome) : 'error';
      }
      this.hooks.waiting(null);
      const answered = this.update(entry.id, {
        outcome,
        answeredAt: Date.now(),
        ...(outcome === 'error' ? { code } : {}),
      });
      this.hooks.changed();
      if (answered !== undefined) this.hooks.answered(answered);
    }
  }

  /**
   * `repeated` is "this precinct recorded the member before": a resend of this
   * very check-in whose answer was lost (retry.ts, or the browser's own
   * resend, which the page never sees) or a check-in made earlier. Only
   * when this device has the member answered before is it known that a
   * ballot was handed over; otherwise the station's list decides.
   */
  private repeatedOutcome(entry: Entry): Outcome {
    const seenBefore = this.entries().some(
      (e) =>
        e.memberId === entry.memberId &&
        e.id !== entry.id &&
        (e.outcome === 'checked_in' || e.outcome === 'recorded_unsure' || e.outcome === 'repeated'),
    );
    return seenBefore ? 'repeated' : 'recorded_unsure';
  }

  private send(memberId: string, token: string): Promise<{ status: string }> {
    return request<{ status: string }>(
      'POST',
      '/v1/paper/check-ins',
      JSON.stringify({ election: this.election, memberId }),
      { authorization: `Bearer ${token}` },
    );
  }
}
