/**
 * Per-second series for the reports: worker ticks are summed into the
 * second they arrive in (latency histograms merged, not averaged), and the
 * runner's own sampler adds CPU, memory and session figures.
 */
import { createHistogram, decodeHistogram, type Histogram } from './histogram.js';
import type { HttpTick, SessionTick } from './workers/protocol.js';

export interface Second {
  /** Seconds since the run started. */
  t: number;
  phase: string;
  offered: number;
  ok: number;
  overloaded: number;
  failed: number;
  p50: number | null;
  p99: number | null;
  sessions: number | null;
  machineCpuPct: number | null;
  ingestCpuPct: number | null;
  generatorCpuPct: number | null;
  ingestRssMb: number | null;
}

interface Bucket {
  second: Second;
  hist: Histogram | null;
}

export class Timeline {
  private readonly buckets: Bucket[] = [];
  /** Last open-session count reported by each session worker. */
  private readonly sessionWorkers = new Map<number, number>();
  readonly startedAt = Date.now();

  private at(t = Math.floor((Date.now() - this.startedAt) / 1000)): Bucket {
    for (let i = this.buckets.length; i <= t; i++) {
      this.buckets.push({
        second: {
          t: i,
          phase: '',
          offered: 0,
          ok: 0,
          overloaded: 0,
          failed: 0,
          p50: null,
          p99: null,
          sessions: null,
          machineCpuPct: null,
          ingestCpuPct: null,
          generatorCpuPct: null,
          ingestRssMb: null,
        },
        hist: null,
      });
    }
    return this.buckets[t]!;
  }

  get now(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  addHttp(tick: HttpTick): void {
    const b = this.at();
    const s = b.second;
    s.phase = tick.phase;
    s.offered += tick.counts.offered;
    s.ok += tick.counts.ok;
    s.overloaded += tick.counts.overloaded;
    s.failed += tick.counts.otherStatus + tick.counts.errors + tick.counts.timeouts + tick.counts.starved;
    if (tick.counts.ok > 0) {
      b.hist ??= createHistogram();
      b.hist.add(decodeHistogram(tick.okHistogram));
    }
  }

  addSessions(tick: SessionTick): void {
    this.sessionWorkers.set(tick.worker, tick.open);
    this.at().second.sessions = this.openSessions;
  }

  get openSessions(): number {
    let total = 0;
    for (const v of this.sessionWorkers.values()) total += v;
    return total;
  }

  sample(
    values: Partial<Pick<Second, 'machineCpuPct' | 'ingestCpuPct' | 'generatorCpuPct' | 'ingestRssMb'>>,
  ): void {
    Object.assign(this.at().second, values);
  }

  /** The finished series, percentiles computed (ms). */
  seconds(): Second[] {
    return this.buckets.map((b) => {
      const s = { ...b.second };
      if (b.hist !== null && b.hist.totalCount > 0) {
        s.p50 = Math.round(b.hist.getValueAtPercentile(50)) / 1000;
        s.p99 = Math.round(b.hist.getValueAtPercentile(99)) / 1000;
      }
      return s;
    });
  }
}
