import type { Redis } from '../platform/index.ts';
import type { LogRecord, Trace } from '../simulator/index.ts';

/**
 * Simulator side of the Satel trace side channel (the driver side is ingest/satel/driver/trace-source.ts, read
 * when SATEL_TRACE_SOURCE=redis): pass `mirror.onEvent` as the simulator's onEvent hook and every
 * generated event-log record's trace is written to Redis as `satel:trace:{panel port}:{log index}` →
 * `{"id", "sentAtMs"}`, where the driver finds it when it reads that record. Records without a trace
 * (state changes the simulator made on its own) are not mirrored. Keys expire after `ttlMs`.
 */
export interface TraceMirror {
  onEvent(panel: number, record: LogRecord, trace: Trace | undefined): void;
  /** Tells the mirror each panel's port (after the simulator started: sim.ports). */
  setPorts(ports: readonly number[]): void;
  readonly mirrored: number;
  readonly failed: number;
}

export function createTraceMirror(redis: Redis, opts: { ttlMs?: number } = {}): TraceMirror {
  const ttl = opts.ttlMs ?? 15 * 60_000;
  let ports: readonly number[] = [];
  let mirrored = 0;
  let failed = 0;
  return {
    onEvent(panel, record, trace) {
      const port = ports[panel - 1];
      if (!trace || port === undefined) return;
      // Written in the same tick the record is made: it reaches Redis before the panel can answer a 0x8C for it.
      redis.set(`satel:trace:${port}:${record.index}`, JSON.stringify({ id: trace.id, sentAtMs: trace.sentAtMs }), 'PX', ttl)
        .then(() => { mirrored++; }, () => { failed++; });
    },
    setPorts(p) { ports = [...p]; },
    get mirrored() { return mirrored; },
    get failed() { return failed; },
  };
}
