import { describe, expect, it } from 'vitest';
import { createRedisTraceLookup, traceKey } from './trace-source.ts';

describe('Redis trace lookup (load-test side channel)', () => {
  it('asks again for a trace the simulator had not written yet, and gives up on one that never comes', async () => {
    const store = new Map<string, string>([[traceKey(7001, 1), JSON.stringify({ id: 'a', sentAtMs: 10 })]]);
    const asked: string[][] = [];
    const redis = {
      mget: (...keys: string[]) => {
        asked.push(keys);
        const values = keys.map((k) => store.get(k) ?? null);
        // The trace of record 2 lands just after the first MGET, as when Redis served the driver first.
        if (asked.length === 1) store.set(traceKey(7001, 2), JSON.stringify({ id: 'b', sentAtMs: 20 }));
        return Promise.resolve(values);
      },
    };
    const lookup = createRedisTraceLookup(redis as never, 0, [1, 1]);
    expect(await lookup(7001, [1, 2, 3])).toEqual([{ id: 'a', origin_ms: 10 }, { id: 'b', origin_ms: 20 }, null]);
    expect(asked).toEqual([
      [traceKey(7001, 1), traceKey(7001, 2), traceKey(7001, 3)],
      [traceKey(7001, 2), traceKey(7001, 3)],
      [traceKey(7001, 3)],
    ]);
  });
});
