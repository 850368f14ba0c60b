/**
 * From runs to figures: the median of each measure over the rounds, its
 * ratio to the baseline measured in the same benchmark (today's
 * configuration: kafkajs, idempotent; for reads, the kafkajs consumer), and
 * the printed tables. Medians of per-round figures (percentiles included),
 * never means.
 *
 * Ratios are paired: each round's value over the baseline's in that same
 * round, then the median of those (the box's load drifts between rounds).
 *
 * Two figures are net of what the benchmark itself costs:
 * - client CPU = producer-process CPU − the `harness-only` configuration's
 *   in the same round: the record log loop, the arrival ticks and the
 *   per-record promises are the same for every client;
 * - brokers' net CPU = brokers' CPU in the window − their idle rate measured
 *   just before the run × the window (other users of the shared stack).
 */
import type { ProduceResult, ReadResult } from './jobs.js';
import type { WindowUsage } from './usage.js';

/** What the measures read: a run's result and the brokers' idle rate just before it. */
export interface Sample<R> {
  readonly result: R;
  readonly brokerIdleCores: number | null;
}

export interface Figure {
  /** Median over the rounds (failed or discarded rounds left out). */
  readonly median: number | null;
  /** Every round's value, in round order, for judging the spread. */
  readonly rounds: readonly (number | null)[];
  /**
   * Median over rounds of (value ÷ the baseline's value in the same round):
   * paired, so a round run on a busier box moves both sides of its ratio.
   */
  readonly ratio: number | null;
  /** median ÷ the baseline's median, for comparison. */
  readonly ratioOfMedians: number | null;
}

function median(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

function ratio(value: number | null, baseline: number | null | undefined): number | null {
  if (value === null || baseline === null || baseline === undefined || baseline === 0) return null;
  return value / baseline;
}

const round2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);

/** A figure from per-round values, with ratios to the baseline figure's per-round values (itself when null). */
function figure(rounds: readonly (number | null)[], baseline: readonly (number | null)[] | null): Figure {
  const base = baseline ?? rounds;
  const m = median(rounds);
  return {
    median: m,
    rounds,
    ratio: round2(median(rounds.map((v, i) => ratio(v, base[i])))),
    ratioOfMedians: round2(ratio(m, median(base))),
  };
}

function netBrokerMsPer1000(usage: WindowUsage, records: number, idleCores: number | null): number | null {
  if (usage.brokerCpuMs === null || idleCores === null || records === 0) return null;
  return ((usage.brokerCpuMs - idleCores * usage.wallMs) * 1000) / records;
}

export const PRODUCE_MEASURES = {
  recordsPerSec: (s: Sample<ProduceResult>) => s.result.recordsPerSec,
  p50Ms: (s: Sample<ProduceResult>) => s.result.latencyMs?.p50 ?? null,
  p90Ms: (s: Sample<ProduceResult>) => s.result.latencyMs?.p90 ?? null,
  p99Ms: (s: Sample<ProduceResult>) => s.result.latencyMs?.p99 ?? null,
  maxMs: (s: Sample<ProduceResult>) => s.result.latencyMs?.max ?? null,
  cpuMsPer1000: (s: Sample<ProduceResult>) => s.result.cpuMsPer1000,
  brokerCpuMsPer1000: (s: Sample<ProduceResult>) => s.result.brokerCpuMsPer1000,
  brokerNetCpuMsPer1000: (s: Sample<ProduceResult>) =>
    netBrokerMsPer1000(s.result.usage, s.result.acked, s.brokerIdleCores),
  brokerIdleCores: (s: Sample<ProduceResult>) => s.brokerIdleCores,
  machineBusyCores: (s: Sample<ProduceResult>) => s.result.usage.machineBusyCores,
  meanBatch: (s: Sample<ProduceResult>) => s.result.meanBatch,
  failed: (s: Sample<ProduceResult>) => s.result.failed,
} as const;

