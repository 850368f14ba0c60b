/**
 * The live turnout feed, `live.json`: credentials issued and ballots cast
 * per region, refreshed every few seconds for observers and the voters'
 * session channel. It carries no choices, is not reconciled and not signed —
 * the signed snapshots are the record; this is a progress bar.
 *
 *   {v, election, at, snapshot, nextSnapshotAt, total {roll, issuedOnline, issuedPaper, castOnline},
 *    regions [{code, roll, issuedOnline, issuedPaper, castOnline}]}
 *
 * One timer, re-armed after each refresh finishes, so a slow ClickHouse
 * never stacks refreshes up.
 */

import type { Logger } from '../common/log.js';
import type { ElectionIndex } from '../election/index.js';
import type { PublisherMetrics } from './metrics.js';
import { Repeater } from './repeater.js';
import type { ResultsSource, RollSource } from './results-source.js';
import { LIVE_PATH } from './snapshot.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface LiveRegion {
  readonly code: string;
  readonly roll: number;
  readonly issuedOnline: number;
  readonly issuedPaper: number;
  readonly castOnline: number;
}

export interface LiveFeedBody {
  readonly v: 1;
  readonly election: string;
  /** ISO 8601 UTC, whole seconds. */
  readonly at: string;
  /** The newest published snapshot's seq (0 before the first). */
  readonly snapshot: number;
  /**
   * When the scheduler next tries to take a snapshot (ISO 8601 UTC, whole seconds, rounded up); a time
   * not after `at` means one is being taken now; `null` when no publisher schedules snapshots.
   */
  readonly nextSnapshotAt: string | null;
  readonly total: Omit<LiveRegion, 'code'>;
  readonly regions: readonly LiveRegion[];
}

export interface LiveFeedOptions {
  readonly index: ElectionIndex;
  readonly source: Pick<ResultsSource, 'turnout'>;
  readonly roll: RollSource;
  readonly store: SnapshotStore;
  readonly metrics: PublisherMetrics;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** When the snapshot scheduler next tries (Unix ms; SnapshotScheduler.nextAttemptAt), `null` if not running. */
  readonly nextSnapshotAt?: () => number | null;
  readonly now?: () => number;
}

export class LiveFeed {
  readonly #o: LiveFeedOptions;
  readonly #repeater = new Repeater(() => this.#refreshLogged());
  #written = false;

  constructor(options: LiveFeedOptions) {
    this.#o = options;
  }

  /** Whether at least one feed has been written. */
  get written(): boolean {
    return this.#written;
  }

  start(): void {
    this.#repeater.start();
  }

  stop(): Promise<void> {
    return this.#repeater.stop();
  }

  /** Builds and writes one feed. */
  async refresh(): Promise<LiveFeedBody> {
    const { index, source, roll, store } = this.#o;
    const [rows, rolls] = await Promise.all([source.turnout(index.id), roll.rollByRegion(index.id)]);
    const byRegion = new Map<string, { -readonly [K in keyof LiveRegion]: LiveRegion[K] }>();
    for (const r of index.config.regions) {
      byRegion.set(r.code, {
        code: r.code,
        roll: rolls.get(r.code) ?? 0,
        issuedOnline: 0,
        issuedPaper: 0,
        castOnline: 0,
      });
    }
    for (const row of rows) {
      const t = byRegion.get(row.region);
      if (t === undefined) continue;
      t.issuedOnline += row.issuedOnline;
      t.issuedPaper += row.issuedPaper;
      t.castOnline += row.castOnline;
    }
    const regions = [...byRegion.values()];
    const total = { roll: 0, issuedOnline: 0, issuedPaper: 0, castOnline: 0 };
    for (const r of regions) {
      total.roll += r.roll;
      total.issuedOnline += r.issuedOnline;
      total.issuedPaper += r.issuedPaper;
      total.castOnline += r.castOnline;
    }
    const now = (this.#o.now ?? Date.now)();
    const next = this.#o.nextSnapshotAt?.() ?? null;
    const body: LiveFeedBody = {
      v: 1,
      election: index.id,
      at: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      snapshot: store.head.seq,
      nextSnapshotAt:
        next === null ? null : new Date(Math.ceil(next / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      total,
      regions,
    };
    await store.replace(LIVE_PATH, `${JSON.stringify(body)}\n`);
    this.#written = true;
    return body;
  }

  /** One refresh, counted and logged; the next comes after the interval either way. */
  #refreshLogged(): Promise<number> {
    return this.refresh().then(
      () => {
        this.#o.metrics.liveUpdates.inc({ outcome: 'ok' });
        return this.#o.intervalMs;
      },
      (error: unknown) => {
        this.#o.metrics.liveUpdates.inc({ outcome: 'error' });
        this.#o.logger.warn({ err: error }, 'live feed refresh failed; keeping the previous live.json');
        return this.#o.intervalMs;
      },
    );
  }
}
