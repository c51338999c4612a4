import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** One registry per process, served at /metrics by every role. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'stam_' });

const made = new Map<string, Counter | Gauge | Histogram>();

function once<T extends Counter | Gauge | Histogram>(name: string, make: () => T): T {
  const existing = made.get(name);
  if (existing) return existing as T;
  const m = make();
  made.set(name, m);
  return m;
}

export function counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return once(name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
}

export function gauge<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return once(name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }));
}

/** A gauge whose value is computed when /metrics is scraped. */
export function sampledGauge(name: string, help: string, sample: () => number): Gauge {
  return once(name, () => new Gauge({ name, help, registers: [registry], collect() { this.set(sample()); } }));
}

export function histogram<L extends string = string>(
  name: string, help: string, labelNames: readonly L[] = [],
  buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
): Histogram<L> {
  return once(name, () => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] }));
}
