/**
 * What the pipeline itself recorded about a run, read from PostgreSQL afterwards: every panel event
 * (events: observed_at by the driver, received_at by the processor's transaction, trace), the outbox row
 * that carried it (created_at, published_at by the relay), and the map from panel ids to simulator panels.
 */
import pg from 'pg';
import type { PipelineEvent } from './accounting.ts';

export interface EventTimes { observedMs: number; receivedMs: number }
export interface OutboxTimes { createdMs: number; publishedMs: number | null }

export interface PipelineData {
  events: PipelineEvent[];
  times: Map<string, EventTimes>;
  /** Event id → the outbox row (alarm update) that carried it. */
  outbox: Map<string, OutboxTimes>;
}

/** panels.id → simulator panel number, through the port each panel listens on. */
async function panelMap(client: pg.Client, controlUrl: string): Promise<Map<number, number>> {
  const sim = (await (await fetch(`${controlUrl}/panels`)).json()) as Array<{ panel: number; port: number }>;
  const byPort = new Map(sim.map((p) => [p.port, p.panel]));
  const { rows } = await client.query<{ id: string; port: number }>("SELECT id::text, port FROM panels WHERE host IN ('127.0.0.1', 'localhost')");
  const out = new Map<number, number>();
  for (const r of rows) {
    const n = byPort.get(r.port);
    if (n !== undefined) out.set(Number(r.id), n);
  }
  return out;
}

export async function readPipeline(databaseUrl: string, controlUrl: string, sinceMs: number): Promise<PipelineData> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'stam-load-report' });
  await client.connect();
  try {
    const panels = await panelMap(client, controlUrl);
    const ev = await client.query<{ event_id: string; panel_id: string | null; kind: string; object_number: number; log_index: number | null; trace_id: string | null; observed_ms: number; received_ms: number }>(
      `SELECT event_id::text, panel_id::text, kind, object_number, (payload->'log'->>'log_index')::int AS log_index, trace_id,
              (extract(epoch from observed_at) * 1000)::float8 AS observed_ms, (extract(epoch from received_at) * 1000)::float8 AS received_ms
         FROM events WHERE source = 'satel' AND received_at >= to_timestamp($1 / 1000.0)`,
      [sinceMs],
    );
    const events: PipelineEvent[] = [];
    const times = new Map<string, EventTimes>();
    for (const r of ev.rows) {
      events.push({
        eventId: r.event_id, panel: r.panel_id === null ? null : (panels.get(Number(r.panel_id)) ?? null), kind: r.kind, zone: r.object_number,
        logIndex: r.log_index, observedAtMs: r.observed_ms, traceId: r.trace_id,
      });
      times.set(r.event_id, { observedMs: r.observed_ms, receivedMs: r.received_ms });
    }
    const ob = await client.query<{ event_id: string; created_ms: number; published_ms: number | null }>(
      `SELECT e->>'event_id' AS event_id, (extract(epoch from o.created_at) * 1000)::float8 AS created_ms,
              (extract(epoch from o.published_at) * 1000)::float8 AS published_ms
         FROM outbox o CROSS JOIN LATERAL jsonb_array_elements(o.payload->'events') e
        WHERE o.kind = 'alarm.update' AND o.created_at >= to_timestamp($1 / 1000.0)`,
      [sinceMs],
    );
    const outbox = new Map<string, OutboxTimes>();
    for (const r of ob.rows) if (!outbox.has(r.event_id)) outbox.set(r.event_id, { createdMs: r.created_ms, publishedMs: r.published_ms });
    return { events, times, outbox };
  } finally {
    await client.end();
  }
}
