import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alarmCandidates, alarmLookups, decideAlarms, floodBundleKey, planRecords, validateRules,
  type AlarmDecision, type AlarmRow, type NormalizedEvent, type Route,
} from './index.ts';

const rules = validateRules(parse(readFileSync(new URL('../config/alarm-rules.yaml', import.meta.url), 'utf8')));
const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 15, 12, 0);
const WINDOW = 10 * MIN;
const FLOOD = { threshold: 3, windowMs: 10 * MIN };
const normal: Route = { objectId: 1, test: false, service: false, fencing: 0 };

let seq = 0;
function zone(kind: string, zoneNo: number, atMs: number, more: Partial<NormalizedEvent> = {}): NormalizedEvent {
  seq++;
  return {
    eventId: `e${seq}`, dedupKey: `k${seq}`, source: 'satel', kind, objectNumber: zoneNo, panelId: 10, sensorRef: null,
    panelTimeMs: atMs, observedAtMs: atMs, fencing: 1, trace: null, payload: {}, ...more,
  };
}

/** Runs the whole decision over `events` with nothing stored but `open`, as the processor does for one batch. */
function decide(events: NormalizedEvent[], opts: { open?: AlarmRow[]; openedAt?: Map<number, number[]>; route?: Route; windowMs?: number } = {}): AlarmDecision {
  const route = opts.route ?? normal;
  const candidates = alarmCandidates(events.map((event, i) => ({ event, route, recordId: i + 1 })), rules);
  return decideAlarms({ candidates, open: opts.open ?? [], openedAt: opts.openedAt ?? new Map(), bundlingWindowMs: opts.windowMs ?? WINDOW, flood: FLOOD });
}

const counts = (d: AlarmDecision) => d.changes.map((c) => ({ zone: c.alarm.zone, events: c.alarm.event_count, restores: c.alarm.restore_count, version: c.alarm.version, created: c.created }));

