/** The alarm as the stream carries it (AlarmUpdate, schemas/AlarmUpdate.avsc), keyed by alarm_id. */
export interface Alarm {
  alarm_id: number; version: number; object_id: number; panel_id: number | null; source: string; zone: number | null;
  category: string; severity: string; status: string; owner: string | null; event_count: number; restore_count: number;
  first_event_at: number; last_event_at: number; test: boolean; service: boolean; flood: boolean; title: string;
}

export const OPEN = ['NEW', 'CLAIMED', 'ACKNOWLEDGED'];
const RANK: Record<string, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };

export interface QueueFilter { mine: boolean; objectId: number | null; category: string | null; showTest: boolean }

/** Severity first (CRITICAL on top), then the longest waiting; an operator's own RESOLVED alarms stay until closed. */
export function visibleQueue(alarms: Iterable<Alarm>, f: QueueFilter, me: string | null): Alarm[] {
  const rows: Alarm[] = [];
  for (const a of alarms) {
    if (!(OPEN.includes(a.status) || (a.status === 'RESOLVED' && a.owner === me))) continue;
    if (!f.showTest && (a.test || a.service)) continue;
    if (f.mine && a.owner !== me) continue;
    if (f.objectId !== null && a.object_id !== f.objectId) continue;
    if (f.category !== null && a.category !== f.category) continue;
    rows.push(a);
  }
  return rows.sort((a, b) => (RANK[a.severity] ?? 9) - (RANK[b.severity] ?? 9) || a.first_event_at - b.first_event_at || a.alarm_id - b.alarm_id);
}

/** Newer versions only: a repeated or older update never overwrites what is on screen. */
export function applyUpdate(map: Map<number, Alarm>, u: Alarm): boolean {
  const prev = map.get(u.alarm_id);
  if (prev && prev.version >= u.version) return false;
  map.set(u.alarm_id, u);
  return true;
}

export type Act = 'claim' | 'release' | 'ack' | 'resolve' | 'close' | 'takeover';

/** What this user may do with the alarm now (the API decides; this only offers what it would accept). */
export function actionsFor(a: Alarm, me: { username: string; role: string } | null): Act[] {
  if (!me || !['ADMIN', 'SUPERVISOR', 'OPERATOR'].includes(me.role)) return [];
  const mine = a.owner === me.username;
  const sup = me.role !== 'OPERATOR';
  if (a.status === 'NEW') return ['claim'];
  if (a.status === 'CLAIMED') return mine ? ['ack', 'release'] : sup ? ['takeover'] : [];
  if (a.status === 'ACKNOWLEDGED') return mine ? ['resolve'] : sup ? ['takeover'] : [];
  if (a.status === 'RESOLVED') return mine || sup ? ['close'] : [];
  return [];
}

/** Panel commands the console offers (a unit test checks each against the API's list). */
export const PANEL_ACTIONS = ['arm', 'force_arm', 'disarm', 'clear_alarm'] as const;
export const RESOLUTION_CODES = ['FALSE_ALARM', 'REAL_ALARM', 'TECHNICAL', 'TEST'] as const;
