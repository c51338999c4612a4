import type { PoolClient } from '../platform/index.ts';
import {
  DEFAULT_FLOOD_POLICY, bundleKey, classify, floodBundleKey, isFlood, joinsAlarm, maxSeverity,
  type AlarmStatus, type FloodPolicy, type Rule, type Severity,
} from '../domain/index.ts';
import type { AlarmUpdate } from '../schemas/index.ts';
import type { NormalizedEvent } from './events.ts';

export interface Incoming { offset: string; event: NormalizedEvent }

export interface ApplyOptions {
  groupId: string;
  topic: string;
  partition: number;
  bundlingWindowMs: number;
  rules: readonly Rule[];
  flood?: FloodPolicy;
  now?: () => number;
}

export interface ApplyResult {
  skippedAlreadyApplied: number;
  inserted: number;
  duplicates: number;
  stale: number;
  unrouted: number;
  alarmsOpened: number;
  alarmsUpdated: number;
  flooded: number;
}

interface AlarmRow {
  id: number;
  object_id: number;
  panel_id: number | null;
  source: string;
  zone: number | null;
  bundle_key: string;
  category: string;
  severity: Severity;
  status: AlarmStatus;
  version: number;
  title: string;
  owner: string | null;
  event_count: number;
  restore_count: number;
  first_event_at: number;
  last_event_at: number;
  test: boolean;
  service: boolean;
  flood: boolean;
}

interface Route { objectId: number; test: boolean; service: boolean; fencing: number }

const ALARM_COLUMNS = `a.id, a.object_id, a.panel_id, a.source, a.zone, a.bundle_key, a.category, a.severity, a.status, a.version,
  a.title, (SELECT u.username FROM users u WHERE u.id = a.claimed_by) AS owner, a.event_count, a.restore_count,
  (extract(epoch from a.first_event_at) * 1000)::float8 AS first_event_at,
  (extract(epoch from a.last_event_at) * 1000)::float8 AS last_event_at, a.test, a.service, a.flood`;

/**
 * Applies one batch of one partition (good messages; `lastOffset` also covers the dead-lettered ones) in the caller's transaction: events (deduplicated by dedup_key),
 * alarm changes, outbox rows and the partition's next offset. Messages below the stored offset were
 * applied by an earlier transaction and are skipped, so effects are exactly once although delivery is
 * at least once. Pure rules (domain/) decide; this function only reads and writes.
 */
