import { describe, expect, it } from 'vitest';
import { createReadPacer } from './read-pacer.ts';

const deferred = () => {
  let resolve!: (v: string) => void;
  const promise = new Promise<string>((r) => { resolve = r; });
  return { promise, resolve };
};

describe('read pacer', () => {
  it('runs at most `concurrency` reads at once; the rest wait their turn', async () => {
    const pacer = createReadPacer(2);
    let running = 0;
    let most = 0;
    const reads = Array.from({ length: 20 }, (_, i) => pacer.run('history', async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return i;
    }));
    expect(pacer.waiting).toBeGreaterThan(0);
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(2);
  });

  it('callers of a queued read share it; a read already running is not joined', async () => {
    const pacer = createReadPacer(1);
    const blocker = deferred();
    let started!: () => void;
    const running = new Promise<void>((r) => { started = r; });
    const first = pacer.shared('snapshot', 'k', () => { started(); return blocker.promise; });
    await running;
    let reads = 0;
    const read = () => { reads++; return Promise.resolve(`read ${reads}`); };
    const a = pacer.shared('snapshot', 'k', read); // queued: a new read
    const b = pacer.shared('snapshot', 'k', read); // joins a
    const c = pacer.shared('snapshot', 'other', read); // another key: its own read
    blocker.resolve('first');
    expect(await Promise.all([first, a, b, c])).toEqual(['first', 'read 1', 'read 1', 'read 2']);
    expect(reads).toBe(2);
  });

  it('a failed read fails its callers only; the next caller reads again', async () => {
    const pacer = createReadPacer(1);
    await expect(pacer.shared('snapshot', 'k', () => Promise.reject(new Error('db gone')))).rejects.toThrow('db gone');
    expect(await pacer.shared('snapshot', 'k', () => Promise.resolve('fresh'))).toBe('fresh');
  });
});
