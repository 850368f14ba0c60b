/**
 * Takes a snapshot every interval (DESIGN §6):
 *
 *   wait for lag to settle ─► reconcile ─► read results ─► build ─► sign ─► store
 *        │ lag_not_settled     │ reconcile_failed          │ results_inconsistent
 *        │                     │ (a mismatch; conflicts are counted once and only reported)
 *        └─────────────────────┴───────────────────────────┴─► publish nothing,
 *                 log, count the failure, reconcile_ok=0 if it was the check, retry after `retryMs`
 *
 * One timer, re-armed when a run ends, so runs never overlap and the chain
 * (seq, prevHash) has exactly one writer.
 *
 * Final results (issue 16): given the followed election events, a run that
 * finds a `declared` event without a final yet takes the final snapshot for
 * it: candidate statuses as of the declaration (the verified events up to
 * it, in the stream's order), `final` with the round, winners and changes
 * since the previous final (final.ts), then the district protocols
 * (final-files.ts). `runSoon()` starts that run at once when the follower
 * applies a declaration.
 */

import type { KeyObject } from 'node:crypto';
import type { Logger } from '../common/log.js';
import type { ElectionIndex, StationKeys } from '../election/index.js';
import type { DistrictKeyFingerprint } from './district-keys.js';
import { isPublisherError, PublisherError } from './errors.js';
import { type Declaration, finalResult } from './final.js';
import type { FinalFiles } from './final-files.js';
import type { PublisherMetrics } from './metrics.js';
import { Repeater } from './repeater.js';
import type { ElectionEventRow, ResultsInput, ResultsSource, RollSource } from './results-source.js';
import { signSnapshot } from './signer.js';
import type { Snapshot, UnsignedSnapshot } from './snapshot.js';
import { buildSnapshot, type PublishingTerms } from './snapshot-builder.js';
import type { SnapshotStore } from './snapshot-store.js';

/** Reads of one attempt before an inconsistent result set fails it. */
const READ_ATTEMPTS = 3;

export interface SchedulerOptions {
  readonly index: ElectionIndex;
  readonly source: ResultsSource;
  readonly roll: RollSource;
  readonly store: SnapshotStore;
  readonly privateKey: KeyObject;
  /** The districts' key fingerprints (from the manifest), carried by every snapshot. */
  readonly districtKeys: readonly DistrictKeyFingerprint[];
  /** Station public keys: each protocol's signature is checked again before it counts. */
  readonly stations: StationKeys;
  readonly metrics: PublisherMetrics;
  readonly logger: Logger;
  /** Between successful snapshots. */
  readonly intervalMs: number;
  /** After a failed attempt. @default min(intervalMs, 15 s) */
  readonly retryMs?: number;
  /** How long to wait for consumer lag to reach zero. @default 30 s */
  readonly settleTimeoutMs?: number;
  readonly now?: () => number;
  /** The followed election events (ElectionEventsFollower's state) and the final rounds published; both or neither. */
  readonly final?: {
    readonly events: () => FollowedEvents;
    readonly files: FinalFiles;
  };
}

/** What the scheduler reads from the followed election state (election-state.ts). */
export interface FollowedEvents {
  /** `declared` events, in order. */
  readonly declarations: readonly Declaration[];
  /** The closing time in force (the config's, moved by `extended`), and an early close's time: Unix ms. */
  readonly closesAt: number;
  readonly closedAt: number | null;
  /** Every applied (verified) event, in the stream's order. */
  readonly events: readonly (Declaration & {
    readonly type: string;
    readonly race?: string;
    readonly candidate?: string;
  })[];
}

export class SnapshotScheduler {
  readonly #o: SchedulerOptions;
  readonly #repeater = new Repeater(() => this.#attempt());
  /** A published final snapshot whose protocols are not all written yet. */
  #unfinishedFinal: Snapshot | null = null;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /** Takes the first snapshot now, then one every interval. */
  start(): void {
    this.#repeater.start();
  }

  /** Takes the next snapshot now (or right after the one in progress): a declaration arrived. */
  runSoon(): void {
    this.#repeater.kick();
  }

  /**
   * When the next attempt starts (Unix ms): the timer's due time, or when the attempt in progress
   * started; `null` before `start()` and after `stop()`. For live.json's `nextSnapshotAt`.
   */
  get nextAttemptAt(): number | null {
    return this.#repeater.nextRunAt;
  }

  /** Stops the timer and waits for a snapshot in progress to finish writing. */
  stop(): Promise<void> {
    return this.#repeater.stop();
  }

