/**
 * The admin service's copy of an election's violation reports: it follows
 * the `reports` topic (every partition, from the election's log start) and
 * applies each record by the rules of `reports.ts`, so the committee's list,
 * the public status and the next triage all read one state — the log's.
 *
 *   reports/<p> ──► LogReader ──► report: new entry (a tracking number seen again: ignored)
 *                               └► triage: applied if it is the report's next id and a
 *                                  transition the machine allows, else skipped (logged)
 *
 *   triage(): read to the log's end ─► triageDecision ─► writer.produce (acks=all, the report's
 *   partition) ─► read back to that offset ─► the report's n-th triage is ours: created
 *                                            another one took the id: admin_triage_conflict
 *                                            none: admin_triage_unconfirmed (send again)
 *
 * Texts are read from Kafka here and nowhere else: ClickHouse holds only
 * counts (aggregator/migrations/006-reports.ts). election/ imports common/
 * only, so the producer is the admin service's own, passed in
 * ({@link TriageWriter}).
 */
import { canonicalJson } from '../../common/canonical.js';
import { LogReader, type LogRecord, partitionKey } from '../../common/kafka/log-reader.js';
import type { Logger } from '../../common/log.js';
import {
  REPORT_KINDS,
  type ReportRecord,
  type ReportStatus,
  TOPICS,
  type TriageRecord,
} from '../../common/records.js';
import { readLogStart } from '../log-start.js';
import {
  applies,
  isRepeat,
  isReportRefusal,
  REPORT_REFUSALS,
  type ReportEntry,
  type ReportRefusal,
  statusOf,
  type TriageRequest,
  triageDecision,
} from './reports.js';

/** Writes one record with acks=all; resolves with the offset the broker acknowledged. */
export interface TriageWriter {
  produce(topic: string, partition: number, key: string, value: string, timestampMs: number): Promise<number>;
}

export interface ReportsBookOptions {
  readonly brokers: readonly string[];
  readonly stackDir: string;
  readonly election: string;
  readonly log: Logger;
}

export type Triaged = { readonly outcome: 'created' | 'repeated'; readonly record: TriageRecord };

interface MutableEntry extends ReportEntry {
  triage: TriageRecord[];
}

export class ReportsBook {
  readonly #o: ReportsBookOptions;
  readonly #reader: LogReader;
  readonly #entries = new Map<string, MutableEntry>();
  /** The triage under way per report: one at a time, so this process never races itself. */
  readonly #deciding = new Map<string, Promise<void>>();
  #skipped = 0;

