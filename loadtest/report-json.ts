/**
 * The JSON report: one object per run, thresholds and verdict first.
 * `docs/reports/<scenario>.json` is the figure of record when committed;
 * every run also writes `test-output/loadtest/runs/<runId>/report.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Percentiles } from './histogram.js';
import type { Second } from './timeline.js';
import type { HttpCounts } from './workers/protocol.js';

export interface Threshold {
  readonly name: string;
  /** The rule, for a person: "< 250 ms", "= 0". */
  readonly limit: string;
  readonly value: number | string;
  readonly pass: boolean;
}

export interface StepReport {
  readonly name: string;
  readonly targetRate: number;
  readonly durationSec: number;
  /** 2xx per second over the step's arrival window. */
  readonly goodput: number;
  readonly counts: HttpCounts;
  readonly latencyMs: Percentiles;
  readonly overloadedLatencyMs: Percentiles;
  readonly sendLagMs: Percentiles;
  readonly statuses: Record<string, number>;
  readonly sampleErrors: readonly string[];
  pass: boolean | null;
}

export interface Report {
  readonly scenario: string;
  readonly verdict: 'pass' | 'fail';
  readonly thresholds: readonly Threshold[];
  readonly runId: string;
  readonly takenAt: string;
  readonly durationSec: number;
  readonly machine: {
    readonly cpus: number;
    readonly model: string | null;
    readonly memGiB: number;
    readonly node: string;
    readonly openFilesLimit: number | null;
  };
  readonly setup: Record<string, unknown>;
  readonly summary: Record<string, unknown>;
  readonly steps: readonly StepReport[];
  readonly baselines: Record<string, unknown> | null;
  readonly ratios: Record<string, number | null>;
  readonly correctness: Record<string, unknown> | null;
  readonly generator: {
    readonly cpuPctOfMachine: number;
    readonly cpuPctOfOneCore: number;
    readonly bottleneck: boolean;
    readonly warning: string | null;
  };
  readonly notes: readonly string[];
  readonly timeline: readonly Second[];
}

export function machineInfo(openFilesLimit: number | null): Report['machine'] {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? null,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    openFilesLimit,
  };
}

export function writeJson(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 1)}\n`);
}
