/**
 * The ballot mix (DESIGN §1.3): ballots do not reach the log in arrival
 * order. Each district's ballots are held until at least k have gathered or
 * the first has waited T ms, then shuffled (crypto-random Fisher–Yates) and
 * handed to the record log together, so a partition's order within a batch
 * says nothing about who came first.
 *
 *   hold(district, ballot) ─► pool[district] ──(k held | T since the first | close)──► shuffle ─► release(batch)
 *
 * Why per district: a ballot record names its district, and an insider who
 * knows a voter's district looks only at that district's ballots. The
 * anonymity a batch gives a ballot is the number of its own district's
 * ballots in it, so that is what k counts (a region-wide k can close with
 * one ballot of a district in it).
 *
 * The mix only delays; it never drops or answers. Every held item is
 * released exactly once: at k, at T, or by close() at shutdown, after which
 * items are released as they come (a write relayed during shutdown is not
 * held past it).
 */
import { shuffle } from './shuffle.js';

/** Why a batch left the mix. */
export type MixClose = 'k' | 't' | 'shutdown';

/** One released batch (metrics, bench). */
export interface MixInfo {
  readonly size: number;
  readonly closedBy: MixClose;
  /** How long its first ballot was held, seconds. */
  readonly holdSec: number;
}

export interface MixOptions<T> {
  /** k: a district's batch is released as soon as it holds this many. */
  readonly minBallots: number;
  /** T: a batch is released when its first ballot has waited this long. */
  readonly maxWaitMs: number;
  /** Takes a shuffled batch; must not throw. */
  readonly release: (batch: T[]) => void;
  readonly onBatch?: (info: MixInfo) => void;
}

interface Pool<T> {
  readonly items: T[];
  readonly since: number;
  readonly timer: NodeJS.Timeout;
}

export class Mix<T> {
  readonly #o: MixOptions<T>;
  readonly #pools = new Map<string, Pool<T>>();
  #closed = false;

  constructor(options: MixOptions<T>) {
    this.#o = options;
  }

  hold(group: string, item: T): void {
    if (this.#closed) {
      this.#release([item], performance.now(), 'shutdown');
      return;
    }
    let pool = this.#pools.get(group);
    if (pool === undefined) {
      const timer = setTimeout(() => this.#close(group, 't'), this.#o.maxWaitMs);
      pool = { items: [], since: performance.now(), timer };
      this.#pools.set(group, pool);
    }
    pool.items.push(item);
    if (pool.items.length >= this.#o.minBallots) this.#close(group, 'k');
  }

  /** Shutdown: releases every batch now, and later items pass straight through. */
  close(): void {
    this.#closed = true;
    for (const group of [...this.#pools.keys()]) this.#close(group, 'shutdown');
  }

  #close(group: string, closedBy: MixClose): void {
    const pool = this.#pools.get(group);
    if (pool === undefined) return;
    this.#pools.delete(group);
    clearTimeout(pool.timer);
    this.#release(pool.items, pool.since, closedBy);
  }

  #release(items: T[], since: number, closedBy: MixClose): void {
    shuffle(items);
    this.#o.onBatch?.({ size: items.length, closedBy, holdSec: (performance.now() - since) / 1000 });
    this.#o.release(items);
  }
}
