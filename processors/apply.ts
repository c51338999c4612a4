import { NOTIFY_OUTBOX_SQL, type PoolClient } from '../platform/index.ts';
import {
  ALARM_ROW_COLUMNS, alarmCandidates, alarmLookups, decideAlarms, planRecords, shouldPush, toAlarmUpdate,
  type AlarmDecision, type AlarmRow, type FloodPolicy, type NormalizedEvent, type Route, type Rule,
} from '../domain/index.ts';

/** One decoded message: its offset in the partition and the event it carries. */
export interface Incoming { offset: string; event: NormalizedEvent }

export interface ApplyOptions {
  topic: string;
  partition: number;
  bundlingWindowMs: number;
  rules: readonly Rule[];
  flood: FloodPolicy;
  /** FEATURE_PUSH_ENABLED (default on): off, no outbox row asks for a push job. */
  pushEnabled?: boolean;
  now?: () => number;
}

export interface ApplyResult {
  inserted: number;
  duplicates: number;
  stale: number;
  unrouted: number;
  alarmsOpened: number;
  alarmsUpdated: number;
  flooded: number;
}

/**
 * Applies fresh events of one partition in the caller's transaction: loads what the alarm decision needs
 * (routes, open alarms, recent openings), lets the pure decision of domain/ decide, and writes events
 * (deduplicated by dedup_key), alarm changes and outbox rows. The consumer around it owns the offsets.
 */
export async function applyEvents(db: PoolClient, items: readonly Incoming[], opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = { inserted: 0, duplicates: 0, stale: 0, unrouted: 0, alarmsOpened: 0, alarmsUpdated: 0, flooded: 0 };
  if (items.length === 0) return result;
  const events = items.map((i) => i.event);
  const routes = await loadRoutes(db, events);
  const plan = planRecords(events, routes);

  const ids = await insertEvents(db, items, plan.picked, plan.stale, routes, opts);
  result.inserted = ids.size;
  // A dedup_key repeated inside one batch is inserted once and counted once.
  result.duplicates = events.length - ids.size;
  if (plan.raisedFencing.length > 0) {
    await db.query(
      `UPDATE panel_cursors c SET fencing = GREATEST(c.fencing, t.f), updated_at = now()
         FROM unnest($1::bigint[], $2::bigint[]) AS t(id, f) WHERE c.panel_id = t.id`,
      [plan.raisedFencing.map(([id]) => id), plan.raisedFencing.map(([, f]) => f)],
    );
  }

  const recorded: { event: NormalizedEvent; route: Route; recordId: number }[] = [];
  for (const i of plan.picked) {
    const event = events[i]!;
    const recordId = ids.get(event.dedupKey);
    if (recordId === undefined) continue;
    if (plan.stale[i]) { result.stale++; continue; }
    const route = routes(event);
    if (!route) { result.unrouted++; continue; }
    recorded.push({ event, route, recordId });
  }
  const candidates = alarmCandidates(recorded, opts.rules);
  if (candidates.length === 0) return result;

  const lookups = alarmLookups(candidates, opts.flood);
  const open = await db.query<AlarmRow>(
    `SELECT ${ALARM_ROW_COLUMNS} FROM alarms a
      WHERE a.bundle_key = ANY($1::text[]) AND a.status IN ('NEW','CLAIMED','ACKNOWLEDGED')
      ORDER BY a.id FOR UPDATE OF a`,
    [lookups.bundleKeys],
  );
  const recent = await db.query<{ object_id: number; t: number }>(
    `SELECT object_id, (extract(epoch from first_event_at) * 1000)::float8 AS t FROM alarms
      WHERE object_id = ANY($1::bigint[]) AND NOT flood AND first_event_at >= to_timestamp($2 / 1000.0)`,
    [lookups.objectIds, lookups.openedSinceMs],
  );
  const openedAt = new Map<number, number[]>();
  for (const r of recent.rows) openedAt.set(r.object_id, [...(openedAt.get(r.object_id) ?? []), r.t]);

  const decision = decideAlarms({ candidates, open: open.rows, openedAt, bundlingWindowMs: opts.bundlingWindowMs, flood: opts.flood });
  result.alarmsOpened = decision.opened;
  result.flooded = decision.flooded;
  result.alarmsUpdated = await writeDecision(db, decision, opts.now?.() ?? Date.now(), opts.pushEnabled ?? true);
  return result;
}

