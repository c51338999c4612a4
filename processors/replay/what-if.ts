import {
  alarmCandidates, alarmLookups, decideAlarms, planRecords,
  type AlarmRow, type FloodPolicy, type NormalizedEvent, type Route, type Rule,
} from '../../domain/index.ts';

/** What the alarm decision would have made of the replayed events: counts an analyst compares. */
export interface WhatIfTally {
  events: number;
  recorded: number;
  duplicates: number;
  stale: number;
  unrouted: number;
  alarms: number;
  floods: number;
  /** Events a flood alarm absorbed instead of opening alarms of their own. */
  flooded: number;
  byCategory: Record<string, number>;
  /** Object id → alarms opened. */
  byObject: Record<string, number>;
}

export interface WhatIfPolicy { rules: readonly Rule[]; bundlingWindowMs: number; flood: FloodPolicy }

export interface Routes { panels: ReadonlyMap<number, Omit<Route, 'fencing'>>; sensors: ReadonlyMap<string, Omit<Route, 'fencing'>> }

/** Events may arrive this much out of time order across partitions; state older than that plus the windows is forgotten. */
const SLACK_MS = 3_600_000;

/**
 * The processor's decision (domain/decide.ts) run in memory over a stream of events: the same recording
 * (duplicates, stale fencing), the same classification, bundling and flood rules, with the database's part
 * played by maps. It starts with nothing open (alarms opened before the range are not known), and no
 * operator closes an alarm during the replay: an open alarm is joined while its last event is within the
 * bundling window, as the processor joins one nobody closed yet.
 */
export function createWhatIf(policy: WhatIfPolicy, routes: Routes) {
  const recorded = new Map<string, boolean>(); // dedup_key → recorded as stale
  const open = new Map<string, AlarmRow>();
  const openedAt = new Map<number, number[]>();
  const tally: WhatIfTally = { events: 0, recorded: 0, duplicates: 0, stale: 0, unrouted: 0, alarms: 0, floods: 0, flooded: 0, byCategory: {}, byObject: {} };
  let nextId = 1;
  let watermark = 0;
  let forgotAt = 0;
  const horizon = Math.max(policy.bundlingWindowMs, policy.flood.windowMs) + SLACK_MS;

  // One route object per panel and sensor, whose fencing number rises as the stream raises it (no allocation per event).
  const panelRoutes = new Map<number, Route>([...routes.panels].map(([id, r]) => [id, { ...r, fencing: 0 }]));
  const sensorRoutes = new Map<string, Route>([...routes.sensors].map(([id, r]) => [id, { ...r, fencing: 0 }]));
  // As the processor: an SMS no sensor claims goes to the catch-all sensor '*' (the unknown-senders object).
  const unclaimed = sensorRoutes.get('*');
  const routeOf = (e: NormalizedEvent): Route | undefined =>
    (e.panelId !== null ? panelRoutes.get(e.panelId) : e.sensorRef !== null ? sensorRoutes.get(e.sensorRef) ?? unclaimed : undefined);

  function forget(): void {
    const before = watermark - horizon;
    for (const [k, a] of open) if (a.last_event_at < before) open.delete(k);
    for (const [o, ts] of openedAt) {
      const kept = ts.filter((t) => t >= before);
      if (kept.length > 0) openedAt.set(o, kept); else openedAt.delete(o);
    }
  }

  return {
    tally,
    /** Applies one partition chunk of events, in order, as the processor applies one transaction. */
    apply(events: readonly NormalizedEvent[]): void {
      if (events.length === 0) return;
      tally.events += events.length;
      const plan = planRecords(events, routeOf);
      for (const [panel, f] of plan.raisedFencing) { const r = panelRoutes.get(panel); if (r) r.fencing = f; }
      const fresh: { event: NormalizedEvent; route: Route; recordId: number }[] = [];
      let recordedNow = 0;
      for (const i of plan.picked) {
        const e = events[i]!;
        const stale = plan.stale[i]!;
        const was = recorded.get(e.dedupKey);
        // As `ON CONFLICT (dedup_key) DO UPDATE … WHERE events.stale AND NOT EXCLUDED.stale`: new, or a stale copy upgraded.
        if (was === undefined || (was && !stale)) recorded.set(e.dedupKey, stale); else continue;
        tally.recorded++;
        recordedNow++;
        if (stale) { tally.stale++; continue; }
        const route = routeOf(e);
        if (!route) { tally.unrouted++; continue; }
        fresh.push({ event: e, route, recordId: tally.recorded });
        watermark = Math.max(watermark, e.observedAtMs);
      }
      // A dedup_key repeated in the batch, or recorded by an earlier one, counts once.
      tally.duplicates += events.length - recordedNow;
      const candidates = alarmCandidates(fresh, policy.rules);
      if (candidates.length === 0) return;
      const lookups = alarmLookups(candidates, policy.flood);
      const rows = lookups.bundleKeys.map((k) => open.get(k)).filter((a): a is AlarmRow => a !== undefined);
      // As the processor's query: the openings of these objects since the earliest event minus the flood window.
      const recent = new Map<number, number[]>();
      for (const o of lookups.objectIds) {
        const ts = openedAt.get(o);
        if (ts) recent.set(o, ts.filter((t) => t >= lookups.openedSinceMs));
      }
      const decision = decideAlarms({ candidates, open: rows, openedAt: recent, bundlingWindowMs: policy.bundlingWindowMs, flood: policy.flood });
      for (const { alarm, created } of decision.changes) {
        if (created) {
          alarm.id = nextId++;
          tally.alarms++;
          tally.byCategory[alarm.category] = (tally.byCategory[alarm.category] ?? 0) + 1;
          tally.byObject[alarm.object_id] = (tally.byObject[alarm.object_id] ?? 0) + 1;
          if (alarm.flood) tally.floods++;
          else {
            const ts = openedAt.get(alarm.object_id);
            if (ts) ts.push(alarm.first_event_at); else openedAt.set(alarm.object_id, [alarm.first_event_at]);
          }
        }
        open.set(alarm.bundle_key, alarm);
      }
      tally.flooded += decision.flooded;
      if (watermark - forgotAt > horizon / 4) { forget(); forgotAt = watermark; }
    },
  };
}

export type WhatIf = ReturnType<typeof createWhatIf>;
