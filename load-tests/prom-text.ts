/** Just enough of the Prometheus text format to read a role's /metrics in benchmarks. */
export interface Sample { name: string; labels: Record<string, string>; value: number }
export type Metrics = Sample[];

export function parseMetrics(text: string): Metrics {
  const out: Metrics = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const matches = (s: Sample, labels: Record<string, string> = {}): boolean => Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** Sum of every series of `name` that carries the given labels. */
export function metricValue(m: Metrics, name: string, labels?: Record<string, string>): number {
  return m.filter((s) => s.name === name && matches(s, labels)).reduce((a, s) => a + s.value, 0);
}

/** Cumulative bucket counts of a histogram (summed over series with the given labels), by ascending le. */
export function sumBuckets(m: Metrics, name: string, labels?: Record<string, string>): { le: number; count: number }[] {
  const byLe = new Map<number, number>();
  for (const s of m) {
    if (s.name !== `${name}_bucket` || !matches(s, labels)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

/** Like PromQL histogram_quantile: linear within the bucket the quantile falls in. NaN without observations. */
export function histogramQuantile(buckets: { le: number; count: number }[], q: number): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / Math.max(1, b.count - prevCount));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
