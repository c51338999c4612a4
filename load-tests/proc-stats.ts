import { readFileSync } from 'node:fs';

/** CPU seconds (user+system) and RSS of a process, from /proc (Linux). */
export function procStats(pid: number): { cpuSeconds: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMB: rssKb / 1024 };
}

/** Quantile upper bounds from a Prometheus histogram's cumulative buckets (text format). */
export function histogramQuantile(metricsText: string, name: string, q: number): number | undefined {
  const buckets: { le: number; count: number }[] = [];
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+(?:\\.\\d+)?)`, 'gm');
  for (const m of metricsText.matchAll(re)) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  const total = buckets.find((b) => b.le === Infinity)?.count ?? 0;
  if (total === 0) return undefined;
  return buckets.sort((a, b) => a.le - b.le).find((b) => b.count >= q * total)?.le;
}

export function metricValue(metricsText: string, name: string): number {
  let sum = 0;
  for (const m of metricsText.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)`, 'gm'))) sum += Number(m[1]);
  return sum;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
