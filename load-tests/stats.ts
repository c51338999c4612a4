/**
 * Pure statistics for load reports: nearest-rank percentiles, latency histograms on a log scale, and
 * per-second time series. No I/O; the accounting and the report builder use these.
 */

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN for an empty array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** count/min/mean/p50/p95/p99/max of the values, or null when there are none. */
export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const arr = Array.from(sorted);
  return {
    count: arr.length,
    min: round(arr[0]!),
    mean: round(sum / arr.length),
    p50: round(percentile(arr, 50)),
    p95: round(percentile(arr, 95)),
    p99: round(percentile(arr, 99)),
    max: round(arr[arr.length - 1]!),
  };
}

export interface HistogramBin {
  /** Lower bound (inclusive), ms. */
  from: number;
  /** Upper bound (exclusive), ms; Infinity for the last bin. */
  to: number;
  count: number;
}

/** 1, 2, 5, 10, 20, 50 … up to the first edge ≥ max: readable bin edges for latencies in ms. */
export function niceEdges(max: number): number[] {
  const edges = [0];
  for (let decade = 1; ; decade *= 10) {
    for (const m of [1, 2, 5]) {
      edges.push(m * decade);
      if (m * decade >= max) return edges;
    }
  }
}

export function maxOf(values: Iterable<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}

export function histogram(values: readonly number[], edges: readonly number[] = niceEdges(Math.max(1, maxOf(values)))): HistogramBin[] {
  const bins: HistogramBin[] = edges.map((from, i) => ({ from, to: edges[i + 1] ?? Number.POSITIVE_INFINITY, count: 0 }));
  for (const v of values) {
    // Few bins: a linear scan from the top is fast enough and obviously right.
    for (let i = bins.length - 1; i >= 0; i--) {
      if (v >= bins[i]!.from) { bins[i]!.count++; break; }
    }
  }
  return bins;
}

/** Counts of timestamps per `bucketMs` from `startMs`; index i covers [start + i·bucket, start + (i+1)·bucket). */
export function countPerBucket(timesMs: Iterable<number>, startMs: number, bucketMs: number, buckets: number): number[] {
  const out = new Array<number>(buckets).fill(0);
  for (const t of timesMs) {
    const i = Math.floor((t - startMs) / bucketMs);
    if (i >= 0 && i < buckets) out[i]!++;
  }
  return out;
}

/** Per-bucket p50/p99/max of (time, value) points; null where a bucket has none. */
export function percentilesPerBucket(points: Iterable<{ t: number; v: number }>, startMs: number, bucketMs: number, buckets: number): Array<{ p50: number; p99: number; max: number } | null> {
  const lists: number[][] = Array.from({ length: buckets }, () => []);
  for (const { t, v } of points) {
    const i = Math.floor((t - startMs) / bucketMs);
    if (i >= 0 && i < buckets) lists[i]!.push(v);
  }
  return lists.map((l) => {
    if (l.length === 0) return null;
    l.sort((a, b) => a - b);
    return { p50: percentile(l, 50), p99: percentile(l, 99), max: l[l.length - 1]! };
  });
}
