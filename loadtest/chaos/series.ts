/**
 * The run's per-second series: voter ticks summed into the second they
 * arrive in (ok latencies merged as histograms, never averaged), plus the
 * harness's CPU samples. Second 0 is the run's t0, the clock the history and
 * the fault log use too, so faults can be drawn under the series.
 */
import { createHistogram, decodeHistogram, type Histogram } from '../histogram.js';
import type { VoterWorkerMessage } from './voters/protocol.js';

type Tick = Extract<VoterWorkerMessage, { type: 'tick' }>;

export interface ChaosSecond {
  t: number;
  /** Voters who arrived (started their flow). */
  arrivals: number;
  castOk: number;
  issueOk: number;
  loginOk: number;
  /** Answers of every kind that were a definite no, and whose outcome is unknown. */
  refused: number;
  unknown: number;
  castP50: number | null;
  castP99: number | null;
  issueP99: number | null;
  /** Voters in the middle of their flow (waiting, retrying, or later attempts pending). */
  active: number | null;
  machineCpuPct: number | null;
  ingestCpuPct: number | null;
  generatorCpuPct: number | null;
}

interface Bucket {
  second: ChaosSecond;
  cast: Histogram | null;
  issue: Histogram | null;
}

export class ChaosSeries {
  private readonly buckets: Bucket[] = [];
  private readonly activeByWorker = new Map<number, number>();

  constructor(readonly t0: number) {}

  private at(t = Math.max(0, Math.floor((Date.now() - this.t0) / 1000))): Bucket {
    for (let i = this.buckets.length; i <= t; i++) {
      this.buckets.push({
        second: {
          t: i,
          arrivals: 0,
          castOk: 0,
          issueOk: 0,
          loginOk: 0,
          refused: 0,
          unknown: 0,
          castP50: null,
          castP99: null,
          issueP99: null,
          active: null,
          machineCpuPct: null,
          ingestCpuPct: null,
          generatorCpuPct: null,
        },
        cast: null,
        issue: null,
      });
    }
    return this.buckets[t]!;
  }

  addTick(tick: Tick): void {
    const b = this.at();
    const s = b.second;
    s.arrivals += tick.arrivals;
    s.castOk += tick.counts.cast.ok;
    s.issueOk += tick.counts.issue.ok;
    s.loginOk += tick.counts.login.ok;
    for (const kind of ['login', 'issue', 'cast'] as const) {
      s.refused += tick.counts[kind].refused;
      s.unknown += tick.counts[kind].unknown;
    }
    if (tick.castHistogram !== '') {
      b.cast ??= createHistogram();
      b.cast.add(decodeHistogram(tick.castHistogram));
    }
    if (tick.issueHistogram !== '') {
      b.issue ??= createHistogram();
      b.issue.add(decodeHistogram(tick.issueHistogram));
    }
    this.activeByWorker.set(tick.worker, tick.active);
    let active = 0;
    for (const v of this.activeByWorker.values()) active += v;
    s.active = active;
  }

  sample(values: Partial<Pick<ChaosSecond, 'machineCpuPct' | 'ingestCpuPct' | 'generatorCpuPct'>>): void {
    Object.assign(this.at().second, values);
  }

  /** The finished series, percentiles in ms. */
  seconds(): ChaosSecond[] {
    const ms = (h: Histogram, p: number): number => Math.round(h.getValueAtPercentile(p)) / 1000;
    return this.buckets.map((b) => {
      const s = { ...b.second };
      if (b.cast !== null && b.cast.totalCount > 0) {
        s.castP50 = ms(b.cast, 50);
        s.castP99 = ms(b.cast, 99);
      }
      if (b.issue !== null && b.issue.totalCount > 0) s.issueP99 = ms(b.issue, 99);
      return s;
    });
  }
}
