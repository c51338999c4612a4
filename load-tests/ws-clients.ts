/**
 * The operator clients seen from the load runner: starts the WebSocket worker thread, collects its
 * arrivals, and stops it. See ws-worker.ts for what one client does.
 */
import { Worker } from 'node:worker_threads';
import type { Arrival } from './accounting.ts';
import type { ClientStats, WorkerInput, WorkerMessage } from './ws-worker.ts';

export type { ClientStats } from './ws-worker.ts';

export interface OperatorClients {
  readonly arrivals: Arrival[];
  /** Distinct event ids client 0 has seen so far (progress). */
  readonly distinctOnFirst: number;
  /** Time of the latest arrival at any client (0 before the first). */
  readonly lastArrivalMs: number;
  stop(): Promise<ClientStats[]>;
}

const workerUrl = new URL('./ws-worker.ts', import.meta.url).href;

/** Opens one logged-in WebSocket per operator; resolves when every one got its `hello`. */
export async function openOperatorClients(input: WorkerInput, timeoutMs = 60_000): Promise<OperatorClients> {
  // An eval'd bootstrap registers the TypeScript loader inside the worker, then loads the worker module.
  const worker = new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); })`, {
    eval: true, workerData: input,
  });
  const arrivals: Arrival[] = [];
  const firstSeen = new Set<string>();
  let lastArrivalMs = 0;
  let onStopped: ((s: ClientStats[]) => void) | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`operator clients not connected within ${timeoutMs} ms`)), timeoutMs);
    worker.on('error', (err) => { clearTimeout(t); reject(err); });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') { clearTimeout(t); resolve(); }
      else if (m.type === 'failed') { clearTimeout(t); reject(new Error(`operator clients could not connect: ${m.message}`)); }
      else if (m.type === 'arrivals') {
        for (const [client, eventId, traceId, atMs] of m.rows) {
          arrivals.push({ client, eventId, traceId, atMs });
          if (client === 0) firstSeen.add(eventId);
          if (atMs > lastArrivalMs) lastArrivalMs = atMs;
        }
      } else onStopped?.(m.stats);
    });
  });
  try {
    await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  return {
    arrivals,
    get distinctOnFirst() { return firstSeen.size; },
    get lastArrivalMs() { return lastArrivalMs; },
    async stop() {
      const stats = await new Promise<ClientStats[]>((resolve) => {
        onStopped = resolve;
        worker.postMessage({ type: 'stop' });
      });
      await worker.terminate();
      return stats;
    },
  };
}
