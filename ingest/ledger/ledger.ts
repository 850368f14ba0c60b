/**
 * The ledger: "record exactly once" for issuance and casting alike (DESIGN
 * §3). Routes build a record and call {@link Ledger.record}; nothing else
 * claims dedup keys or touches the producer.
 *
 *   BEGIN (Redis, atomic) ─┬─ rebuilding ─► 503 rebuilding (the index is being rebuilt from Kafka)
 *                          ├─ done ───────► repeated (the log already holds this record first)
 *                          ├─ conflict ───► 409 (the log holds another record first — for a ballot, of
 *                          │                the same or a higher revision; the code says
 *                          │                which channel holds the member: conflictCode)
 *                          ├─ claimed ────► 503 (another record is pending or held: it may never
 *                          │                reach the log, so 409 would not yet be true)
 *                          ├─ busy ───────► 503 (someone is producing this very record)
 *                          └─ new / retry ─► write (produce, then read back from the log)
 *                                              ├─ first ─────► created
 *                                              ├─ same ──────► repeated
 *                                              ├─ conflict ──► 409 (written, but second: it never counts)
 *                                              ├─ unsent ────► SETTLE free the key (or hold it, if an
 *                                              │               earlier produce of it may be in the log) ─► 503
 *                                              └─ unknown ───► SETTLE hold the key for this record ─► 503
 *
 * Only a write that provably never left the process frees the key; one that
 * may be in the log keeps it for this record, so a retry of the same record
 * is produced again (duplicates share the key and count once) and a
 * different one is refused with 503 until the key settles: 409 is said only
 * when the log holds the other record. A held key expires with its TTL, so a
 * record that never reached the log does not lock anyone out. Identical concurrent
 * requests in one process share one attempt.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { loggableError } from '../../common/log.js';
import { isPaperCheckInHash } from '../../common/records.js';
import { type ErrorCode, IngestError } from '../errors.js';
import type { IngestMetrics } from '../metrics.js';
import { claimKeyOf, doneValue, type LedgerEntry } from './entries.js';
import type { IndexStore, SettleOutcome } from './index-store.js';
import type { LedgerSink } from './ledger-host.js';

export type Recorded = 'created' | 'repeated';

/**
 * The refusal when the log holds another record first for the entry's key.
 * A ballot: its credential cast another. A protocol: another took its
 * version. An issuance: who holds the member
 * decides — one member, one ballot, one channel (docs/paper.md):
 *
 *   requester \ holder   online                      paper
 *   online                credential_already_issued   checked_in_on_paper
 *   paper                 already_issued_online       already_checked_in (another precinct)
 *
 * `holder` is the dedup hash the index holds for the key (the first record's).
 */
export function conflictCode(entry: Pick<LedgerEntry, 'done' | 'hash'>, holder: string): ErrorCode {
  if (entry.done === 'cast') return 'credential_already_used';
  // A precinct protocol: another protocol took this version (a correction needs a higher one).
  if (entry.done === 'reported') return 'protocol_version_taken';
  // A dissent's key is its id and its hash that same id: two different notes never share a key.
  if (entry.done === 'noted') return 'bad_request';
  // A report's tracking number is random (40 bits): another report drew it first. A retry draws
  // a new one, so the request may simply be retried.
  if (entry.done === 'filed') return 'unavailable';
  const heldOnPaper = isPaperCheckInHash(holder);
  if (!isPaperCheckInHash(entry.hash))
    return heldOnPaper ? 'checked_in_on_paper' : 'credential_already_issued';
  return heldOnPaper ? 'already_checked_in' : 'already_issued_online';
}

export interface LedgerOptions {
  /** A write must be in the log and read back within this, or the request is answered 503. */
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly metrics: IngestMetrics;
}

export class Ledger {
  readonly #attempts = new Map<string, Promise<Recorded>>();

