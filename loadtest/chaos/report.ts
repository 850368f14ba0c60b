/**
 * The chaos report: one JSON object per run, verdicts first, then what was
 * done to the system (faults, operator actions) and what it answered, then
 * the per-second series. `docs/reports/chaos.json` is the figure of record
 * when committed (`--record`); every run also writes its run directory's
 * `report.json` and `report.html`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Report } from '../report-json.js';
import type { Attribution } from './check/attribution.js';
import type { Verdict } from './check/verdicts.js';
import type { FaultRecord, OperatorAction } from './nemesis.js';
import type { ChaosOptions } from './options.js';
import type { Recovery } from './recovery.js';
import type { ChaosSecond } from './series.js';
import { emptyOutcomeCounts, type OutcomeCounts, type VoterSummary } from './voters/protocol.js';

export interface FaultReport extends FaultRecord {
  readonly recovery: Recovery | null;
}

export interface ChaosReport {
  readonly scenario: 'chaos' | 'chaos-short';
  readonly verdict: 'pass' | 'fail';
  readonly verdicts: readonly Verdict[];
  readonly runId: string;
  readonly seed: number;
  readonly takenAt: string;
  readonly durationSec: number;
  readonly machine: Report['machine'];
  readonly options: ChaosOptions;
  readonly setup: Record<string, unknown>;
  readonly voters: Omit<VoterSummary, 'codes' | 'outcomes'> | null;
  /** Answers by request kind and outcome. */
  readonly outcomes: OutcomeCounts;
  /** Answers by `<kind> <status> <code>`. */
  readonly answers: Record<string, number>;
  readonly faults: readonly FaultReport[];
  readonly operatorActions: readonly OperatorAction[];
  /** Violations (their first listed ids) by the faults overlapping each one's window (`check/attribution.ts`). */
  readonly attribution: Attribution;
  readonly observed: Record<string, unknown>;
  readonly generator: { readonly cpuPctOfMachine: number };
  readonly notes: readonly string[];
  readonly timeline: readonly ChaosSecond[];
}

/** Adds up the voter processes' summaries. */
export function mergeSummaries(summaries: readonly VoterSummary[]): {
  voters: Omit<VoterSummary, 'codes' | 'outcomes'> | null;
  outcomes: OutcomeCounts;
  answers: Record<string, number>;
} {
  const outcomes = emptyOutcomeCounts();
  const answers: Record<string, number> = {};
  if (summaries.length === 0) return { voters: null, outcomes, answers };
  const voters: Record<string, number> = {};
  for (const s of summaries) {
    const { codes, outcomes: o, ...counts } = s;
    for (const [k, v] of Object.entries(counts)) voters[k] = (voters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(codes)) answers[k] = (answers[k] ?? 0) + v;
    for (const kind of ['login', 'issue', 'cast'] as const) {
      for (const outcome of ['ok', 'refused', 'unknown'] as const)
        outcomes[kind][outcome] += o[kind][outcome];
    }
  }
  return { voters: voters as unknown as Omit<VoterSummary, 'codes' | 'outcomes'>, outcomes, answers };
}

export function writeChaosJson(path: string, report: ChaosReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 1)}\n`);
}

/** Verdicts first, then the faults, as one block of text for the terminal. */
export function printChaosVerdict(r: ChaosReport, write: (text: string) => void): void {
  const lines = [
    `\n== chaos${r.options.short ? ' --short' : ''}: ${r.verdict.toUpperCase()} (run ${r.runId}, seed ${r.seed}) ==`,
  ];
  for (const v of r.verdicts) {
    const sets = Object.entries(v.sets)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(`  ${v.pass ? 'ok  ' : 'FAIL'}  ${v.id.padEnd(3)} ${v.name}`);
    lines.push(`        sets: ${sets}`);
    for (const [k, list] of Object.entries(v.violations)) {
      lines.push(`        ${k}: ${list.count}  e.g. ${list.ids.slice(0, 3).join('  ')}`);
    }
    for (const n of v.notes) lines.push(`        note: ${n}`);
  }
  const o = r.outcomes;
  lines.push(
    `  answers: cast ok ${o.cast.ok} refused ${o.cast.refused} unknown ${o.cast.unknown}; ` +
      `issue ok ${o.issue.ok} refused ${o.issue.refused} unknown ${o.issue.unknown}; ` +
      `login ok ${o.login.ok} refused ${o.login.refused} unknown ${o.login.unknown}`,
  );
  for (const f of r.faults) {
    const when =
      f.startSec === null
        ? (f.skipped ?? f.error ?? 'not run')
        : `${f.startSec}–${f.endSec ?? '?'} s, heal ${f.healMs ?? '?'} ms`;
    const rec = f.recovery?.recoverySec;
    lines.push(
      `  fault ${String(f.n).padStart(2)} ${f.kind.padEnd(22)} ${when}${rec === undefined || rec === null ? '' : `, service back ${rec} s after heal`}${f.error === null ? '' : `  ERROR ${f.error}`}`,
    );
  }
  for (const a of r.operatorActions) lines.push(`  operator at ${a.atSec} s (fault ${a.fault}): ${a.action}`);
  for (const [list, byFault] of Object.entries(r.attribution)) {
    const parts = Object.entries(byFault)
      .sort((a, b) => b[1] - a[1])
      .map(([f, n]) => `${f} ×${n}`);
    lines.push(`  ${list} under: ${parts.join(', ')}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  write(`${lines.join('\n')}\n`);
}
