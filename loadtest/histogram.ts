/**
 * Latency histograms: HdrHistogram (hdr-histogram-js), microseconds, 3
 * significant digits, 1 µs … 120 s. Workers record into their own
 * histograms and ship them to the runner as compressed base64 (the standard
 * HdrHistogram encoding), where they are merged by adding counts — exact, unlike
 * averaging per-worker percentiles.
 *
 * Only percentiles leave this module: p50/p90/p95/p99/p99.9 and max, in ms.
 * Never mean ± stddev: latency is not normally distributed.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** 120 s in µs: anything slower is a timeout anyway. */
const HIGHEST_US = 120_000_000;

export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a latency given in milliseconds (fractional). */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Sums encoded histograms from several workers into one. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const total = createHistogram();
  for (const e of encoded) {
    if (e !== '') total.add(decodeHistogram(e));
  }
  return total;
}

/** The percentiles every report shows, in milliseconds. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

export function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

export function formatPercentiles(p: Percentiles): string {
  return `p50 ${p.p50} ms  p90 ${p.p90}  p95 ${p.p95}  p99 ${p.p99}  p99.9 ${p.p999}  max ${p.max}  (n=${p.count})`;
}