type RouteOf = (e: NormalizedEvent) => Route | undefined;

async function loadRoutes(db: PoolClient, events: NormalizedEvent[]): Promise<RouteOf> {
  const panelIds = [...new Set(events.map((e) => e.panelId).filter((p): p is number => p !== null))];
  const sensorRefs = [...new Set(events.map((e) => e.sensorRef).filter((s): s is string => s !== null))];
  const panels = new Map<number, Route>();
  const sensors = new Map<string, Route>();
  if (panelIds.length > 0) {
    // Locks the panels' cursor rows: fencing numbers only grow, and concurrent batches of one panel serialize.
    await db.query('INSERT INTO panel_cursors (panel_id) SELECT id FROM panels WHERE id = ANY($1::bigint[]) ON CONFLICT DO NOTHING', [panelIds]);
    const { rows } = await db.query<{ id: number; object_id: number; test_mode: boolean; service_mode_active: boolean; fencing: number }>(
      `SELECT p.id, p.object_id, o.test_mode, o.service_mode_active, c.fencing
         FROM panels p JOIN objects o ON o.id = p.object_id JOIN panel_cursors c ON c.panel_id = p.id
        WHERE p.id = ANY($1::bigint[]) ORDER BY p.id FOR UPDATE OF c`,
      [panelIds],
    );
    for (const r of rows) panels.set(r.id, { objectId: r.object_id, test: r.test_mode, service: r.service_mode_active, fencing: r.fencing });
  }
  if (sensorRefs.length > 0) {
    // The catch-all sensor '*' (migration 009, the "unknown senders" object) takes what no sensor claims.
    const { rows } = await db.query<{ sensor_ref: string; object_id: number; test_mode: boolean; service_mode_active: boolean }>(
      `SELECT s.sensor_ref, s.object_id, o.test_mode, o.service_mode_active FROM sensors s JOIN objects o ON o.id = s.object_id
        WHERE s.sensor_ref = ANY($1::text[]) OR s.sensor_ref = '*'`,
      [sensorRefs],
    );
    for (const r of rows) sensors.set(r.sensor_ref, { objectId: r.object_id, test: r.test_mode, service: r.service_mode_active, fencing: 0 });
  }
  const unclaimed = sensors.get('*');
  return (e) => (e.panelId !== null ? panels.get(e.panelId) : e.sensorRef !== null ? sensors.get(e.sensorRef) ?? unclaimed : undefined);
}

/** Inserts the picked events; returns the row id of each one new here (or upgraded from stale), by dedup_key. */
async function insertEvents(
  db: PoolClient, items: readonly Incoming[], picked: number[], stale: boolean[], routeOf: RouteOf, opts: ApplyOptions,
): Promise<Map<string, number>> {
  const ev = picked.map((i) => items[i]!.event);
  const ins = await db.query<{ id: number; dedup_key: string }>(
    `INSERT INTO events (event_id, dedup_key, source, kind, panel_id, sensor_ref, object_id, object_number, panel_time, observed_at,
                         fencing, stale, payload, src_topic, src_partition, src_offset, trace_id, trace_origin_ms)
     SELECT t.event_id, t.dedup_key, t.source, t.kind, t.panel_id, t.sensor_ref, t.object_id, t.object_number,
            to_timestamp(t.panel_time / 1000.0), to_timestamp(t.observed_at / 1000.0), t.fencing, t.stale, t.payload,
            $14, $15, t.src_offset, t.trace_id, t.trace_origin_ms
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::int[],
                   $9::float8[], $10::float8[], $11::bigint[], $12::boolean[], $13::jsonb[], $16::bigint[], $17::text[], $18::bigint[])
         AS t(event_id, dedup_key, source, kind, panel_id, sensor_ref, object_id, object_number, panel_time, observed_at,
              fencing, stale, payload, src_offset, trace_id, trace_origin_ms)
     ON CONFLICT (dedup_key) DO UPDATE SET stale = false, fencing = EXCLUDED.fencing
       WHERE events.stale AND NOT EXCLUDED.stale
     RETURNING id, dedup_key`,
    [
      ev.map((e) => e.eventId), ev.map((e) => e.dedupKey), ev.map((e) => e.source), ev.map((e) => e.kind),
      ev.map((e) => e.panelId), ev.map((e) => e.sensorRef), ev.map((e) => routeOf(e)?.objectId ?? null),
      ev.map((e) => e.objectNumber), ev.map((e) => e.panelTimeMs), ev.map((e) => e.observedAtMs),
      ev.map((e) => e.fencing), picked.map((i) => stale[i]), ev.map((e) => JSON.stringify(e.payload)),
      opts.topic, opts.partition, picked.map((i) => items[i]!.offset), ev.map((e) => e.trace?.id ?? null), ev.map((e) => e.trace?.origin_ms ?? null),
    ],
  );
  return new Map(ins.rows.map((r) => [r.dedup_key, r.id]));
}

