/**
 * What is compared, and the runs turned into the report's summaries and the
 * printed tables. Used after a benchmark and by `--summarise <report.json>`,
 * which recomputes both from a report's recorded runs without running anything.
 */
import { READERS } from './jobs.js';
import type { ClientName } from './producers.js';
import type { Run } from './runner.js';
import {
  PRODUCE_MEASURES,
  type ProduceSummary,
  produceHeader,
  produceRow,
  READ_HEADER,
  READ_MEASURES,
  type ReadSummary,
  readRow,
  summarise,
  table,
  withClientCpu,
} from './summary.js';

export const CONFIGURATIONS: readonly { id: string; client: ClientName; idempotent: boolean }[] = [
  { id: 'kafkajs-idempotent', client: 'kafkajs', idempotent: true },
  { id: 'kafkajs-plain', client: 'kafkajs', idempotent: false },
  { id: 'platformatic-idempotent', client: 'platformatic', idempotent: true },
  { id: 'platformatic-plain', client: 'platformatic', idempotent: false },
  { id: 'harness-only', client: 'none', idempotent: false },
];
/** Today's configuration (ingest/kafka/record-log.ts). */
export const BASELINE = 'kafkajs-idempotent';
export const HARNESS = 'harness-only';
export const READ_BASELINE = 'kafkajs-consumer';

export interface Phase {
  readonly id: string;
  /** null: saturation. */
  readonly rate: number | null;
  readonly durationSec: number;
}

export interface Summaries {
  readonly produce: Record<string, Record<string, ProduceSummary>>;
  readonly read: Record<string, ReadSummary>;
  readonly text: string;
}

/** Round i of one configuration, or null when it failed or the stack was restarted under it. */
function samples<R>(
  runs: readonly Run[],
  rounds: number,
  phase: string,
  configuration: string,
  pick: (run: Run) => R | null,
) {
  return Array.from({ length: rounds }, (_, round) => {
    const run = runs.find((r) => r.phase === phase && r.configuration === configuration && r.round === round);
    const result = run === undefined || run.brokersRestarted ? null : pick(run);
    return result === null ? null : { result, brokerIdleCores: run!.brokerIdleCores };
  });
}

export function summariseRuns(
  runs: readonly Run[],
  phases: readonly Phase[],
  rounds: number,
  readRecords: number,
): Summaries {
  const printed: string[] = [];
  const produce: Record<string, Record<string, ProduceSummary>> = {};
  for (const phase of phases) {
    const of = (id: string) =>
      samples(runs, rounds, phase.id, id, (r) => (r.result?.kind === 'produce' ? r.result : null));
    const harness = summarise(PRODUCE_MEASURES, of(HARNESS), null);
    const baseRaw = summarise(PRODUCE_MEASURES, of(BASELINE), null);
    const base = withClientCpu(baseRaw, harness, null);
    const bySummary: Record<string, ProduceSummary> = {};
    for (const c of CONFIGURATIONS) {
      bySummary[c.id] =
        c.id === BASELINE
          ? base
          : withClientCpu(summarise(PRODUCE_MEASURES, of(c.id), baseRaw), harness, base);
    }
    produce[phase.id] = bySummary;
    const latency = phase.rate !== null;
    const title = latency
      ? `open model at ${phase.rate} records/s, ${phase.durationSec} s (latency from the intended append time)`
      : `saturation: offered load unlimited, ${phase.durationSec} s`;
    const rows = CONFIGURATIONS.map((c) => produceRow(c.id, bySummary[c.id]!, latency));
    printed.push(`${title}\n${table(produceHeader(latency), rows)}`);
  }
  const read: Record<string, ReadSummary> = {};
  if (runs.some((r) => r.phase === 'read')) {
    const of = (id: string) =>
      samples(runs, rounds, 'read', id, (r) => (r.result?.kind === 'read' ? r.result : null));
    const base = summarise(READ_MEASURES, of(READ_BASELINE), null);
    for (const reader of READERS) {
      read[reader] = reader === READ_BASELINE ? base : summarise(READ_MEASURES, of(reader), base);
    }
    const rows = READERS.map((r) => readRow(r, read[r]!));
    printed.push(`read ${readRecords} records, first offset → end\n${table(READ_HEADER, rows)}`);
  }
  const legend =
    `medians of ${rounds} rounds; ×: median over rounds of the ratio to ${BASELINE} (reads: ${READ_BASELINE}) ` +
    `in the same round; ms/1k: CPU ms per 1,000 records; client = producer process − ${HARNESS} (same round); ` +
    `net = brokers − their idle rate just before the run`;
  return { produce, read, text: `${printed.join('\n\n')}\n\n${legend}` };
}
