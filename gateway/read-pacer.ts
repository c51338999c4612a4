import pLimit from 'p-limit';
import { counter, gauge } from '../platform/index.ts';

const m = {
  reads: counter('stam_gateway_ws_reads_total', 'snapshot and history reads for (re)connecting WebSocket clients, by kind and whether a queued read was shared', ['kind', 'shared']),
  waiting: gauge('stam_gateway_ws_reads_waiting', 'snapshot and history reads waiting for their turn'),
};

export interface ReadPacer {
  /**
   * A read that clients with the same `key` may share: a caller arriving while a read for its key is still
   * waiting for its turn joins it. A read already running is not joined — it may predate what the caller must see.
   */
  shared<T>(kind: string, key: string, read: () => Promise<T>): Promise<T>;
  /** A read of one client's own, in turn. */
  run<T>(kind: string, read: () => Promise<T>): Promise<T>;
  readonly waiting: number;
  readonly active: number;
}

/**
 * Paces the PostgreSQL reads of (re)connecting WebSocket clients: at most `concurrency` at a time per
 * gateway, so 200 clients reconnecting at once (a gateway restart, a network blip at the centre) queue
 * up instead of taking every pool connection from the operators' API requests.
 */
export function createReadPacer(concurrency: number): ReadPacer {
  const limit = pLimit(concurrency);
  const queued = new Map<string, Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    m.waiting.set(limit.pendingCount);
    return p.finally(() => m.waiting.set(limit.pendingCount));
  };
  return {
    shared<T>(kind: string, key: string, read: () => Promise<T>): Promise<T> {
      const waiting = queued.get(key) as Promise<T> | undefined;
      if (waiting) {
        m.reads.inc({ kind, shared: 'yes' });
        return waiting;
      }
      m.reads.inc({ kind, shared: 'no' });
      const p = limit(() => {
        queued.delete(key);
        m.waiting.set(limit.pendingCount);
        return read();
      });
      queued.set(key, p);
      return track(p);
    },
    run<T>(kind: string, read: () => Promise<T>): Promise<T> {
      m.reads.inc({ kind, shared: 'no' });
      return track(limit(read));
    },
    get waiting() { return limit.pendingCount; },
    get active() { return limit.activeCount; },
  };
}