/**
 * Writes what the decision changed: new alarms get their ids in one round trip and are inserted with their
 * final counts, existing ones are updated in one statement, then alarm_events and one outbox row per
 * changed alarm (and a NOTIFY for the relay). Returns how many existing alarms changed.
 */
async function writeDecision(db: PoolClient, decision: AlarmDecision, nowMs: number, pushEnabled: boolean): Promise<number> {
  const { changes, links } = decision;
  if (changes.length === 0) return 0;
  const created = changes.filter((c) => c.created).map((c) => c.alarm);
  if (created.length > 0) {
    const ids = await db.query<{ id: number }>(`SELECT nextval(pg_get_serial_sequence('alarms', 'id'))::bigint AS id FROM generate_series(1, $1)`, [created.length]);
    created.forEach((a, i) => { a.id = ids.rows[i]!.id; });
    const col = <K extends keyof AlarmRow>(k: K) => created.map((a) => a[k]);
    await db.query(
      `INSERT INTO alarms (id, object_id, panel_id, source, zone, bundle_key, category, severity, title, version, event_count, restore_count,
                           first_event_at, last_event_at, test, service, flood)
       OVERRIDING SYSTEM VALUE
       SELECT t.id, t.object_id, t.panel_id, t.source, t.zone, t.bundle_key, t.category, t.severity, t.title, t.version, t.ec, t.rc,
              to_timestamp(t.first / 1000.0), to_timestamp(t.last / 1000.0), t.test, t.service, t.flood
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[],
                     $11::int[], $12::int[], $13::float8[], $14::float8[], $15::boolean[], $16::boolean[], $17::boolean[])
           AS t(id, object_id, panel_id, source, zone, bundle_key, category, severity, title, version, ec, rc, first, last, test, service, flood)`,
      [col('id'), col('object_id'), col('panel_id'), col('source'), col('zone'), col('bundle_key'), col('category'), col('severity'), col('title'),
        col('version'), col('event_count'), col('restore_count'), col('first_event_at'), col('last_event_at'), col('test'), col('service'), col('flood')],
    );
  }
  await db.query(
    'INSERT INTO alarm_events (alarm_id, event_id, restore) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::boolean[])',
    [links.map((l) => l.alarm.id), links.map((l) => l.recordId), links.map((l) => l.restore)],
  );
  const existing = changes.filter((c) => !c.created).map((c) => c.alarm);
  if (existing.length > 0) {
    await db.query(
      `UPDATE alarms a SET version = t.version, event_count = t.ec, restore_count = t.rc, last_event_at = to_timestamp(t.last / 1000.0),
              severity = t.severity, updated_at = now()
         FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $5::float8[], $6::text[]) AS t(id, version, ec, rc, last, severity)
        WHERE a.id = t.id`,
      [existing.map((a) => a.id), existing.map((a) => a.version), existing.map((a) => a.event_count), existing.map((a) => a.restore_count),
        existing.map((a) => a.last_event_at), existing.map((a) => a.severity)],
    );
  }
  const outbox = changes.map(({ alarm, applied }) => toAlarmUpdate(alarm, applied, nowMs));
  await db.query(
    `INSERT INTO outbox (kind, key, payload, push)
     SELECT 'alarm.update', k, p, push FROM unnest($1::text[], $2::jsonb[], $3::boolean[]) AS t(k, p, push)`,
    [outbox.map((u) => String(u.alarm_id)), outbox.map((u) => JSON.stringify(u)), outbox.map((u, i) => pushEnabled && shouldPush(u, changes[i]!.created))],
  );
  await db.query(NOTIFY_OUTBOX_SQL);
  return existing.length;
}
