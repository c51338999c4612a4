import { auditInsertSelect, type Pool, type PoolClient } from '../../platform/index.ts';
import type { AlarmContext } from './message.ts';

/** A device the recipient rules name for an alarm. */
export interface Recipient { deviceId: number; userId: number; token: string }

/** A device claimed for a send in this attempt. */
export interface Claimed extends Recipient { firstAttemptMs: number; attempts: number }

export type SendOutcome = 'accepted' | 'token_removed' | 'quarantined' | 'rejected' | 'pending';

export interface DeviceResult { deviceId: number; outcome: SendOutcome; name?: string; error?: string }

const ACTOR = `'system:notifier'`;

/** The alarm and its object as they are now (the mode may have changed since the job was queued). */
export async function alarmContext(db: Pool | PoolClient, alarmId: number): Promise<AlarmContext | undefined> {
  const { rows } = await db.query<AlarmContext>(
    `SELECT a.id AS "alarmId", a.status, a.severity, a.title, a.category, a.zone, a.object_id AS "objectId", o.code AS "objectCode",
            o.name AS "objectName", o.address AS "objectAddress", o.service_mode_active AS "serviceMode", o.test_mode AS "testMode",
            (extract(epoch FROM a.created_at) * 1000)::float8 AS "openedMs", (extract(epoch FROM a.first_event_at) * 1000)::float8 AS "firstEventMs"
       FROM alarms a JOIN objects o ON o.id = a.object_id WHERE a.id = $1`,
    [alarmId],
  );
  return rows[0];
}

/**
 * The devices the enabled rules of push_recipient_rules name for an object: users of the rule's role who
 * are assigned to the object, on duty now, or all of them; never disabled users or quarantined devices.
 */
export async function recipients(db: Pool | PoolClient, objectId: number): Promise<Recipient[]> {
  const { rows } = await db.query<Recipient>(
    `SELECT DISTINCT d.id AS "deviceId", d.user_id AS "userId", d.fcm_token AS token
       FROM push_recipient_rules r
       JOIN users u ON u.role = r.role AND NOT u.disabled
       JOIN user_devices d ON d.user_id = u.id AND d.quarantined_at IS NULL
      WHERE r.enabled AND (
            r.audience = 'all'
         OR (r.audience = 'assigned' AND EXISTS (SELECT 1 FROM user_objects uo WHERE uo.user_id = u.id AND uo.object_id = $1))
         OR (r.audience = 'on_duty' AND u.on_duty_until > now()))
      ORDER BY d.id`,
    [objectId],
  );
  return rows;
}

/**
 * Claims the sends of this attempt in the caller's transaction: a row per device that has none, or whose
 * row is still pending (or was dead-lettered: a replayed job starts over). The rows stay locked until the
 * caller commits, so a second copy of the job waits here and then finds them sent. Devices already sent
 * (or settled otherwise) are not returned: one notification per alarm opening per device.
 */
export async function claimSends(db: PoolClient, alarmId: number, devices: Recipient[]): Promise<Claimed[]> {
  if (devices.length === 0) return [];
  const { rows } = await db.query<{ device_id: number; first_ms: number; attempts: number }>(
    `INSERT INTO push_sends AS s (alarm_id, device_id, user_id)
     SELECT $1, t.d, t.u FROM unnest($2::bigint[], $3::bigint[]) AS t(d, u)
     ON CONFLICT (alarm_id, device_id) DO UPDATE
        SET attempts = CASE WHEN s.outcome = 'dead_lettered' THEN 1 ELSE s.attempts + 1 END,
            first_attempt_at = CASE WHEN s.outcome = 'dead_lettered' THEN now() ELSE s.first_attempt_at END,
            last_attempt_at = now(), outcome = 'pending', user_id = EXCLUDED.user_id
      WHERE s.outcome IN ('pending', 'dead_lettered')
     RETURNING device_id, (extract(epoch FROM first_attempt_at) * 1000)::float8 AS first_ms, attempts`,
    [alarmId, devices.map((d) => d.deviceId), devices.map((d) => d.userId)],
  );
  const byId = new Map(devices.map((d) => [d.deviceId, d]));
  return rows.map((r) => ({ ...byId.get(r.device_id)!, firstAttemptMs: r.first_ms, attempts: r.attempts }));
}

