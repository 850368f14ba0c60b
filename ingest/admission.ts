/**
 * Admission control: a per-process in-flight budget (DESIGN §1.5, §7).
 *
 * A request that would exceed the budget is refused at once with
 * `503 overloaded` and a jittered `Retry-After`, so accepted requests keep
 * their latency. Voters who wait do so on the session channel: each takes a
 * ticket, the process advances `served` as capacity frees up, and a voter's
 * place in line is `ticket - served` (a per-process approximation; processes
 * do not coordinate).
 */

export class Admission {
  private inFlightCount = 0;
  private tickets = 0;
  private servedCount = 0;

  constructor(readonly maxInFlight: number) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Takes a slot if one is free. */
  tryEnter(): boolean {
    if (this.inFlightCount >= this.maxInFlight) return false;
    this.inFlightCount++;
    return true;
  }

  leave(): void {
    this.inFlightCount--;
  }

  /** Gives a waiting voter a place in line. */
  takeTicket(): number {
    return ++this.tickets;
  }

  /** Called on the status tick: lets as many waiters through as there are free slots. */
  advance(): number {
    const free = this.maxInFlight - this.inFlightCount;
    if (free > 0) this.servedCount = Math.min(this.tickets, this.servedCount + free);
    return this.servedCount;
  }

  get served(): number {
    return this.servedCount;
  }

  position(ticket: number): number {
    return Math.max(0, ticket - this.servedCount);
  }
}

/** `Retry-After` seconds in [min, max], so refused clients do not return in lockstep. */
export function jitteredRetryAfter(min: number, max: number): string {
  return String(min + Math.floor(Math.random() * (max - min + 1)));
}
