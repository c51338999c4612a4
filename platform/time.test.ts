import { describe, expect, it } from 'vitest';
import { backoffMs, tokenBucket } from './time.ts';

describe('backoff', () => {
  it('doubles from the base up to the cap, a random 50–100 % of each step unless told otherwise', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 200, 5_000, () => 1))).toEqual([200, 400, 800, 1600, 5000]);
    expect(backoffMs(3, 200, 5_000, () => 0)).toBe(800);
    expect([0, 4, 5, 9].map((a) => backoffMs(a, 1_000, 30_000, Math.random, 'none'))).toEqual([1000, 16000, 30000, 30000]);
    expect([backoffMs(1, 1_000, 30_000, () => 0, 'around'), backoffMs(1, 1_000, 30_000, () => 1, 'around')]).toEqual([1500, 2500]);
  });
});

describe('token bucket', () => {
  it('allows a second\'s worth at once, then refills at the rate, never beyond one second\'s worth', () => {
    let t = 0;
    const take = tokenBucket(10, () => t);
    expect(Array.from({ length: 12 }, take).filter(Boolean)).toHaveLength(10);
    t = 250; // a quarter second refills 2.5 tokens
    expect(Array.from({ length: 5 }, take).filter(Boolean)).toHaveLength(2);
    t = 60_000;
    expect(Array.from({ length: 30 }, take).filter(Boolean)).toHaveLength(10);
  });
});
