import type { AlarmRow } from './alarm.ts';
import { bundleKey, joinsAlarm } from './bundling.ts';
import { classify, type Rule } from './classify.ts';
import type { NormalizedEvent } from './events.ts';
import { floodBundleKey, isFlood, maxSeverity, type FloodPolicy } from './floods.ts';
import type { Classification } from './types.ts';

/**
 * The alarm decision, pure: which events are recorded and which are stale, then for the recorded ones
 * whether each restores, joins, floods or opens an alarm. The processor loads what the decision needs,
 * calls it and writes the outcome; replay runs the same functions over the same events in memory, so a
 * what-if and the live pipeline can only differ by their inputs.
 */

/** Where an event belongs: its object, the object's modes, and (panels) the highest fencing number seen. */
export interface Route { objectId: number; test: boolean; service: boolean; fencing: number }

export interface RecordPlan {
  /** Indices of the events to record, one per dedup_key, in arrival order. */
  picked: number[];
  /** Per event: sent by a driver whose lease was taken over — recorded, but it changes nothing live. */
  stale: boolean[];
  /** Panels whose fencing number this batch raises, with the new number. */
  raisedFencing: [panelId: number, fencing: number][];
}

/**
 * Fencing and in-batch deduplication. An event whose fencing number is below the highest one seen for its
 * panel (stored, or earlier in the batch) is stale. One event per dedup_key is recorded, preferring a copy
 * with a current fencing number: a record first stored as stale (from a driver that had lost its lease)
 * must be upgraded when the lease holder's copy arrives, or the event would never reach an alarm.
 */
export function planRecords(events: readonly NormalizedEvent[], routeOf: (e: NormalizedEvent) => Route | undefined): RecordPlan {
  const maxFencing = new Map<number, number>();
  const storedFencing = new Map<number, number>();
  const stale = events.map((e) => {
    const r = routeOf(e);
    if (!r || e.panelId === null) return false;
    storedFencing.set(e.panelId, r.fencing);
    const seen = Math.max(r.fencing, maxFencing.get(e.panelId) ?? 0);
    if (e.fencing < seen) return true;
    maxFencing.set(e.panelId, e.fencing);
    return false;
  });
  const firstByKey = new Map<string, number>();
  events.forEach((e, i) => {
    const j = firstByKey.get(e.dedupKey);
    if (j === undefined || (stale[j] && !stale[i])) firstByKey.set(e.dedupKey, i);
  });
  const picked = [...firstByKey.values()].sort((a, b) => a - b);
  const raisedFencing = [...maxFencing].filter(([panelId, f]) => f > (storedFencing.get(panelId) ?? 0));
  return { picked, stale, raisedFencing };
}

/** A recorded, routed, current event that may change an alarm. `recordId` is its row in `events`. */
export interface AlarmCandidate {
  event: NormalizedEvent;
  route: Route;
  recordId: number;
  classification: Classification;
  /** The open alarm this event would join (bundling.ts). */
  key: string;
}

/** Classifies recorded events; those whose effect is only live state drop out here. */
export function alarmCandidates(recorded: readonly { event: NormalizedEvent; route: Route; recordId: number }[], rules: readonly Rule[]): AlarmCandidate[] {
  const out: AlarmCandidate[] = [];
  for (const r of recorded) {
    const classification = classify(r.event, rules);
    if (classification.effect === 'state') continue;
    out.push({ event: r.event, route: r.route, recordId: r.recordId, classification, key: bundleKey(r.route.objectId, r.event, classification) });
  }
  return out;
}

export interface AlarmLookups {
  /** Open alarms of these bundle keys (the candidates' and their objects' flood keys). */
  bundleKeys: string[];
  objectIds: number[];
  /** Non-flood alarms of those objects opened since this time (epoch ms), for the flood rule. */
  openedSinceMs: number;
}

/** What the decision needs loaded for these candidates. Event time, not wall time, so replay decides the same. */
export function alarmLookups(candidates: readonly AlarmCandidate[], flood: FloodPolicy): AlarmLookups {
  const objects = new Set<number>();
  const keys = new Set<string>();
  let earliest = Infinity;
  for (const c of candidates) {
    objects.add(c.route.objectId);
    keys.add(c.key);
    if (c.event.observedAtMs < earliest) earliest = c.event.observedAtMs;
  }
  const objectIds = [...objects];
  for (const o of objectIds) keys.add(floodBundleKey(o));
  return { bundleKeys: [...keys], objectIds, openedSinceMs: earliest - flood.windowMs };
}

export interface AlarmDecisionInput {
  candidates: readonly AlarmCandidate[];
  /** Open alarms (NEW, CLAIMED, ACKNOWLEDGED) of the looked-up keys; of several with one key, the latest is used. Not modified. */
  open: readonly AlarmRow[];
  /** When each object's recent non-flood alarms opened (first_event_at, epoch ms). Not modified. */
  openedAt: ReadonlyMap<number, readonly number[]>;
  bundlingWindowMs: number;
  flood: FloodPolicy;
}

