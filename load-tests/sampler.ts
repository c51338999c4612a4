/**
 * Once a second during a run: consumer lag of the alarm processor (Kafka high watermarks minus the
 * offsets it stores in PostgreSQL), the outbox backlog (unpublished rows), the same two as the roles'
 * own /metrics report them, the generator's progress, and CPU and RSS of every process.
 */
import type { Admin } from 'kafkajs';
import { createPool, type Pool } from '../platform/index.ts';
import { topicName } from '../schemas/index.ts';
import { metricValue, parseMetrics } from './prom-text.ts';
import { createCpuSampler, type ProcSample } from './processes.ts';
import type { SystemUnderTest } from './system.ts';

export interface TimelinePoint {
  t: number;
  /** Σ over partitions of high watermark − processor's next offset (PostgreSQL). */
  lag: number | null;
  /** Unpublished outbox rows (PostgreSQL). */
  backlog: number | null;
  /** stam_consumer_lag_messages / stam_relay_backlog_rows from the roles' /metrics. */
  metricLag: number | null;
  metricBacklog: number | null;
  /** Events the generator has sent so far. */
  generated: number | null;
  /** The Satel driver's own counters: event-log records read, events acknowledged by the broker, panels in reconnect backoff. */
  driverRead: number | null;
  driverProduced: number | null;
  backingOff: number | null;
  reconnects: number | null;
  /** Distinct events client 0 has received so far. */
  received: number;
  procs: Record<string, ProcSample>;
}

export interface Sampler {
  readonly points: TimelinePoint[];
  latest(): TimelinePoint | undefined;
  stop(): Promise<void>;
}

async function text(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(800) });
    return r.status === 200 ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

export async function startSampler(sys: SystemUnderTest, received: () => number, intervalMs = 1_000): Promise<Sampler> {
  const points: TimelinePoint[] = [];
  const topic = topicName('satel.events.v1', sys.topicPrefix);
  const pool: Pool | undefined = sys.databaseUrl ? createPool(sys.databaseUrl, { max: 2, applicationName: 'stam-load-sampler' }) : undefined;
  let admin: Admin | undefined = sys.kafka.admin();
  await admin.connect().catch(() => { admin = undefined; });
  const cpu = createCpuSampler();
  cpu.sample(sys.processes());

  const lag = async (): Promise<number | null> => {
    if (!pool || !admin) return null;
    const [offsets, stored] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      pool.query<{ partition: number; next_offset: number }>('SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [sys.processorGroup, topic]),
    ]);
    const next = new Map(stored.rows.map((r) => [r.partition, r.next_offset]));
    return offsets.reduce((sum, p) => sum + Math.max(0, Number(p.high) - (next.get(p.partition) ?? Number(p.low))), 0);
  };
  const backlog = async (): Promise<number | null> => {
    if (!pool) return null;
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    return rows[0]?.n ?? null;
  };
  const generated = async (): Promise<number | null> => {
    const t = await text(`${sys.controlUrl}/rate`);
    if (!t) return null;
    const s = JSON.parse(t) as { sent?: number };
    return s.sent ?? null;
  };

  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const t = Date.now();
      const [l, b, g, pmText, rmText, dmText] = await Promise.all([
        lag().catch(() => null), backlog().catch(() => null), generated().catch(() => null),
        text(`${sys.opsUrls['alarm-processor']}/metrics`), text(`${sys.opsUrls['outbox-relay']}/metrics`), text(`${sys.opsUrls['satel-ingest']}/metrics`),
      ]);
      const [pm, rm, dm] = [pmText, rmText, dmText].map((x) => (x ? parseMetrics(x) : null));
      points.push({
        t, lag: l, backlog: b, generated: g, received: received(),
        driverRead: dm ? metricValue(dm, 'stam_satel_log_records_total') : null,
        driverProduced: dm ? metricValue(dm, 'stam_satel_events_produced_total') : null,
        backingOff: dm ? metricValue(dm, 'stam_satel_panels_backing_off') : null,
        reconnects: dm ? metricValue(dm, 'stam_satel_reconnects_total') : null,
        metricLag: pm ? metricValue(pm, 'stam_consumer_lag_messages') : null,
        metricBacklog: rm ? metricValue(rm, 'stam_relay_backlog_rows') : null,
        procs: cpu.sample(sys.processes()),
      });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  await tick();

  return {
    points,
    latest: () => points[points.length - 1],
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 50));
      await pool?.end();
      await admin?.disconnect();
    },
  };
}
