/**
 * Where time goes and where events stop, from the pipeline's own timestamps (pure):
 *   panel → broker        events.observed_at − trace origin   (driver read the record and produced it)
 *   broker → PostgreSQL   events.received_at − observed_at    (processor's transaction)
 *   PostgreSQL → WebSocket  first arrival − received_at, split into
 *       outbox wait       outbox.published_at − created_at    (until the relay claimed the row)
 *       relay → WebSocket first arrival − published_at        (broker, gateway, socket)
 * and, for every lost event, the last stage it reached.
 */
import type { SentEvent } from './accounting.ts';
import type { EventTimes, OutboxTimes } from './pipeline.ts';
import { summarize, type Summary } from './stats.ts';

export interface StageLatencies {
  panel_to_broker: Summary | null;
  broker_to_postgres: Summary | null;
  postgres_to_websocket: Summary | null;
  outbox_wait: Summary | null;
  relay_to_websocket: Summary | null;
}

export interface LossBreakdown {
  /** No events row stands for it: the driver never produced it (or the processor never applied it). */
  not_in_postgres: number;
  /** Recorded, but no alarm update carried it (e.g. a restore with no open alarm to attach to). */
  no_alarm_update: number;
  /** …of which restores (ZONE_RESTORE …): their alarm was already closed, or never opened. */
  no_alarm_update_restores: number;
  /** In an outbox row the relay has not published. */
  not_published: number;
  /** Published to alarm.updates.v1, but missing on at least one client. */
  published_not_received: number;
}

export interface StageInput {
  sent: ReadonlyMap<string, SentEvent>;
  /** Pipeline event id → trace id (matching). */
  traceOf: ReadonlyMap<string, string>;
  times: ReadonlyMap<string, EventTimes>;
  outbox: ReadonlyMap<string, OutboxTimes>;
  /** Pipeline event id → earliest arrival at any client. */
  arrival: ReadonlyMap<string, number>;
}

export function stageLatencies(i: StageInput): StageLatencies {
  const s = { p2b: [] as number[], b2p: [] as number[], p2w: [] as number[], wait: [] as number[], r2w: [] as number[] };
  const done = new Set<string>();
  for (const [eventId, traceId] of i.traceOf) {
    if (done.has(traceId)) continue; // one sample per sent event: its first pipeline event
    done.add(traceId);
    const origin = i.sent.get(traceId)?.sentAtMs;
    const t = i.times.get(eventId);
    if (origin === undefined || !t) continue;
    s.p2b.push(t.observedMs - origin);
    s.b2p.push(t.receivedMs - t.observedMs);
    const ob = i.outbox.get(eventId);
    if (ob?.publishedMs != null) s.wait.push(ob.publishedMs - ob.createdMs);
    const at = i.arrival.get(eventId);
    if (at === undefined) continue;
    s.p2w.push(at - t.receivedMs);
    if (ob?.publishedMs != null) s.r2w.push(at - ob.publishedMs);
  }
  return {
    panel_to_broker: summarize(s.p2b), broker_to_postgres: summarize(s.b2p), postgres_to_websocket: summarize(s.p2w),
    outbox_wait: summarize(s.wait), relay_to_websocket: summarize(s.r2w),
  };
}

export function lossBreakdown(
  lostIds: readonly string[], traceOf: ReadonlyMap<string, string>, outbox: ReadonlyMap<string, OutboxTimes>, kindOf: ReadonlyMap<string, string> = new Map(),
): LossBreakdown {
  const eventsOf = new Map<string, string[]>();
  for (const [eventId, traceId] of traceOf) eventsOf.set(traceId, [...(eventsOf.get(traceId) ?? []), eventId]);
  const out: LossBreakdown = { not_in_postgres: 0, no_alarm_update: 0, no_alarm_update_restores: 0, not_published: 0, published_not_received: 0 };
  for (const id of lostIds) {
    const evs = eventsOf.get(id) ?? [];
    const rows = evs.map((e) => outbox.get(e)).filter((o): o is OutboxTimes => o !== undefined);
    if (evs.length === 0) out.not_in_postgres++;
    else if (rows.length === 0) {
      out.no_alarm_update++;
      if (evs.every((e) => /RESTORE$/.test(kindOf.get(e) ?? ''))) out.no_alarm_update_restores++;
    }
    else if (rows.every((r) => r.publishedMs === null)) out.not_published++;
    else out.published_not_received++;
  }
  return out;
}