/** One alarm this decision opens or changes: its new state and the events applied to it. */
export interface AlarmChange { alarm: AlarmRow; created: boolean; applied: NormalizedEvent[] }
export interface AlarmLink { alarm: AlarmRow; recordId: number; restore: boolean }

export interface AlarmDecision {
  /** In the order the alarms were first touched. Created alarms have id 0 until the caller assigns one. */
  changes: AlarmChange[];
  /** alarm_events rows: which event went to which alarm. */
  links: AlarmLink[];
  opened: number;
  /** Events absorbed by a flood alarm. */
  flooded: number;
}

/**
 * Per candidate, in order: a restore attaches to the matching open alarm (or changes nothing when none is
 * open); an event joins the open alarm of its key when that alarm's last event is within the bundling
 * window; otherwise, when the object already opened `flood.threshold` alarms within the flood window, the
 * object's flood alarm absorbs it (raising its severity); otherwise a new alarm opens, flagged test or
 * service from the object's mode. Every applied event bumps the alarm's version.
 */
export function decideAlarms(input: AlarmDecisionInput): AlarmDecision {
  const { flood } = input;
  const byKey = new Map<string, AlarmRow>();
  for (const a of input.open) {
    const prev = byKey.get(a.bundle_key);
    if (!prev || a.last_event_at >= prev.last_event_at) byKey.set(a.bundle_key, a);
  }
  for (const [k, a] of byKey) byKey.set(k, { ...a });
  // The openings this decision adds, on a copy of each touched object's list (the input stays as it was).
  const openedAt = new Map<number, number[]>();
  const openingsOf = (objectId: number): number[] => {
    let list = openedAt.get(objectId);
    if (!list) openedAt.set(objectId, (list = [...(input.openedAt.get(objectId) ?? [])]));
    return list;
  };

  const changes = new Map<AlarmRow, AlarmChange>();
  const links: AlarmLink[] = [];
  const decision: AlarmDecision = { changes: [], links, opened: 0, flooded: 0 };

  const open = (key: string, c: AlarmCandidate, cls: Pick<Classification, 'category' | 'severity' | 'title'>, isFloodAlarm: boolean): AlarmRow => {
    const e = c.event;
    const alarm: AlarmRow = {
      id: 0, object_id: c.route.objectId, panel_id: e.panelId, source: e.source, zone: e.source === 'satel' && !isFloodAlarm ? e.objectNumber : null,
      bundle_key: key, category: cls.category, severity: cls.severity, status: 'NEW', version: 0, title: cls.title, owner: null,
      event_count: 1, restore_count: 0, first_event_at: e.observedAtMs, last_event_at: e.observedAtMs,
      test: c.route.test, service: c.route.service, flood: isFloodAlarm,
    };
    byKey.set(key, alarm);
    changes.set(alarm, { alarm, created: true, applied: [] });
    decision.opened++;
    return alarm;
  };
  const join = (alarm: AlarmRow, atMs: number) => {
    alarm.event_count++;
    alarm.last_event_at = Math.max(alarm.last_event_at, atMs);
  };
  const within = (alarm: AlarmRow | undefined, atMs: number, windowMs: number) =>
    joinsAlarm(alarm && { status: alarm.status, lastEventAtMs: alarm.last_event_at }, atMs, windowMs);

  for (const c of input.candidates) {
    const { event: e, classification: cls } = c;
    let alarm = byKey.get(c.key);
    if (cls.effect === 'restore') {
      if (!alarm) continue; // nothing open to restore: the event is recorded, no alarm changes
      alarm.restore_count++;
    } else if (alarm && within(alarm, e.observedAtMs, input.bundlingWindowMs)) {
      join(alarm, e.observedAtMs);
    } else if (isFlood(openingsOf(c.route.objectId), e.observedAtMs, flood)) {
      const fk = floodBundleKey(c.route.objectId);
      alarm = byKey.get(fk);
      if (alarm && within(alarm, e.observedAtMs, flood.windowMs)) {
        join(alarm, e.observedAtMs);
        alarm.severity = maxSeverity(alarm.severity, cls.severity);
      } else {
        const title = `Alarm flood: more than ${flood.threshold} alarms in ${Math.round(flood.windowMs / 60_000)} min`;
        alarm = open(fk, c, { category: 'flood', severity: cls.severity, title }, true);
      }
      decision.flooded++;
    } else {
      alarm = open(c.key, c, cls, false);
      openingsOf(c.route.objectId).push(e.observedAtMs);
    }
    alarm.version++;
    const change = changes.get(alarm) ?? { alarm, created: false, applied: [] };
    change.applied.push(e);
    changes.set(alarm, change);
    links.push({ alarm, recordId: c.recordId, restore: cls.effect === 'restore' });
  }
  decision.changes = [...changes.values()];
  return decision;
}
