import { createHash } from 'node:crypto';
import { ALARM_ROW_COLUMNS, ALARM_STATUSES, decideTransition, toAlarmUpdate, type AlarmAction, type AlarmRow, type AlarmStatus } from '../domain/index.ts';
import { NOTIFY_OUTBOX_SQL, StamError, auditInsertSelect, type Pool } from '../platform/index.ts';
import type { AlarmUpdate } from '../schemas/index.ts';
import { can, inScope, scopeParam, type Principal } from './rbac.ts';

// Operator transitions read and publish the processor's row shape (domain/alarm.ts), so both publish the same update.

/** ISO-8601 UTC text straight from PostgreSQL: no Date objects to parse and format again for every row. */
export const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export const LIST_COLUMNS = `a.id, a.version, a.object_id, o.code AS object_code, o.name AS object_name, a.panel_id, a.source, a.zone, z.name AS zone_name,
  a.category, a.severity, a.status, u.username AS owner, ${iso('a.claimed_at')} AS claimed_at, a.event_count, a.restore_count,
  ${iso('a.first_event_at')} AS first_event_at, ${iso('a.last_event_at')} AS last_event_at,
  a.test, a.service, a.flood, a.title, a.resolution_code`;

export const LIST_FROM = `alarms a JOIN objects o ON o.id = a.object_id LEFT JOIN users u ON u.id = a.claimed_by
  LEFT JOIN zones z ON z.panel_id = a.panel_id AND z.number = a.zone`;

export interface ListFilter {
  status?: AlarmStatus[]; severity?: string[]; object_id?: number; panel_id?: number; from?: string; to?: string;
  include_test?: boolean; mine?: boolean; cursor?: string; limit: number;
}

const names = new Map<string, string>();
/**
 * A named (prepared once per connection) statement: the hot queries are planned once instead of on every
 * call (planning these joins costs more than running them).
 */
