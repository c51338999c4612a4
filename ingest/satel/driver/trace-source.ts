import type { Redis } from '../../../platform/index.ts';
import type { Trace } from '../../../schemas/index.ts';

/**
 * Load-test side channel (SATEL_TRACE_SOURCE=redis, off by default): the panel protocol has no room for a
 * trace id, so the simulator's onEvent hook mirrors `(panel port, log index) → {id, sentAtMs}` into Redis
 * (load-tests/satel-trace-mirror.ts writes exactly this key) and the driver looks the records it read up
 * there, so an event carries the trace of the stimulus that caused it from panel to operator screen.
 * A record without a mirrored trace (a real panel, or nothing generated) simply has none.
 */
export const traceKey = (port: number, logIndex: number): string => `satel:trace:${port}:${logIndex}`;

type TraceLookup = (port: number, logIndices: readonly number[]) => Promise<(Trace | null)[]>;

/** Lookups of all panels within `lingerMs` go to Redis as one MGET; traces not there yet are asked again after each of `retryDelaysMs`. */
export function createRedisTraceLookup(redis: Pick<Redis, 'mget'>, lingerMs = 5, retryDelaysMs: readonly number[] = [20, 100, 250]): TraceLookup {
  let queue: { keys: string[]; resolve: (v: (Trace | null)[]) => void; reject: (e: Error) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;

  const parse = (v: string | null): Trace | null => {
    if (v === null) return null;
    try {
      const t = JSON.parse(v) as { id?: unknown; sentAtMs?: unknown };
      return typeof t.id === 'string' && typeof t.sentAtMs === 'number' ? { id: t.id, origin_ms: t.sentAtMs } : null;
    } catch {
      return null;
    }
  };

  function flush(): void {
    timer = undefined;
    const batch = queue;
    queue = [];
    redis.mget(...batch.flatMap((q) => q.keys)).then((values) => {
      let i = 0;
      for (const q of batch) {
        q.resolve(values.slice(i, i + q.keys.length).map(parse));
        i += q.keys.length;
      }
    }, (err: Error) => { for (const q of batch) q.reject(err); });
  }

  const lookup = (port: number, indices: readonly number[]): Promise<(Trace | null)[]> => {
    if (indices.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      queue.push({ keys: indices.map((i) => traceKey(port, i)), resolve, reject });
      timer ??= setTimeout(flush, lingerMs);
    });
  };

  // The simulator writes a trace in the same tick it makes the record, but on another Redis connection:
  // when it writes hundreds at once, Redis may serve the driver's MGET (monitoring mode reads a record
  // within milliseconds) before the tail of that batch. Missing traces are therefore asked again.
  return async (port, indices) => {
    const traces = await lookup(port, indices);
    for (const delayMs of retryDelaysMs) {
      const missing = indices.flatMap((_, i) => (traces[i] === null ? [i] : []));
      if (missing.length === 0) break;
      await new Promise((r) => setTimeout(r, delayMs));
      const again = await lookup(port, missing.map((i) => indices[i]!));
      missing.forEach((i, k) => { traces[i] = again[k] ?? null; });
    }
    return traces;
  };
}