export async function applyBatch(db: PoolClient, items: Incoming[], lastOffset: string, opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = { skippedAlreadyApplied: 0, inserted: 0, duplicates: 0, stale: 0, unrouted: 0, alarmsOpened: 0, alarmsUpdated: 0, flooded: 0 };

  const stored = await db.query<{ next_offset: number }>(
    'SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
    [opts.groupId, opts.topic, opts.partition],
  );
  const next = stored.rows[0]?.next_offset ?? -1;
  const fresh = items.filter((i) => Number(i.offset) >= next);
  result.skippedAlreadyApplied = items.length - fresh.length;

  if (fresh.length > 0) await applyEvents(db, fresh, opts, result);

  await db.query(
    `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
    [opts.groupId, opts.topic, opts.partition, Number(lastOffset) + 1],
  );
  return result;
}

async function loadRoutes(db: PoolClient, events: NormalizedEvent[]): Promise<{ panels: Map<number, Route>; sensors: Map<string, Route> }> {
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
    const { rows } = await db.query<{ sensor_ref: string; object_id: number; test_mode: boolean; service_mode_active: boolean }>(
      `SELECT s.sensor_ref, s.object_id, o.test_mode, o.service_mode_active FROM sensors s JOIN objects o ON o.id = s.object_id
        WHERE s.sensor_ref = ANY($1::text[])`,
      [sensorRefs],
    );
    for (const r of rows) sensors.set(r.sensor_ref, { objectId: r.object_id, test: r.test_mode, service: r.service_mode_active, fencing: 0 });
  }
  return { panels, sensors };
}

async function applyEvents(db: PoolClient, items: Incoming[], opts: ApplyOptions, result: ApplyResult): Promise<void> {
  const events = items.map((i) => i.event);
  const { panels, sensors } = await loadRoutes(db, events);
  const routeOf = (e: NormalizedEvent) => (e.panelId !== null ? panels.get(e.panelId) : e.sensorRef !== null ? sensors.get(e.sensorRef) : undefined);

  // Fencing: an event from a driver whose lease was taken over is recorded, but changes nothing live.
  const maxFencing = new Map<number, number>();
  const stale = events.map((e) => {
    const r = routeOf(e);
    if (!r || e.panelId === null) return false;
    const seen = Math.max(r.fencing, maxFencing.get(e.panelId) ?? 0);
    if (e.fencing < seen) return true;
    maxFencing.set(e.panelId, e.fencing);
    return false;
  });

  // One row per dedup_key, preferring a copy with a current fencing number: a record first stored as
  // stale (from a driver that had lost its lease) is upgraded when the lease holder's copy arrives,
  // otherwise the event would never reach an alarm.
  const firstByKey = new Map<string, number>();
  events.forEach((e, i) => {
    const j = firstByKey.get(e.dedupKey);
    if (j === undefined || (stale[j] && !stale[i])) firstByKey.set(e.dedupKey, i);
  });
  const picked = [...firstByKey.values()].sort((a, b) => a - b);
  const pick = <T>(xs: T[]) => picked.map((i) => xs[i]!);
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
    (() => {
      const ev = pick(events);
      return [
        ev.map((e) => e.eventId), ev.map((e) => e.dedupKey), ev.map((e) => e.source), ev.map((e) => e.kind),
        ev.map((e) => e.panelId), ev.map((e) => e.sensorRef), ev.map((e) => routeOf(e)?.objectId ?? null),
        ev.map((e) => e.objectNumber), ev.map((e) => e.panelTimeMs), ev.map((e) => e.observedAtMs),
        ev.map((e) => e.fencing), pick(stale), ev.map((e) => JSON.stringify(e.payload)),
        opts.topic, opts.partition, pick(items).map((i) => i.offset), ev.map((e) => e.trace?.id ?? null), ev.map((e) => e.trace?.origin_ms ?? null),
      ];
    })(),
  );
  const idByKey = new Map(ins.rows.map((r) => [r.dedup_key, r.id]));
  result.inserted = ins.rows.length;
  // A dedup_key repeated inside one batch is inserted once and counted once.
  result.duplicates = events.length - ins.rows.length;

  const raised = [...maxFencing].filter(([panelId, f]) => f > (panels.get(panelId)?.fencing ?? 0));
  if (raised.length > 0) {
    await db.query(
      `UPDATE panel_cursors c SET fencing = GREATEST(c.fencing, t.f), updated_at = now()
         FROM unnest($1::bigint[], $2::bigint[]) AS t(id, f) WHERE c.panel_id = t.id`,
      [raised.map(([id]) => id), raised.map(([, f]) => f)],
    );
  }

  const work: { e: NormalizedEvent; id: number; route: Route }[] = [];
  for (const i of picked) {
    const e = events[i]!;
    const id = idByKey.get(e.dedupKey);
    if (id === undefined) continue;
    if (stale[i]) { result.stale++; continue; }
    const route = routeOf(e);
    if (!route) { result.unrouted++; continue; }
    work.push({ e, id, route });
  }
  if (work.length === 0) return;

  const classified = work.map((w) => ({ ...w, c: classify(w.e, opts.rules) })).filter((w) => w.c.effect !== 'state');
  if (classified.length === 0) return;
  const flood = opts.flood ?? DEFAULT_FLOOD_POLICY;
  const keys = classified.map((w) => bundleKey(w.route.objectId, w.e, w.c));
  const objectIds = [...new Set(classified.map((w) => w.route.objectId))];
  const open = await db.query<AlarmRow>(
    // The owner is a scalar subquery, evaluated after the row lock: a join would keep the user row read
    // before waiting on an operator's claim, and publish a claimed alarm with no owner.
    `SELECT ${ALARM_COLUMNS} FROM alarms a
      WHERE a.bundle_key = ANY($1::text[]) AND a.status IN ('NEW','CLAIMED','ACKNOWLEDGED')
      ORDER BY a.id FOR UPDATE OF a`,
    [[...new Set([...keys, ...objectIds.map(floodBundleKey)])]],
  );
  const byKey = new Map<string, AlarmRow>();
  for (const a of open.rows) {
    const prev = byKey.get(a.bundle_key);
    if (!prev || a.last_event_at >= prev.last_event_at) byKey.set(a.bundle_key, a);
  }
  // When each object's recent (non-flood) alarms opened, for the flood rule; event time, not wall time,
  // so replaying a topic yields the same alarms.
  const earliest = Math.min(...classified.map((w) => w.e.observedAtMs)) - flood.windowMs;
  const recent = await db.query<{ object_id: number; t: number }>(
    `SELECT object_id, (extract(epoch from first_event_at) * 1000)::float8 AS t FROM alarms
      WHERE object_id = ANY($1::bigint[]) AND NOT flood AND first_event_at >= to_timestamp($2 / 1000.0)`,
    [objectIds, earliest],
  );
  const openedAt = new Map<number, number[]>();
  for (const r of recent.rows) openedAt.set(r.object_id, [...(openedAt.get(r.object_id) ?? []), r.t]);

  // Decide everything in memory first; new alarms get their ids afterwards in one round trip and are
  // inserted with their final counts, existing ones are updated in one statement.
  const changed = new Map<AlarmRow, { applied: NormalizedEvent[]; created: boolean }>();
  const links: { alarm: AlarmRow; eventId: number; restore: boolean }[] = [];
  const created: AlarmRow[] = [];
  const createAlarm = (key: string, e: NormalizedEvent, route: Route, c: { category: string; severity: Severity; title: string }, isFloodAlarm: boolean): AlarmRow => {
    const zone = e.source === 'satel' && !isFloodAlarm ? e.objectNumber : null;
    const alarm: AlarmRow = {
      id: 0, object_id: route.objectId, panel_id: e.panelId, source: e.source, zone, bundle_key: key, category: c.category,
      severity: c.severity, status: 'NEW', version: 0, title: c.title, owner: null, event_count: 1, restore_count: 0,
      first_event_at: e.observedAtMs, last_event_at: e.observedAtMs, test: route.test, service: route.service, flood: isFloodAlarm,
    };
    byKey.set(key, alarm);
    changed.set(alarm, { applied: [], created: true });
    created.push(alarm);
    result.alarmsOpened++;
    return alarm;
  };

  for (let i = 0; i < classified.length; i++) {
    const { e, id, route, c } = classified[i]!;
    const key = keys[i]!;
    let alarm = byKey.get(key);
    if (c.effect === 'restore') {
      if (!alarm) continue; // nothing open to restore: the event is recorded, no alarm changes
      alarm.restore_count++;
    } else if (alarm && joinsAlarm({ status: alarm.status, lastEventAtMs: alarm.last_event_at }, e.observedAtMs, opts.bundlingWindowMs)) {
      alarm.event_count++;
      alarm.last_event_at = Math.max(alarm.last_event_at, e.observedAtMs);
    } else if (isFlood(openedAt.get(route.objectId) ?? [], e.observedAtMs, flood)) {
      const fk = floodBundleKey(route.objectId);
      alarm = byKey.get(fk);
      if (alarm && joinsAlarm({ status: alarm.status, lastEventAtMs: alarm.last_event_at }, e.observedAtMs, flood.windowMs)) {
        alarm.event_count++;
        alarm.last_event_at = Math.max(alarm.last_event_at, e.observedAtMs);
        alarm.severity = maxSeverity(alarm.severity, c.severity);
      } else {
        alarm = createAlarm(fk, e, route, { category: 'flood', severity: c.severity, title: `Alarm flood: more than ${flood.threshold} alarms in ${Math.round(flood.windowMs / 60_000)} min` }, true);
      }
      result.flooded++;
    } else {
      alarm = createAlarm(key, e, route, c, false);
      openedAt.set(route.objectId, [...(openedAt.get(route.objectId) ?? []), e.observedAtMs]);
    }
    alarm.version++;
    const entry = changed.get(alarm) ?? { applied: [], created: false };
    entry.applied.push(e);
    changed.set(alarm, entry);
    links.push({ alarm, eventId: id, restore: c.effect === 'restore' });
  }
  if (changed.size === 0) return;

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
    [links.map((l) => l.alarm.id), links.map((l) => l.eventId), links.map((l) => l.restore)],
  );
  const all = [...changed].map(([alarm, v]) => ({ alarm, ...v }));
  const existing = all.filter((x) => !x.created).map((x) => x.alarm);
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
  result.alarmsUpdated += existing.length;
  const now = opts.now?.() ?? Date.now();
  const outbox = all.map(({ alarm, applied }) => toAlarmUpdate(alarm, applied, now));
  await db.query(
    `INSERT INTO outbox (kind, key, payload, push)
     SELECT 'alarm.update', k, p, push FROM unnest($1::text[], $2::jsonb[], $3::boolean[]) AS t(k, p, push)`,
    [outbox.map((u) => String(u.alarm_id)), outbox.map((u) => JSON.stringify(u)), outbox.map((u, i) => shouldPush(u, all[i]!.created))],
  );
  await db.query("SELECT pg_notify('stam_outbox', '')");
}

/** Push a CRITICAL alarm once, when it opens (a flood alarm too), unless the object is in test or service mode. */
function shouldPush(u: AlarmUpdate, created: boolean): boolean {
  return created && u.severity === 'CRITICAL' && !u.test && !u.service;
}

export function toAlarmUpdate(a: AlarmRow, applied: NormalizedEvent[], nowMs: number): AlarmUpdate {
  return {
    alarm_id: a.id,
    version: a.version,
    object_id: a.object_id,
    panel_id: a.panel_id,
    source: a.source,
    zone: a.zone,
    category: a.category,
    severity: a.severity,
    status: a.status,
    owner: a.owner,
    event_count: a.event_count,
    restore_count: a.restore_count,
    first_event_at: Math.round(a.first_event_at),
    last_event_at: Math.round(a.last_event_at),
    test: a.test,
    service: a.service,
    flood: a.flood,
    title: a.title,
    updated_at: nowMs,
    events: applied.map((e) => ({ event_id: e.eventId, observed_at: e.observedAtMs, trace: e.trace })),
  };
}
