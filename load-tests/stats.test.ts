import { describe, expect, it } from 'vitest';
import { countPerBucket, histogram, niceEdges, percentile, percentilesPerBucket, summarize } from './stats.ts';

describe('percentile (nearest rank)', () => {
  it('p50 of 1..100 is 50, p99 is 99, p100 is the max', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 95), percentile(v, 99), percentile(v, 100)]).toEqual([50, 95, 99, 100]);
  });
  it('of one value is that value at any p, and NaN for none', () => {
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts a copy and rounds to 0.1 ms', () => {
    const input = [30, 10, 20.04, 40];
    expect(summarize(input)).toEqual({ count: 4, min: 10, mean: 25, p50: 20, p95: 40, p99: 40, max: 40 });
    expect(input).toEqual([30, 10, 20.04, 40]);
  });
  it('is null for no values', () => {
    expect(summarize([])).toBeNull();
  });
  it('handles more values than a function call can take as arguments', () => {
    const v = Array.from({ length: 300_000 }, (_, i) => i);
    expect(summarize(v)?.max).toBe(299_999);
    expect(histogram(v).reduce((n, b) => n + b.count, 0)).toBe(300_000);
  });
});

describe('histogram', () => {
  it('uses 1-2-5 edges up to the maximum and puts every value in exactly one bin', () => {
    expect(niceEdges(700)).toEqual([0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    const bins = histogram([0, 0.5, 1, 3, 9, 10, 999]);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(7);
    expect(bins.find((b) => b.from === 0)?.count).toBe(2);
    expect(bins.find((b) => b.from === 2)?.count).toBe(1);
    expect(bins.find((b) => b.from === 500)?.count).toBe(1);
  });
});

describe('time buckets', () => {
  it('counts per second from the start and ignores what falls outside', () => {
    expect(countPerBucket([999, 1_000, 1_500, 2_000, 4_000], 1_000, 1_000, 3)).toEqual([2, 1, 0]);
  });
  it('gives latency percentiles per bucket, null where empty', () => {
    const pts = [{ t: 0, v: 10 }, { t: 10, v: 30 }, { t: 20, v: 20 }, { t: 2_500, v: 5 }];
    expect(percentilesPerBucket(pts, 0, 1_000, 3)).toEqual([{ p50: 20, p99: 30, max: 30 }, null, { p50: 5, p99: 5, max: 5 }]);
  });
});
