import { describe, expect, it } from 'vitest';
import { histogramQuantile, metricValue, parseMetrics, sumBuckets } from './prom-text.ts';

const text = `# HELP x_seconds demo
x_seconds_bucket{le="0.1",topic="a"} 50
x_seconds_bucket{le="0.2",topic="a"} 90
x_seconds_bucket{le="+Inf",topic="a"} 100
x_seconds_bucket{le="0.1",topic="b"} 0
x_seconds_bucket{le="0.2",topic="b"} 0
x_seconds_bucket{le="+Inf",topic="b"} 0
frames_total{direction="in"} 7
frames_total{direction="out"} 5
`;

describe('reading /metrics in benchmarks', () => {
  it('sums series by label and reads histogram buckets', () => {
    const m = parseMetrics(text);
    expect(metricValue(m, 'frames_total')).toBe(12);
    expect(metricValue(m, 'frames_total', { direction: 'in' })).toBe(7);
    expect(sumBuckets(m, 'x_seconds', { topic: 'a' })).toEqual([{ le: 0.1, count: 50 }, { le: 0.2, count: 90 }, { le: Infinity, count: 100 }]);
  });
  it('interpolates quantiles within a bucket, as histogram_quantile does', () => {
    const b = sumBuckets(parseMetrics(text), 'x_seconds', { topic: 'a' });
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(b, 0.7)).toBeCloseTo(0.15);
    expect(histogramQuantile(b, 0.99)).toBe(0.2);
    expect(histogramQuantile([], 0.5)).toBeNaN();
  });
});
