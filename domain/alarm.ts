import type { AlarmUpdate } from '../schemas/index.ts';
import type { NormalizedEvent } from './events.ts';
import type { AlarmStatus, Severity } from './types.ts';

/**
 * An alarm as the processor decides on it and as every publisher of `alarm.updates.v1` sees it: the
 * processor when events change it, the gateway when an operator does. Times are epoch milliseconds.
 */
export interface AlarmRow {
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

/**
 * The SELECT list that reads an `alarms a` row as an AlarmRow. The owner is a scalar subquery, evaluated
 * after the row lock: a join would keep the user row read before waiting on an operator's claim (PostgreSQL
 * re-reads the locked row, not joined rows) and publish a claimed alarm with no owner.
 */
export const ALARM_ROW_COLUMNS = `a.id, a.object_id, a.panel_id, a.source, a.zone, a.bundle_key, a.category, a.severity, a.status, a.version,
  a.title, (SELECT u.username FROM users u WHERE u.id = a.claimed_by) AS owner, a.event_count, a.restore_count,
  (extract(epoch from a.first_event_at) * 1000)::float8 AS first_event_at,
  (extract(epoch from a.last_event_at) * 1000)::float8 AS last_event_at, a.test, a.service, a.flood`;

/** The update published for one version of an alarm, with the events applied in that version. */
export function toAlarmUpdate(a: AlarmRow, applied: readonly NormalizedEvent[], nowMs: number): AlarmUpdate {
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

/** Push a CRITICAL alarm once, when it opens (a flood alarm too), unless the object is in test or service mode. */
export function shouldPush(u: Pick<AlarmUpdate, 'severity' | 'test' | 'service'>, created: boolean): boolean {
  return created && u.severity === 'CRITICAL' && !u.test && !u.service;
}
