/**
 * How each fault hurt and how fast service came back, from the per-second
 * series (all kinds of ok answers):
 *
 *   baseline   median ok/s over the 10 s before the fault started
 *   recovered  first second, from the heal on, with ok/s ≥ 80 % of baseline
 *   recoverySec = recovered − heal start;  degradedSec = seconds from the start
 *   until recovered with ok/s < 50 % of baseline;  answers refused / unknown
 *   in [start, recovered]
 *
 * null when the baseline is too small to judge (e.g. inside another fault)
 * or service never came back before the series ended.
 */
import type { FaultRecord } from './nemesis.js';
import type { ChaosSecond } from './series.js';

export interface Recovery {
  readonly baselineOkPerSec: number | null;
  readonly recoverySec: number | null;
  readonly degradedSec: number | null;
  readonly refused: number;
  readonly unknown: number;
}

const BASELINE_SEC = 10;
const MIN_BASELINE = 5;

const okOf = (s: ChaosSecond): number => s.castOk + s.issueOk + s.loginOk;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

export function recoveryOf(fault: FaultRecord, series: readonly ChaosSecond[]): Recovery | null {
  if (fault.startSec === null) return null;
  const start = Math.floor(fault.startSec);
  const heal = Math.floor(fault.healSec ?? fault.endSec ?? fault.startSec);
  const before = series.slice(Math.max(0, start - BASELINE_SEC), start).map(okOf);
  const baseline = median(before);
  let recovered: number | null = null;
  if (baseline >= MIN_BASELINE) {
    for (let t = heal; t < series.length; t++) {
      if (okOf(series[t]!) >= 0.8 * baseline) {
        recovered = t;
        break;
      }
    }
  }
  const until = recovered ?? Math.min(series.length - 1, Math.ceil(fault.endSec ?? heal));
  let refused = 0;
  let unknown = 0;
  let degraded = 0;
  for (let t = start; t <= until && t < series.length; t++) {
    const s = series[t]!;
    refused += s.refused;
    unknown += s.unknown;
    if (baseline >= MIN_BASELINE && okOf(s) < 0.5 * baseline) degraded++;
  }
  return {
    baselineOkPerSec: baseline >= MIN_BASELINE ? baseline : null,
    recoverySec: recovered === null ? null : recovered - heal,
    degradedSec: baseline >= MIN_BASELINE ? degraded : null,
    refused,
    unknown,
  };
}