describe('the alarm decision', () => {
  it('bundles events of one zone inside the window into one alarm, and opens a new one after it', () => {
    const d = decide([zone('ZONE_VIOLATION', 1, T0), zone('ZONE_VIOLATION', 1, T0 + 2 * MIN), zone('ZONE_VIOLATION', 1, T0 + 13 * MIN)]);
    expect(counts(d)).toEqual([
      { zone: 1, events: 2, restores: 0, version: 2, created: true },
      { zone: 1, events: 1, restores: 0, version: 1, created: true },
    ]);
    expect(d.opened).toBe(2);
  });

  it('measures the bundling window from the alarm\'s last event, so a steady trickle stays one alarm', () => {
    const d = decide([0, 8, 16, 24].map((m) => zone('ZONE_VIOLATION', 2, T0 + m * MIN)));
    expect(counts(d)).toEqual([{ zone: 2, events: 4, restores: 0, version: 4, created: true }]);
  });

  it('a longer bundling window yields fewer alarms from the same events', () => {
    const events = [0, 12, 24].map((m) => zone('ZONE_VIOLATION', 3, T0 + m * MIN));
    expect(decide(events).opened).toBe(3);
    expect(decide(events, { windowMs: 15 * MIN }).opened).toBe(1);
  });

  it('attaches a restore to the open alarm of its zone and bumps its version; a restore with nothing open changes nothing', () => {
    const d = decide([zone('ZONE_ALARM', 4, T0), zone('ZONE_ALARM_RESTORE', 4, T0 + MIN), zone('ZONE_ALARM_RESTORE', 5, T0 + MIN)]);
    expect(counts(d)).toEqual([{ zone: 4, events: 1, restores: 1, version: 2, created: true }]);
    expect(d.links.map((l) => [l.recordId, l.restore])).toEqual([[1, false], [2, true]]);
  });

  it('joins an alarm that is already open in the database without modifying the loaded row', () => {
    const stored: AlarmRow = {
      id: 77, object_id: 1, panel_id: 10, source: 'satel', zone: 6, bundle_key: '', category: 'zone-violation', severity: 'WARNING',
      status: 'CLAIMED', version: 5, title: 'Zone 6 violated', owner: 'anna', event_count: 3, restore_count: 0,
      first_event_at: T0 - 5 * MIN, last_event_at: T0 - MIN, test: false, service: false, flood: false,
    };
    const [c] = alarmCandidates([{ event: zone('ZONE_VIOLATION', 6, T0), route: normal, recordId: 1 }], rules);
    stored.bundle_key = c!.key;
    const d = decideAlarms({ candidates: [c!], open: [stored], openedAt: new Map(), bundlingWindowMs: WINDOW, flood: FLOOD });
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]).toMatchObject({ created: false, alarm: { id: 77, version: 6, event_count: 4, owner: 'anna', status: 'CLAIMED', last_event_at: T0 } });
    expect(stored).toMatchObject({ version: 5, event_count: 3, last_event_at: T0 - MIN });
  });

  it('a closed alarm is not joined: a new one opens', () => {
    const [c] = alarmCandidates([{ event: zone('ZONE_VIOLATION', 6, T0), route: normal, recordId: 1 }], rules);
    const closed = { bundle_key: c!.key, status: 'CLOSED', last_event_at: T0 - MIN } as AlarmRow;
    expect(decideAlarms({ candidates: [c!], open: [closed], openedAt: new Map(), bundlingWindowMs: WINDOW, flood: FLOOD }).opened).toBe(1);
  });

  it('past the flood threshold an object\'s next alarms collapse into one flood alarm that takes the highest severity', () => {
    const d = decide([
      zone('ZONE_VIOLATION', 1, T0), zone('ZONE_VIOLATION', 2, T0 + 1000), zone('ZONE_VIOLATION', 3, T0 + 2000),
      zone('ZONE_VIOLATION', 4, T0 + 3000), zone('ZONE_ALARM', 5, T0 + 4000), zone('ZONE_VIOLATION', 6, T0 + 5000),
    ]);
    const flood = d.changes.filter((c) => c.alarm.flood);
    expect(d.changes.filter((c) => !c.alarm.flood)).toHaveLength(3);
    expect(flood).toHaveLength(1);
    expect(flood[0]!.alarm).toMatchObject({ bundle_key: floodBundleKey(1), category: 'flood', event_count: 3, severity: 'CRITICAL', zone: null });
    expect(d.flooded).toBe(3);
  });

  it('counts alarms the object opened before this batch towards the flood threshold, by event time', () => {
    const earlier = new Map([[1, [T0 - 9 * MIN, T0 - 8 * MIN, T0 - 7 * MIN]]]);
    expect(decide([zone('ZONE_VIOLATION', 9, T0)], { openedAt: earlier }).changes[0]!.alarm.flood).toBe(true);
    const old = new Map([[1, [T0 - 30 * MIN, T0 - 29 * MIN, T0 - 28 * MIN]]]);
    expect(decide([zone('ZONE_VIOLATION', 9, T0)], { openedAt: old }).changes[0]!.alarm.flood).toBe(false);
  });

  it('flags alarms of objects in test or service mode', () => {
    expect(decide([zone('ZONE_ALARM', 1, T0)], { route: { ...normal, test: true } }).changes[0]!.alarm).toMatchObject({ test: true, service: false });
    expect(decide([zone('ZONE_ALARM', 1, T0)], { route: { ...normal, service: true } }).changes[0]!.alarm).toMatchObject({ test: false, service: true });
  });

  it('events that only change live state open nothing', () => {
    expect(alarmCandidates([{ event: zone('PARTITION_ARMED', 1, T0), route: normal, recordId: 1 }], rules)).toEqual([]);
  });

  it('asks for the open alarms of each key plus the objects\' flood keys, and openings since the earliest event minus the flood window', () => {
    const c = alarmCandidates([zone('ZONE_VIOLATION', 1, T0 + MIN), zone('ZONE_VIOLATION', 2, T0)].map((event, i) => ({ event, route: normal, recordId: i })), rules);
    const l = alarmLookups(c, FLOOD);
    expect(l.bundleKeys).toEqual([c[0]!.key, c[1]!.key, floodBundleKey(1)]);
    expect(l).toMatchObject({ objectIds: [1], openedSinceMs: T0 - FLOOD.windowMs });
  });
});