/** Writes what FCM answered for each device of the attempt. */
export async function recordResults(db: PoolClient, alarmId: number, results: DeviceResult[]): Promise<void> {
  if (results.length === 0) return;
  await db.query(
    `UPDATE push_sends s SET outcome = t.outcome, fcm_message_name = t.name, last_error = t.error,
            accepted_at = CASE WHEN t.outcome = 'accepted' THEN now() END
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS t(device_id, outcome, name, error)
      WHERE s.alarm_id = $1 AND s.device_id = t.device_id`,
    [alarmId, results.map((r) => r.deviceId), results.map((r) => r.outcome), results.map((r) => r.name ?? null), results.map((r) => r.error?.slice(0, 2000) ?? null)],
  );
}

const AUDIT_REMOVED = auditInsertSelect({
  username: ACTOR, action: `'device.unregistered'`, targetType: `'user_device'`, targetId: 'id::text',
  details: `jsonb_build_object('user_id', user_id, 'platform', platform, 'reason', $2::text, 'alarm_id', $3::bigint)`,
}, 'gone');

/** Deletes devices whose token FCM calls unregistered or invalid, with an audit row each. */
export async function removeDevices(db: PoolClient, deviceIds: number[], reason: string, alarmId: number): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `WITH gone AS (DELETE FROM user_devices WHERE id = ANY($1::bigint[]) RETURNING id, user_id, platform) ${AUDIT_REMOVED}`,
    [deviceIds, reason.slice(0, 500), alarmId],
  );
  return rowCount ?? 0;
}

const AUDIT_QUARANTINED = auditInsertSelect({
  username: ACTOR, action: `'device.quarantined'`, targetType: `'user_device'`, targetId: 'id::text',
  details: `jsonb_build_object('user_id', user_id, 'reason', $2::text, 'alarm_id', $3::bigint)`,
}, 'q');

/** Stops sending to devices whose token belongs to another Firebase project (SENDER_ID_MISMATCH), audited. */
export async function quarantineDevices(db: PoolClient, deviceIds: number[], reason: string, alarmId: number): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `WITH q AS (UPDATE user_devices SET quarantined_at = now(), quarantine_reason = $2, updated_at = now()
                 WHERE id = ANY($1::bigint[]) AND quarantined_at IS NULL RETURNING id, user_id) ${AUDIT_QUARANTINED}`,
    [deviceIds, reason.slice(0, 500), alarmId],
  );
  return rowCount ?? 0;
}

/** Marks the still-pending sends of a dead-lettered job, so a replay of the job starts their deadline over. */
export async function markDeadLettered(db: Pool | PoolClient, alarmId: number, reason: string): Promise<void> {
  await db.query(`UPDATE push_sends SET outcome = 'dead_lettered', last_error = $2 WHERE alarm_id = $1 AND outcome = 'pending'`, [alarmId, reason.slice(0, 2000)]);
}

const AUDIT_PRUNED = auditInsertSelect({
  username: ACTOR, action: `'device.pruned'`, targetType: `'user_device'`, targetId: 'id::text',
  details: `jsonb_build_object('user_id', user_id, 'last_seen_at', last_seen_at, 'stale_days', $1::int)`,
}, 'old');

/** Deletes tokens not registered or refreshed for `days` (FCM's staleness rule), audited; returns how many. */
export async function pruneStaleDevices(db: Pool | PoolClient, days: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH old AS (DELETE FROM user_devices WHERE last_seen_at < now() - make_interval(days => $1) RETURNING id, user_id, last_seen_at) ${AUDIT_PRUNED}`,
    [days],
  );
  return rowCount ?? 0;
}
