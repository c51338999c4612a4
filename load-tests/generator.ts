/**
 * The simulator side of a run, over its control API: start the rate generator, follow it, and collect
 * the trace (id, send time, panel, zone, log index) of every event it generated — incrementally, because
 * the simulator keeps only the newest traces in a ring.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SentEvent } from './accounting.ts';
import type { Plan } from './scenario.ts';

interface TracedEvent { panel: number; action: string; zone?: number; logIndex: number; trace: { id: string; sentAtMs: number } }
interface RateStatus { running: boolean; total?: number; sent?: number; errors?: number; lastError?: string }

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

export async function startGenerator(controlUrl: string, plan: Plan): Promise<void> {
  await json(`${controlUrl}/rate`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ eventsPerSecond: plan.rateEps, durationS: plan.durationS, panels: plan.panels, zones: plan.zones }),
  });
}

export const generatorStatus = (controlUrl: string): Promise<RateStatus> => json<RateStatus>(`${controlUrl}/rate`);

/** Resolves with the generator's final status once it stopped. */
export async function waitForGenerator(controlUrl: string, onTick: () => void): Promise<RateStatus> {
  for (;;) {
    const s = await generatorStatus(controlUrl);
    if (!s.running) return s;
    onTick();
    await sleep(500);
  }
}

export interface TraceCollector {
  /** Fetches traces generated since the last poll. */
  poll(): Promise<void>;
  readonly count: number;
  /** Every collected event, oldest first. */
  events(): SentEvent[];
  /** Traces the simulator generated during the run that were pushed out of its ring before being read. */
  missed(): Promise<number>;
}

export async function createTraceCollector(controlUrl: string, sinceMs: number): Promise<TraceCollector> {
  const LIMIT = 100_000;
  const byId = new Map<string, SentEvent>();
  // `total` counts every trace the simulator ever made: what it says now is the run's starting point.
  const before = (await json<{ total: number }>(`${controlUrl}/traces?since=${Date.now() + 86_400_000}&limit=1`)).total;
  let since = sinceMs;
  let polling: Promise<void> | undefined;

  const pollOnce = async (): Promise<void> => {
    for (;;) {
      const page = await json<{ count: number; traces: TracedEvent[] }>(`${controlUrl}/traces?since=${since}&limit=${LIMIT}`);
      let fresh = 0;
      for (const t of page.traces) {
        if (byId.has(t.trace.id)) continue;
        fresh++;
        byId.set(t.trace.id, { id: t.trace.id, sentAtMs: t.trace.sentAtMs, panel: t.panel, action: t.action, logIndex: t.logIndex, ...(t.zone !== undefined ? { zone: t.zone } : {}) });
        if (t.trace.sentAtMs > since) since = t.trace.sentAtMs;
      }
      // A full page may end inside one millisecond: read on from that millisecond until nothing is new.
      if (page.count < LIMIT || fresh === 0) return;
    }
  };

  return {
    poll() {
      polling ??= pollOnce().finally(() => { polling = undefined; });
      return polling;
    },
    get count() { return byId.size; },
    events: () => [...byId.values()].sort((a, b) => a.sentAtMs - b.sentAtMs),
    async missed() {
      const now = (await json<{ total: number }>(`${controlUrl}/traces?since=${Date.now() + 86_400_000}&limit=1`)).total;
      return Math.max(0, now - before - byId.size);
    },
  };
}