describe('recording: fencing and duplicates', () => {
  const route = (fencing: number) => (): Route => ({ ...normal, fencing });

  it('an event from a driver with an older fencing number than stored is stale', () => {
    const plan = planRecords([zone('ZONE_ALARM', 1, T0, { fencing: 6 }), zone('ZONE_ALARM', 2, T0, { fencing: 7 })], route(7));
    expect(plan.stale).toEqual([true, false]);
    expect(plan.raisedFencing).toEqual([]);
  });

  it('a higher fencing number in the batch makes later, older ones stale and is raised', () => {
    const plan = planRecords([zone('ZONE_ALARM', 1, T0, { fencing: 9 }), zone('ZONE_ALARM', 2, T0, { fencing: 8 })], route(7));
    expect(plan.stale).toEqual([false, true]);
    expect(plan.raisedFencing).toEqual([[10, 9]]);
  });

  it('records one event per dedup_key, preferring a current copy over a stale one', () => {
    const stale = zone('ZONE_ALARM', 4, T0, { fencing: 8, dedupKey: 'same' });
    const current = { ...stale, eventId: 'other', fencing: 10 };
    const plan = planRecords([stale, current, { ...current }], route(9));
    expect(plan.picked).toEqual([1]);
    expect(plan.stale).toEqual([true, false, false]);
  });

  it('events of unknown panels are never stale (they are recorded without an alarm)', () => {
    expect(planRecords([zone('ZONE_ALARM', 1, T0, { fencing: 0 })], () => undefined).stale).toEqual([false]);
  });
});

describe('the alarm decision for SMS (the same rules as for panels)', () => {
  const sms = (kind: string, sensorRef: string, atMs: number): NormalizedEvent => {
    seq++;
    return {
      eventId: `s${seq}`, dedupKey: `sms${seq}`, source: 'sms', kind, objectNumber: 0, panelId: null, sensorRef,
      panelTimeMs: atMs, observedAtMs: atMs, fencing: 0, trace: null, payload: {},
    };
  };
  const view = (d: AlarmDecision) => d.changes.map((c) => ({ title: c.alarm.title, severity: c.alarm.severity, events: c.alarm.event_count, restores: c.alarm.restore_count }));

  it('temperature alarms bundle per sensor and each sensor\'s restore restores its own alarm', () => {
    const d = decide([
      sms('TEMPERATURE_ALARM', 'EF-1', T0), sms('TEMPERATURE_ALARM', 'EF-2', T0 + MIN), sms('TEMPERATURE_ALARM', 'EF-1', T0 + 2 * MIN),
      sms('TEMPERATURE_RESTORE', 'EF-1', T0 + 3 * MIN),
    ]);
    expect(view(d)).toEqual([
      { title: 'Temperature alarm EF-1', severity: 'CRITICAL', events: 2, restores: 1 },
      { title: 'Temperature alarm EF-2', severity: 'CRITICAL', events: 1, restores: 0 },
    ]);
  });

  it('an unrecognised SMS is a WARNING alarm of its own beside the sensor\'s temperature alarm; a restore with nothing open changes nothing', () => {
    const d = decide([sms('TEMPERATURE_RESTORE', 'EF-3', T0), sms('TEMPERATURE_ALARM', 'EF-3', T0 + MIN), sms('UNCLASSIFIED', 'EF-3', T0 + 2 * MIN)]);
    expect(view(d)).toEqual([
      { title: 'Temperature alarm EF-3', severity: 'CRITICAL', events: 1, restores: 0 },
      { title: 'Unrecognised SMS (EF-3)', severity: 'WARNING', events: 1, restores: 0 },
    ]);
  });

  it('the modem down is a CRITICAL alarm, restored by MODEM_RESTORED; a battery replaced restores low battery', () => {
    const d = decide([sms('MODEM_DOWN', 'modem', T0), sms('MODEM_RESTORED', 'modem', T0 + MIN), sms('LOW_BATTERY', 'BL-1', T0), sms('BATTERY_RESTORED', 'BL-1', T0 + MIN)]);
    expect(view(d)).toEqual([
      { title: 'GSM modem down', severity: 'CRITICAL', events: 1, restores: 1 },
      { title: 'Sensor battery low BL-1', severity: 'WARNING', events: 1, restores: 1 },
    ]);
  });
});