  constructor(
    private readonly index: IndexStore,
    private readonly sink: LedgerSink,
    private readonly options: LedgerOptions,
  ) {}

  /** Whether the log already holds `entry` itself (its key done with its hash), by the index. */
  async holds(entry: LedgerEntry): Promise<boolean> {
    const [held] = await this.index.values([entry.key]);
    return held === doneValue(entry.done, entry.hash);
  }

  /**
   * Records `entry` exactly once. Resolves `created` when this request put it
   * in the log first, `repeated` when the log already had it (or another
   * request in this process is recording it right now).
   * @throws IngestError rebuilding | unavailable | credential_already_used | credential_already_issued |
   *   checked_in_on_paper | already_issued_online | already_checked_in ({@link conflictCode})
   */
  async record(entry: LedgerEntry): Promise<Recorded> {
    const attemptKey = `${entry.key} ${entry.hash}`;
    const running = this.#attempts.get(attemptKey);
    if (running !== undefined) return running.then(() => 'repeated');
    const attempt = this.#attempt(entry).finally(() => this.#attempts.delete(attemptKey));
    this.#attempts.set(attemptKey, attempt);
    return attempt;
  }

  async #attempt(entry: LedgerEntry): Promise<Recorded> {
    // Only this attempt may settle the pending value it sets (another process may retry meanwhile).
    const attempt = randomBytes(6).toString('base64url');
    const begun = await this.index.begin(
      entry.region,
      entry.key,
      entry.hash,
      entry.done,
      attempt,
      entry.rev ?? 0,
    );
    switch (begun) {
      case 'rebuilding':
        throw new IngestError('rebuilding');
      case 'done':
        return 'repeated';
      case 'conflict':
        throw await this.#conflict(entry);
      case 'busy':
        throw new IngestError('unavailable', 'This record is being written; retry shortly.');
      case 'claimed':
        throw new IngestError(
          'unavailable',
          'An earlier request with this credential is not settled yet; retry shortly.',
        );
      default:
        break;
    }
    const verdict = await this.sink.write(entry, Date.now() + this.options.timeoutMs);
    this.options.metrics.ledgerVerdicts.inc({ topic: entry.topic, verdict });
    switch (verdict) {
      case 'first':
        return 'created';
      case 'same':
        return 'repeated';
      case 'conflict':
        throw await this.#conflict(entry);
      default:
        await this.#settle(entry, verdict, attempt);
        throw new IngestError('unavailable', 'The record could not be confirmed in the log; retry shortly.');
    }
  }

  /**
   * The 409 for a key the log holds for another record, told by the holder's
   * done value (only the follower writes it, and never changes it after). A
   * key without one (Redis lost it since) cannot say who holds the member:
   * 503, and the retry after the rebuild gets the right code.
   */
  async #conflict(entry: LedgerEntry): Promise<IngestError> {
    if (entry.done === 'cast') return new IngestError(conflictCode(entry, ''));
    const [value] = await this.index.values([entry.key]);
    const prefix = doneValue(entry.done, '');
    if (value === null || value === undefined || !value.startsWith(prefix)) {
      return new IngestError('unavailable', 'The record is second in the log; retry shortly.');
    }
    return new IngestError(conflictCode(entry, value.slice(prefix.length)));
  }

  async #settle(entry: LedgerEntry, outcome: SettleOutcome, attempt: string): Promise<void> {
    try {
      const changed = await this.index.settle(claimKeyOf(entry), entry.hash, outcome, attempt);
      // Not an error: the follower applied a record, or a later attempt took the key over.
      if (!changed) this.options.log.debug({ outcome }, 'dedup key no longer this attempt’s: left as it is');
    } catch (err) {
      // The key keeps `pending` until its TTL: a retry of this record waits out the busy window.
      this.options.log.warn(
        { err: loggableError(err), code: 'SAYLAU_ERR_LEDGER_SETTLE', outcome },
        'could not settle a dedup key',
      );
    }
  }
}
