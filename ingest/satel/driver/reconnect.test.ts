import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './reconnect.ts';

describe('reconnect backoff', () => {
  it('doubles from 1 s to 16 s and stays at 30 s', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((a) => reconnectDelayMs(a, middle))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('spreads each step by ±25 % so 500 panels that lost the network together do not reconnect in step', () => {
    expect(reconnectDelayMs(0, () => 0)).toBe(750);
    expect(reconnectDelayMs(0, () => 1)).toBe(1250);
    expect(reconnectDelayMs(5, () => 0)).toBe(22_500);
    expect(reconnectDelayMs(5, () => 1)).toBe(37_500);
    const spread = new Set(Array.from({ length: 50 }, () => reconnectDelayMs(3)));
    expect(spread.size).toBeGreaterThan(10);
    for (const d of spread) {
      expect(d).toBeGreaterThanOrEqual(6000);
      expect(d).toBeLessThanOrEqual(10000);
    }
  });
});
