import type { Pool } from '../../platform/index.ts';
import type { Routes } from './what-if.ts';

/** What the pipeline really made of a range: alarms whose first event lies in it. */
export interface ActualTally {
  alarms: number;
  floods: number;
  byCategory: Record<string, number>;
  byObject: Record<string, number>;
}

export async function actualAlarms(pool: Pool, fromMs: number, toMs: number): Promise<ActualTally> {
  const { rows } = await pool.query<{ category: string; object_id: number; flood: boolean; n: number }>(
    `SELECT category, object_id, flood, count(*)::int AS n FROM alarms
      WHERE first_event_at >= to_timestamp($1 / 1000.0) AND first_event_at < to_timestamp($2 / 1000.0)
      GROUP BY 1, 2, 3`, [fromMs, toMs]);
  const t: ActualTally = { alarms: 0, floods: 0, byCategory: {}, byObject: {} };
  for (const r of rows) {
    t.alarms += r.n;
    if (r.flood) t.floods += r.n;
    t.byCategory[r.category] = (t.byCategory[r.category] ?? 0) + r.n;
    t.byObject[r.object_id] = (t.byObject[r.object_id] ?? 0) + r.n;
  }
  return t;
}

/** Which object each panel and sensor belongs to, with the object's modes as they are now. */
export async function loadRoutes(pool: Pool): Promise<Routes> {
  const panels = await pool.query<{ id: number; object_id: number; test_mode: boolean; service_mode_active: boolean }>(
    'SELECT p.id, p.object_id, o.test_mode, o.service_mode_active FROM panels p JOIN objects o ON o.id = p.object_id');
  const sensors = await pool.query<{ sensor_ref: string; object_id: number; test_mode: boolean; service_mode_active: boolean }>(
    'SELECT s.sensor_ref, s.object_id, o.test_mode, o.service_mode_active FROM sensors s JOIN objects o ON o.id = s.object_id');
  return {
    panels: new Map(panels.rows.map((r) => [r.id, { objectId: r.object_id, test: r.test_mode, service: r.service_mode_active }])),
    sensors: new Map(sensors.rows.map((r) => [r.sensor_ref, { objectId: r.object_id, test: r.test_mode, service: r.service_mode_active }])),
  };
}

/** Object id → code, for printing. */
export async function objectCodes(pool: Pool): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ id: number; code: string }>('SELECT id, code FROM objects');
  return new Map(rows.map((r) => [r.id, r.code]));
}

/** The configuration tables a rebuilt database needs before events can be applied to it, in dependency order. */
const REFERENCE_TABLES = ['objects', 'panels', 'zones', 'partitions', 'outputs', 'sensors', 'alarm_rules'] as const;

/**
 * Copies the configuration (objects, panels and their names, sensors, alarm rules) from the source into a
 * migrated target without events or alarms, keeping ids, so that events applied there land on the same objects.
 */
export async function copyReference(source: Pool, target: Pool): Promise<Record<string, number>> {
  const { rows: [used] } = await target.query<{ n: number }>('SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM alarms) AS n');
  if ((used?.n ?? 0) > 0) throw new Error('the target database is not empty (it holds events or alarms): replay --into rebuilds into an empty one');
  // What the migrations seeded (the unknown-senders object, rules) is replaced by the source's, ids and all.
  await target.query(`TRUNCATE ${REFERENCE_TABLES.join(', ')} CASCADE`);
  const copied: Record<string, number> = {};
  for (const table of REFERENCE_TABLES) {
    const { rows } = await source.query<{ j: unknown }>(`SELECT coalesce(json_agg(t), '[]') AS j FROM ${table} t`);
    const r = await target.query(`INSERT INTO ${table} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${table}, $1)`, [JSON.stringify(rows[0]!.j)]);
    copied[table] = r.rowCount ?? 0;
    const identity = await target.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND is_identity = 'YES'", [table]);
    for (const { column_name: c } of identity.rows) {
      await target.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${c}) FROM ${table}), 1))`, [table, c]);
    }
  }
  return copied;
}