export const READ_MEASURES = {
  recordsPerSec: (s: Sample<ReadResult>) => s.result.recordsPerSec,
  steadyRecordsPerSec: (s: Sample<ReadResult>) => s.result.steadyRecordsPerSec,
  startupMs: (s: Sample<ReadResult>) => s.result.startupMs,
  cpuMsPer1000: (s: Sample<ReadResult>) => s.result.cpuMsPer1000,
  brokerCpuMsPer1000: (s: Sample<ReadResult>) => s.result.brokerCpuMsPer1000,
  brokerNetCpuMsPer1000: (s: Sample<ReadResult>) =>
    netBrokerMsPer1000(s.result.usage, s.result.records, s.brokerIdleCores),
  machineBusyCores: (s: Sample<ReadResult>) => s.result.usage.machineBusyCores,
} as const;

export type Summary<K extends string> = { readonly [M in K]: Figure };
export type ProduceSummary = Summary<keyof typeof PRODUCE_MEASURES | 'clientCpuMsPer1000'>;
export type ReadSummary = Summary<keyof typeof READ_MEASURES>;

/** Medians per measure over the rounds (`samples[i]` is round i; null: failed), with ratios to `baseline`. */
export function summarise<R, K extends string>(
  measures: Readonly<Record<K, (s: Sample<R>) => number | null>>,
  samples: readonly (Sample<R> | null)[],
  baseline: Summary<K> | null,
): Summary<K> {
  const out = {} as Record<K, Figure>;
  for (const key of Object.keys(measures) as K[]) {
    const rounds = samples.map((s) => (s === null ? null : measures[key](s)));
    out[key] = figure(rounds, baseline === null ? null : baseline[key].rounds);
  }
  return out;
}

/** Adds client CPU: producer CPU − the harness's in the same round; ratios to the baseline's client CPU. */
export function withClientCpu(
  s: Summary<keyof typeof PRODUCE_MEASURES>,
  harness: Summary<keyof typeof PRODUCE_MEASURES>,
  baseline: ProduceSummary | null,
): ProduceSummary {
  const h = harness.cpuMsPer1000.rounds;
  const rounds = s.cpuMsPer1000.rounds.map((cpu, i) => {
    const own = h[i] ?? null;
    return cpu === null || own === null ? null : cpu - own;
  });
  return {
    ...s,
    clientCpuMsPer1000: figure(rounds, baseline === null ? null : baseline.clientCpuMsPer1000.rounds),
  };
}

const num = (v: number | null, digits = 0): string =>
  v === null
    ? '—'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const times = (v: number | null): string => (v === null ? '' : `×${v.toFixed(2)}`);

/** One aligned text table: header row, then rows; the first column left-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function produceHeader(withLatency: boolean): string[] {
  const h = ['configuration', 'records/s', ''];
  if (withLatency) h.push('p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99');
  h.push('cpu ms/1k', 'client ms/1k', '', 'brokers ms/1k', 'net', '', 'batch', 'failed');
  return h;
}

export function produceRow(name: string, s: ProduceSummary, withLatency: boolean): string[] {
  const cells = [name, num(s.recordsPerSec.median), times(s.recordsPerSec.ratio)];
  if (withLatency) {
    for (const k of ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const) cells.push(num(s[k].median, 1));
    cells.push(times(s.p99Ms.ratio));
  }
  cells.push(
    num(s.cpuMsPer1000.median, 1),
    num(s.clientCpuMsPer1000.median, 1),
    times(s.clientCpuMsPer1000.ratio),
    num(s.brokerCpuMsPer1000.median, 0),
    num(s.brokerNetCpuMsPer1000.median, 0),
    times(s.brokerNetCpuMsPer1000.ratio),
    num(s.meanBatch.median, 0),
    num(s.failed.median, 0),
  );
  return cells;
}

export const READ_HEADER = [
  'reader',
  'records/s',
  '',
  'first→last rec/s',
  'start-up ms',
  'cpu ms/1k',
  '',
  'brokers ms/1k',
  'net',
];

export function readRow(name: string, s: ReadSummary): string[] {
  return [
    name,
    num(s.recordsPerSec.median),
    times(s.recordsPerSec.ratio),
    num(s.steadyRecordsPerSec.median),
    num(s.startupMs.median),
    num(s.cpuMsPer1000.median, 1),
    times(s.cpuMsPer1000.ratio),
    num(s.brokerCpuMsPer1000.median, 1),
    num(s.brokerNetCpuMsPer1000.median, 1),
  ];
}