export function prepared(text: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  let name = names.get(text);
  if (name === undefined) {
    name = `gw_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size < 1000) names.set(text, name);
  }
  return { name, text, values };
}

/** Keyset cursors: `<id>` for the feed order, `t<µs since epoch>:<id>` for the time order. */
export const CURSOR_PATTERN = '^([0-9]{1,16}|t-?[0-9]{1,17}:[0-9]{1,16})$';

/**
 * The operator feed, newest first, keyset-paged (stable while alarms arrive), with only the conditions
 * that were asked for (so the planner can use the partial open-alarm index), scoped for scoped roles.
 * Order: by id (arrival: an alarm opened late from an old event still lands on top) — or, when a time
 * range is asked for, by first event time then id, which an index serves directly.
 * PostgreSQL renders the page as JSON text (`{"items":[…],"next_cursor":…}`), which is sent as it is: the
 * gateway neither parses nor re-serializes the rows.
 */
export async function listAlarms(pool: Pool, p: Principal, f: ListFilter): Promise<string> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => { args.push(v); return `$${args.length}`; };
  // Literal statuses (checked against the closed list) so the planner can match the partial open-alarm index.
  const statuses = (f.status ?? ['NEW', 'CLAIMED', 'ACKNOWLEDGED']).filter((s) => ALARM_STATUSES.includes(s));
  if (statuses.length === 0) return '{"items":[],"next_cursor":null}';
  where.push(statuses.length === 1 ? `a.status = ${arg(statuses[0])}` : `a.status IN (${statuses.map((s) => `'${s}'`).join(',')})`);
  if (f.severity?.length) where.push(`a.severity = ANY(${arg(f.severity)}::text[])`);
  if (f.object_id !== undefined) where.push(`a.object_id = ${arg(f.object_id)}`);
  if (f.panel_id !== undefined) where.push(`a.panel_id = ${arg(f.panel_id)}`);
  if (f.from) where.push(`a.first_event_at >= ${arg(f.from)}`);
  if (f.to) where.push(`a.first_event_at < ${arg(f.to)}`);
  if (!f.include_test) where.push('NOT a.test');
  if (f.mine) where.push(`a.claimed_by = ${arg(p.id)}`);
  const scope = scopeParam(p);
  if (scope) where.push(`a.object_id = ANY(${arg(scope)}::bigint[])`);
  const byTime = f.from !== undefined || f.to !== undefined;
  if (f.cursor !== undefined) {
    const m = /^t(-?\d+):(\d+)$/.exec(f.cursor);
    if (byTime !== Boolean(m)) throw new StamError('E_VALIDATION', 'cursor does not belong to this query (use next_cursor of the previous page with the same filters)');
    where.push(m ? `(a.first_event_at, a.id) < ('epoch'::timestamptz + ${arg(m[1])}::bigint * interval '1 microsecond', ${arg(m[2])}::bigint)` : `a.id < ${arg(f.cursor)}::bigint`);
  }
  const limit = arg(f.limit);
  const order = byTime ? { inner: 'a.first_event_at DESC, a.id DESC', outer: 'x.fe DESC, x.id DESC', last: 'x.fe, x.id' } : { inner: 'a.id DESC', outer: 'x.id DESC', last: 'x.id' };
  const cursor = byTime ? `'t' || (extract(epoch from a.first_event_at) * 1000000)::bigint || ':' || a.id` : 'a.id::text';
  const { rows } = await pool.query<{ body: string }>(prepared(
    `SELECT json_build_object('items', COALESCE(json_agg(x.j ORDER BY ${order.outer}), '[]'),
                              'next_cursor', CASE WHEN count(*) = ${limit} THEN (array_agg(x.c ORDER BY ${order.last}))[1] END)::text AS body
       FROM (SELECT row_to_json(r) AS j, a.id, a.first_event_at AS fe, ${cursor} AS c
               FROM ${LIST_FROM}, LATERAL (SELECT ${LIST_COLUMNS}) r
              WHERE ${where.join(' AND ')} ORDER BY ${order.inner} LIMIT ${limit}) x`, args));
  return rows[0]!.body;
}

export async function alarmDetail(pool: Pool, p: Principal, id: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query<{ object_id: number; panel_id: number | null }>(`SELECT ${LIST_COLUMNS} FROM ${LIST_FROM} WHERE a.id = $1`, [id]);
  const alarm = rows[0];
  if (!alarm || !inScope(p, alarm.object_id)) return undefined;
  const [object, panel, events, actions] = await Promise.all([
    pool.query(`SELECT id, code, name, address, latitude, longitude, contacts, notes, service_mode_active, service_mode_until, test_mode, test_mode_until FROM objects WHERE id = $1`, [alarm.object_id]),
    alarm.panel_id === null ? { rows: [] } : pool.query('SELECT id, name, model FROM panels WHERE id = $1', [alarm.panel_id]),
    pool.query(
      `SELECT e.id, e.event_id, e.source, e.kind, e.object_number, e.panel_time, e.observed_at, e.received_at, ae.restore, e.payload, e.trace_id
         FROM alarm_events ae JOIN events e ON e.id = ae.event_id WHERE ae.alarm_id = $1 ORDER BY e.observed_at DESC, e.id DESC LIMIT 500`, [id]),
    pool.query(
      `SELECT x.id, x.action, x.from_status, x.to_status, x.version, x.note, x.created_at, u.username
         FROM alarm_actions x LEFT JOIN users u ON u.id = x.user_id WHERE x.alarm_id = $1 ORDER BY x.id`, [id]),
  ]);
  return { ...alarm, object: object.rows[0] ?? null, panel: panel.rows[0] ?? null, events: events.rows, actions: actions.rows };
}

/** Open alarms in scope as AlarmUpdate snapshots (newest `limit`), for a WebSocket resync. */
export async function openAlarmsSnapshot(pool: Pool, p: Principal, includeTest: boolean, limit = 5000): Promise<{ alarms: AlarmUpdate[]; truncated: boolean }> {
  const { rows } = await pool.query<AlarmRow>(
    `SELECT ${ALARM_ROW_COLUMNS} FROM alarms a
      WHERE a.status IN ('NEW','CLAIMED','ACKNOWLEDGED') AND ($1 OR NOT a.test) AND ($2::bigint[] IS NULL OR a.object_id = ANY($2::bigint[]))
      ORDER BY a.id DESC LIMIT $3`, [includeTest, scopeParam(p), limit + 1]);
  const now = Date.now();
  return { alarms: rows.slice(0, limit).reverse().map((r) => toAlarmUpdate(r, [], now)), truncated: rows.length > limit };
}

export interface TransitionInput { action: AlarmAction; version: number; note?: string | undefined; resolutionCode?: string | undefined; requestId: string; ip: string }

type Current = AlarmRow & { claimed_by: number | null; claimed_at: Date | null };

function conflict(code: 'E_ALARM_CONFLICT' | 'E_ALARM_OWNER', message: string, a: Current): StamError {
  return new StamError(code, message, {
    details: { alarm: { id: a.id, status: a.status, version: a.version, owner: a.owner, claimed_at: a.claimed_at?.toISOString() ?? null } },
  });
}

async function current(pool: Pool, p: Principal, id: number): Promise<Current> {
  const { rows } = await pool.query<Current>(prepared(`SELECT ${ALARM_ROW_COLUMNS}, a.claimed_by, a.claimed_at FROM alarms a WHERE a.id = $1`, [id]));
  const a = rows[0];
  if (!a || !inScope(p, a.object_id)) throw new StamError('E_NOT_FOUND', `alarm ${id} not found`);
  return a;
}

const stale = (id: number, a: Current, expected: number) =>
  conflict('E_ALARM_CONFLICT', `alarm ${id} changed: it is ${a.status}${a.owner ? ` (owner ${a.owner})` : ''} at version ${a.version}, not ${expected}`, a);

// The alarm, its action, its audit row and its outbox row, written together only if the version still matches
// (built once: the text is the prepared statement's identity).
const AUDIT_TRANSITION = auditInsertSelect({
  userId: '$6', username: '$10', action: `'alarm.' || $7`, targetType: `'alarm'`, targetId: 'id::text', requestId: '$11', ip: '$12', details: '$13',
}, 'upd');
const TRANSITION = `WITH upd AS (
     UPDATE alarms SET status = $2, version = $3, claimed_by = $4,
            claimed_at = CASE WHEN $4::bigint IS DISTINCT FROM claimed_by THEN CASE WHEN $4::bigint IS NULL THEN NULL ELSE now() END ELSE claimed_at END,
            resolution_code = COALESCE($5, resolution_code), updated_at = now()
      WHERE id = $1 AND version = $15 RETURNING id),
   act AS (INSERT INTO alarm_actions (alarm_id, user_id, action, from_status, to_status, version, note) SELECT id, $6, $7, $8, $2, $3, $9 FROM upd),
   aud AS (${AUDIT_TRANSITION}),
   box AS (INSERT INTO outbox (kind, key, payload, push) SELECT 'alarm.update', id::text, $14, false FROM upd)
   ${NOTIFY_OUTBOX_SQL} FROM upd`;

/**
 * One operator action on one alarm. The alarm is read, the expected version and the ownership rules
 * (domain/lifecycle.ts) are checked, then ONE statement writes the alarm, `alarm_actions`, `audit_log`
 * and the outbox row (the same AlarmUpdate the processor publishes) and notifies the relay — atomically,
 * and only if the alarm still has the version that was read (every change bumps it). Whoever loses a
 * race finds no row to update and gets a 409 carrying the alarm's current status, version and owner.
 * Two round trips, no lock held between them.
 */
export async function transition(pool: Pool, p: Principal, id: number, t: TransitionInput): Promise<AlarmUpdate> {
  const a = await current(pool, p, id);
  if (a.version !== t.version) throw stale(id, a, t.version);
  const d = decideTransition({ action: t.action, status: a.status, ownerId: a.claimed_by, actorId: p.id, canOverride: can(p.role, 'alarm.takeover') });
  if (!d.ok) {
    if (d.reason === 'owner') throw conflict('E_ALARM_OWNER', `alarm ${id} is ${a.status} by ${a.owner ?? 'nobody'}; only they${t.action === 'takeover' ? '' : ' or a supervisor'} may ${t.action} it`, a);
    if (d.reason === 'self') throw conflict('E_ALARM_CONFLICT', `alarm ${id} is already yours`, a);
    throw conflict('E_ALARM_CONFLICT', `cannot ${t.action} alarm ${id}: it is ${a.status}${a.owner ? ` (owner ${a.owner})` : ''}`, a);
  }
  const owner = d.ownerId === null ? null : d.ownerId === p.id ? p.username : a.owner;
  const next: AlarmRow = { ...a, status: d.to, version: a.version + 1, owner };
  const update = toAlarmUpdate(next, [], Date.now());
  const details = { from: a.status, to: d.to, version: next.version, note: t.note ?? null, resolution_code: t.resolutionCode ?? null, previous_owner: a.owner };
  const { rowCount } = await pool.query(prepared(
    TRANSITION,
    [id, d.to, next.version, d.ownerId, t.resolutionCode ?? null, p.id, t.action, a.status, t.note ?? null, p.username, t.requestId, t.ip, details, update, a.version],
  ));
  if (rowCount === 0) throw stale(id, await current(pool, p, id), t.version);
  return update;
}
