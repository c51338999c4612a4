/**
 * The record of events the simulator generated on request (control API, scenarios, rate generator):
 * a bounded ring, ordered by send time, that load tests read with `since` to match every event end to end.
 */
import type { Trace } from './event-log.ts';

export type TracedEvent = {
  panel: number;
  action: string;
  zone?: number;
  partition?: number;
  trouble?: string | number;
  /** Index of the event-log record the action wrote (the one the trace is attached to). */
  logIndex: number;
  trace: Trace;
};

export type TraceRing = {
  readonly capacity: number;
  readonly size: number;
  /** Total ever added (also counts those pushed out of the ring). */
  readonly total: number;
  add(ev: TracedEvent): void;
  /** Events with trace.sentAtMs ≥ sinceMs, oldest first, at most `limit`. */
  since(sinceMs: number, limit?: number): TracedEvent[];
};

export function createTraceRing(capacity = 200_000): TraceRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`trace ring capacity must be a positive integer, got ${String(capacity)}`);
  const ring: Array<TracedEvent | undefined> = new Array<TracedEvent | undefined>(capacity);
  let total = 0;

  const at = (seq: number): TracedEvent => ring[seq % capacity]!;

  return {
    capacity,
    get size() {
      return Math.min(total, capacity);
    },
    get total() {
      return total;
    },
    add(ev) {
      ring[total % capacity] = ev;
      total++;
    },
    since(sinceMs, limit = capacity) {
      const oldest = Math.max(0, total - capacity);
      // Send times never decrease, so the first match is found by binary search.
      let lo = oldest;
      let hi = total;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (at(mid).trace.sentAtMs < sinceMs) lo = mid + 1;
        else hi = mid;
      }
      const out: TracedEvent[] = [];
      for (let seq = lo; seq < total && out.length < limit; seq++) out.push(at(seq));
      return out;
    },
  };
}