  /**
   * One attempt: publishes a snapshot or throws a PublisherError, having
   * written nothing.
   */
  async runOnce(): Promise<Snapshot> {
    const { index, source, roll, store, metrics } = this.#o;
    const id = index.id;
    // A final whose protocols a failure cut short is finished before anything else is published.
    if (this.#unfinishedFinal !== null) {
      await this.#o.final!.files.publish(this.#unfinishedFinal);
      this.#unfinishedFinal = null;
    }
    await wrap('lag_not_settled', () => source.awaitSettled(id, this.#o.settleTimeoutMs ?? 30_000));
    const outcome = await wrap('source_unavailable', () => source.reconcile(id));
    if (!outcome.ok) {
      metrics.reconcileOk.set(0);
      throw new PublisherError('reconcile_failed', `reconciliation failed: ${outcome.problems.join('; ')}`);
    }
    metrics.reconcileOk.set(1);
    metrics.conflicts.set(outcome.conflicts);
    if (outcome.conflicts > 0) {
      this.#o.logger.warn(
        { conflicts: outcome.conflicts },
        'ballotIds with a second, different ballot in the log; each counted once, as its first record',
      );
    }
    // While voting goes on, a ClickHouse block can land between the reads
    // below; the builder then finds codes ≠ ballots and refuses. Reading
    // again usually gives a consistent set at once.
    let attempt = 0;
    for (;;) {
      attempt += 1;
      const [tally, paperProtocols, paperDissents, paperCheckIns, turnout, codes, rolls, events, reports] =
        await wrap('source_unavailable', () =>
          Promise.all([
            source.tally(id),
            source.paperProtocols(id),
            source.paperDissents(id),
            source.paperCheckIns(id),
            source.turnout(id),
            source.codes(id),
            roll.rollByRegion(id),
            source.electionEvents(id),
            source.reportCounts(id),
          ]),
        );
      const declared = this.#pendingDeclaration();
      const input: ResultsInput = {
        tally,
        paperProtocols,
        paperDissents,
        paperCheckIns,
        turnout,
        codes,
        roll: rolls,
        // Candidate statuses from the follower's verified, applied events when the publisher follows
        // them (always, in main.ts): ClickHouse's copy of the topic checks no operator signature.
        events: declared?.events ?? this.#verifiedEvents() ?? events,
        reports,
      };
      const head = store.head;
      let unsigned: UnsignedSnapshot;
      try {
        unsigned = buildSnapshot(
          index,
          input,
          {
            seq: head.seq + 1,
            prevHash: head.hash,
            takenAtMs: (this.#o.now ?? Date.now)(),
          },
          this.#o.districtKeys,
          this.#o.stations,
          this.#terms(),
        );
      } catch (error) {
        if (isPublisherError(error, 'results_inconsistent') && attempt < READ_ATTEMPTS) continue;
        throw error;
      }
      if (declared !== null) {
        const previous = await wrap('source_unavailable', () => this.#o.final!.files.previous());
        unsigned = { ...unsigned, final: finalResult(unsigned, declared.declaration, previous) };
      }
      const snapshot = signSnapshot(unsigned, this.#o.privateKey);
      await store.publish(snapshot, codes);
      if (declared !== null) {
        this.#unfinishedFinal = snapshot;
        await this.#o.final!.files.publish(snapshot);
        this.#unfinishedFinal = null;
      }
      metrics.published.inc();
      metrics.lastSeq.set(snapshot.seq);
      metrics.lastSnapshot.set(Date.parse(snapshot.takenAt) / 1000);
      return snapshot;
    }
  }

  /**
   * The closing time in force and the real interval: the followed state's when following events
   * (an `extended` moves it, an early `closed` sets it), the config's otherwise.
   */
  #terms(): PublishingTerms {
    const followed = this.#o.final?.events();
    return {
      closesAtMs: followed === undefined ? this.#o.index.closesAt : (followed.closedAt ?? followed.closesAt),
      snapshotIntervalSec: Math.max(1, Math.round(this.#o.intervalMs / 1000)),
    };
  }

  /** Every event the follower applied (signed, allowed), as rows for the builder; null without one. */
  #verifiedEvents(): ElectionEventRow[] | null {
    const final = this.#o.final;
    if (final === undefined) return null;
    return final.events().events.map(asRow);
  }

  /**
   * The first `declared` event without a final yet, with the events up to it
   * (as rows for the builder's candidate statuses), or `null`.
   */
  #pendingDeclaration(): { declaration: Declaration; events: ElectionEventRow[] } | null {
    const final = this.#o.final;
    if (final === undefined) return null;
    const followed = final.events();
    const declaration = followed.declarations.find((d) => !final.files.declared(d.id));
    if (declaration === undefined) return null;
    const upTo = followed.events.findIndex((e) => e.id === declaration.id);
    const events = followed.events.slice(0, upTo + 1).map(asRow);
    return { declaration, events };
  }

  /** One attempt, logged; resolves with the delay before the next (the interval, or the retry delay). */
  #attempt(): Promise<number> {
    const { logger, metrics, intervalMs } = this.#o;
    return this.runOnce().then(
      (s) => {
        logger.info({ seq: s.seq, codes: s.codes.count, round: s.final?.round }, 'snapshot published');
        // Another declaration still waiting for its final: take it at once.
        return this.#pendingDeclaration() === null ? intervalMs : 0;
      },
      (error: unknown) => {
        const code = isPublisherError(error) ? error.code : 'unexpected';
        metrics.failures.inc({ code });
        logger.error({ err: error, code }, 'snapshot not published; will retry');
        return this.#o.retryMs ?? Math.min(intervalMs, 15_000);
      },
    );
  }
}

/** What {@link runOnDeclaration} listens to: ElectionEventsFollower's `change`. */
interface ChangeSource {
  on(event: 'change', listener: (state: unknown, event: { readonly type: string }) => void): unknown;
}

/** A `declared` event applied by the follower runs the scheduler at once: that snapshot is the final. */
export function runOnDeclaration(follower: ChangeSource, scheduler: SnapshotScheduler): void {
  follower.on('change', (_state, event) => {
    if (event.type === 'declared') scheduler.runSoon();
  });
}

async function wrap<V>(code: 'lag_not_settled' | 'source_unavailable', step: () => Promise<V>): Promise<V> {
  try {
    return await step();
  } catch (cause) {
    if (isPublisherError(cause)) throw cause;
    const retriableCode = (cause as { code?: unknown }).code === 'lag_not_settled' ? 'lag_not_settled' : code;
    throw new PublisherError(retriableCode, `${retriableCode}: ${(cause as Error).message}`, { cause });
  }
}

/** An applied event as the builder reads candidate statuses from it. */
function asRow(e: {
  readonly type: string;
  readonly race?: string;
  readonly candidate?: string;
}): ElectionEventRow {
  return { type: e.type, race: e.race ?? '', candidate: e.candidate ?? '' };
}
