import { describe, expect, it } from 'vitest';
import type { Redis } from '../platform/index.ts';
import { createTraceMirror } from './satel-trace-mirror.ts';

describe('simulator-side trace mirror for the Satel driver', () => {
  it('writes the trace of a generated record under satel:trace:{port}:{log index} with a TTL, and skips untraced ones', async () => {
    const writes: unknown[][] = [];
    const redis = { set: (...a: unknown[]) => { writes.push(a); return Promise.resolve('OK'); } } as unknown as Redis;
    const mirror = createTraceMirror(redis, { ttlMs: 1000 });
    mirror.setPorts([17094, 17095]);
    const record = { index: 4711 } as never;
    mirror.onEvent(2, record, { id: 'trace-1', sentAtMs: 123 });
    mirror.onEvent(1, record, undefined);
    await Promise.resolve();
    expect(writes).toEqual([['satel:trace:17095:4711', JSON.stringify({ id: 'trace-1', sentAtMs: 123 }), 'PX', 1000]]);
    expect(mirror.mirrored).toBe(1);
  });
});
