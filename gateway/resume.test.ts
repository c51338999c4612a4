import { describe, expect, it } from 'vitest';
import type { Recorded } from './messages.ts';
import { contiguousFrom, planResume } from './resume.ts';

const stream = { epoch: 'e2', head: 100 };
const rec = (...positions: number[]): Recorded[] => positions.map((position) => ({ position, msg: null }));

describe('resume planning', () => {
  it('a client without epoch/position gets a snapshot; a changed epoch too', () => {
    expect(planResume({}, stream, 1000)).toEqual({ kind: 'resync', reason: 'fresh' });
    expect(planResume({ epoch: 'e1', position: 99 }, stream, 1000)).toEqual({ kind: 'resync', reason: 'epoch' });
  });
  it('a client at or beyond the head just continues live', () => {
    expect(planResume({ epoch: 'e2', position: 100 }, stream, 1000)).toEqual({ kind: 'live' });
    expect(planResume({ epoch: 'e2', position: 150 }, stream, 1000)).toEqual({ kind: 'live' });
  });
  it('a client behind gets the positions it missed, unless the gap is larger than allowed', () => {
    expect(planResume({ epoch: 'e2', position: 40 }, stream, 1000)).toEqual({ kind: 'replay', after: 40, to: 100 });
    expect(planResume({ epoch: 'e2', position: 40 }, stream, 59)).toEqual({ kind: 'resync', reason: 'gap' });
    expect(planResume({ epoch: 'e2', position: -1 }, { epoch: 'e2', head: 3 }, 10)).toEqual({ kind: 'replay', after: -1, to: 3 });
  });
});

describe('contiguous recorded positions', () => {
  it('returns positions after the cursor in order, once each, reaching the target', () => {
    expect(contiguousFrom(rec(5, 3, 4, 4, 6, 2), 2, 5)?.map((r) => r.position)).toEqual([3, 4, 5, 6]);
  });
  it('is null when the first missed position is no longer there (buffer trimmed)', () => {
    expect(contiguousFrom(rec(5, 6, 7), 2, 7)).toBeNull();
  });
  it('is null when a position in the middle is missing (not recorded is not "nothing happened")', () => {
    expect(contiguousFrom(rec(3, 4, 6, 7), 2, 7)).toBeNull();
  });
  it('is null when the records stop before the target', () => {
    expect(contiguousFrom(rec(3, 4), 2, 5)).toBeNull();
  });
  it('nothing to catch up is an empty success', () => {
    expect(contiguousFrom([], 5, 5)).toEqual([]);
  });
});