  constructor(options: ReportsBookOptions) {
    this.#o = options;
    this.#reader = new LogReader({
      brokers: options.brokers,
      clientId: 'saylau-admin-reports',
      log: options.log,
      maxWaitMs: 200,
    });
  }

  /** Starts following every partition of `reports` from the election's log start; resolves once current. */
  async start(timeoutMs = 30_000): Promise<void> {
    const [recorded, low] = await Promise.all([
      readLogStart(this.#o.stackDir, this.#o.election),
      this.#reader.startOffsets([TOPICS.reports]),
    ]);
    for (const [key, first] of low) {
      const partition = Number(key.slice(key.lastIndexOf('/') + 1));
      this.#reader.seek(TOPICS.reports, partition, Math.max(first, recorded.get(key) ?? 0));
    }
    this.#reader.start((batch) => {
      for (const r of batch.records) this.#apply(batch.partition, r);
    });
    await this.current(timeoutMs);
  }

  /** Resolves once every record in the log when called is applied. */
  async current(timeoutMs = 10_000): Promise<void> {
    const ends = await this.#reader.endOffsets([TOPICS.reports]);
    const deadline = Date.now() + timeoutMs;
    for (const [key, end] of ends) {
      const partition = Number(key.slice(key.lastIndexOf('/') + 1));
      await this.#reach(partition, end, deadline);
    }
  }

  /** Records the book skipped: triage that did not apply, records of no known shape. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Why the book may be behind the log (the reader's problem), or null. */
  get problem(): string | null {
    return this.#reader.problem;
  }

  get(tracking: string): ReportEntry | undefined {
    return this.#entries.get(tracking);
  }

  /** Every report, or those with `status`, in the order they were read (by partition). */
  list(status?: ReportStatus): ReportEntry[] {
    const all = [...this.#entries.values()];
    return status === undefined ? all : all.filter((e) => statusOf(e) === status);
  }

  /**
   * Decides, writes and confirms one triage. `isRemoval(id)`: whether the
   * election's events hold that `candidate-removed` event.
   */
  triage(
    tracking: string,
    request: TriageRequest,
    by: string,
    writer: TriageWriter,
    isRemoval: (eventId: string) => boolean,
    now = Date.now(),
  ): Promise<Triaged | ReportRefusal> {
    const before = this.#deciding.get(tracking) ?? Promise.resolve();
    const run = before.then(() => this.#triage(tracking, request, by, writer, isRemoval, now));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#deciding.set(tracking, settled);
    void settled.then(() => {
      if (this.#deciding.get(tracking) === settled) this.#deciding.delete(tracking);
    });
    return run;
  }

  async #triage(
    tracking: string,
    request: TriageRequest,
    by: string,
    writer: TriageWriter,
    isRemoval: (eventId: string) => boolean,
    now: number,
  ): Promise<Triaged | ReportRefusal> {
    await this.current();
    const entry = this.#entries.get(tracking);
    if (entry !== undefined && isRepeat(entry, request, by)) {
      return { outcome: 'repeated', record: entry.triage.at(-1)! };
    }
    const decided = triageDecision(entry, request, by, now, isRemoval);
    if (isReportRefusal(decided)) return decided;
    const value = canonicalJson(decided);
    const offset = await writer.produce(TOPICS.reports, entry!.partition, decided.id, value, decided.at);
    await this.#reach(entry!.partition, offset + 1, Date.now() + 10_000);
    const taken = entry!.triage.find((t) => t.id === decided.id);
    if (taken === undefined) {
      return {
        refused: 'admin_triage_unconfirmed',
        message: REPORT_REFUSALS.admin_triage_unconfirmed.message,
      };
    }
    if (canonicalJson(taken) !== value) {
      return { refused: 'admin_triage_conflict', message: REPORT_REFUSALS.admin_triage_conflict.message };
    }
    return { outcome: 'created', record: decided };
  }

  close(): Promise<void> {
    return this.#reader.close();
  }

  async #reach(partition: number, offset: number, deadline: number): Promise<void> {
    for (;;) {
      const at = this.#reader.position(TOPICS.reports, partition) ?? 0;
      if (at >= offset) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `reports book: ${partitionKey(TOPICS.reports, partition)} at ${at}, not ${offset} (${this.#reader.problem ?? 'slow'})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  #apply(partition: number, r: LogRecord): void {
    const record = parse(r.value, this.#o.election);
    if (record === null) return; // another election's, or no record of this topic's kinds
    const why = this.#applyRecord(partition, record);
    if (why === null) return;
    this.#skipped++;
    this.#o.log.warn(
      { topic: TOPICS.reports, partition, offset: r.offset, code: 'SAYLAU_ERR_REPORT_SKIPPED' },
      `reports: skipped a record (${why})`,
    );
  }

  /** Applies one record; returns why it was skipped, or null. */
  #applyRecord(partition: number, record: ReportRecord | TriageRecord): string | null {
    if (record.kind === REPORT_KINDS.report) {
      if (this.#entries.has(record.id)) return 'tracking number seen before';
      this.#entries.set(record.id, { record, partition, triage: [] });
      return null;
    }
    const entry = this.#entries.get(record.report);
    if (entry === undefined) return 'triage of no known report';
    if (!applies(entry, record)) return 'triage that does not apply';
    entry.triage.push(record);
    return null;
  }
}

/** A report or triage record of `election`, or null. Fields are checked for type, not trusted further. */
function parse(value: Buffer | null, election: string): ReportRecord | TriageRecord | null {
  if (value === null) return null;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || r.v !== 1 || r.election !== election) return null;
  const strings = (...keys: string[]): boolean => keys.every((k) => typeof r[k] === 'string');
  if (
    r.kind === REPORT_KINDS.report &&
    strings('id', 'region', 'district', 'category', 'text', 'attachment', 'filedAs')
  ) {
    return r as unknown as ReportRecord;
  }
  if (
    r.kind === REPORT_KINDS.triage &&
    strings('id', 'report', 'region', 'status', 'summary', 'removal', 'by') &&
    typeof r.at === 'number'
  ) {
    return r as unknown as TriageRecord;
  }
  return null;
}
