/**
 * The arithmetic of a load run, as pure functions: which generated event reached which operator client,
 * how often, and how late. `matchPipelineEvents` resolves pipeline events (PostgreSQL rows) to the
 * simulator's traces when the event itself does not carry its trace; `account` turns sent events and
 * WebSocket arrivals into sent / received / lost / duplicated and latency samples.
 */

/** One event the simulator generated: its trace id and send time, where it happened. */
export interface SentEvent {
  id: string;
  sentAtMs: number;
  /** Simulator panel number (1-based). */
  panel: number;
  action: string;
  zone?: number;
  /** Index of the event-log record the action wrote. */
  logIndex?: number;
}

/** One applied event inside one WebSocket message, as one client saw it. */
export interface Arrival {
  client: number;
  eventId: string;
  /** The trace the event carried, or the one matching resolved for it; null when unknown. */
  traceId: string | null;
  atMs: number;
}

export interface Accounting {
  sent: number;
  /** Sent events that reached every client. */
  received: number;
  /** sent − received. */
  lost: number;
  /** Lost events no client saw at all. */
  lostEverywhere: number;
  /** Lost events some clients saw and others did not. */
  lostOnSomeClients: number;
  /** Sent events that some client saw more than once (whatever the cause). */
  duplicated: number;
  /** …of which the pipeline turned one physical event into several events (several event ids). */
  duplicateEvents: number;
  /** …of which the same event reached a client more than once (a republished update). */
  redelivered: number;
  /** Distinct event ids that arrived but belong to no sent event (earlier runs, untraced, unmatched). */
  unexpected: number;
  /** First arrival − send time, one sample per (event, client) that saw it. */
  latenciesMs: number[];
  /** Earliest arrival at any client, per event that reached at least one. */
  firstArrivalMs: Map<string, number>;
  lostIds: string[];
  duplicatedIds: string[];
}

interface Seen {
  first: number[];
  count: number[];
  ids: Array<Set<string>>;
}

export function account(sent: readonly SentEvent[], arrivals: Iterable<Arrival>, clients: number): Accounting {
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`clients must be a positive integer, got ${clients}`);
  const sentById = new Map<string, SentEvent>();
  for (const s of sent) sentById.set(s.id, s);
  const seen = new Map<string, Seen>();
  const unexpected = new Set<string>();

  for (const a of arrivals) {
    if (a.client < 0 || a.client >= clients) throw new RangeError(`arrival for client ${a.client} outside 0..${clients - 1}`);
    if (a.traceId === null || !sentById.has(a.traceId)) {
      unexpected.add(a.eventId);
      continue;
    }
    let s = seen.get(a.traceId);
    if (!s) {
      s = { first: new Array<number>(clients).fill(Number.NaN), count: new Array<number>(clients).fill(0), ids: Array.from({ length: clients }, () => new Set<string>()) };
      seen.set(a.traceId, s);
    }
    const f = s.first[a.client]!;
    if (Number.isNaN(f) || a.atMs < f) s.first[a.client] = a.atMs;
    s.count[a.client]!++;
    s.ids[a.client]!.add(a.eventId);
  }

  const out: Accounting = {
    sent: sentById.size, received: 0, lost: 0, lostEverywhere: 0, lostOnSomeClients: 0, duplicated: 0, duplicateEvents: 0,
    redelivered: 0, unexpected: unexpected.size, latenciesMs: [], firstArrivalMs: new Map(), lostIds: [], duplicatedIds: [],
  };
  for (const [id, ev] of sentById) {
    const s = seen.get(id);
    if (!s) {
      out.lost++;
      out.lostEverywhere++;
      out.lostIds.push(id);
      continue;
    }
    let everyClient = true;
    let earliest = Number.POSITIVE_INFINITY;
    for (let c = 0; c < clients; c++) {
      const f = s.first[c]!;
      if (Number.isNaN(f)) { everyClient = false; continue; }
      out.latenciesMs.push(f - ev.sentAtMs);
      earliest = Math.min(earliest, f);
    }
    out.firstArrivalMs.set(id, earliest);
    if (everyClient) out.received++;
    else { out.lost++; out.lostOnSomeClients++; out.lostIds.push(id); }

    const distinct = new Set<string>();
    for (const ids of s.ids) for (const e of ids) distinct.add(e);
    const twice = s.count.some((n) => n > 1);
    if (twice) { out.duplicated++; out.duplicatedIds.push(id); }
    if (distinct.size > 1) out.duplicateEvents++;
    if (s.count.some((n, c) => n > s.ids[c]!.size)) out.redelivered++;
  }
  return out;
}

/** An event as the pipeline recorded it (an `events` row), for resolving it to a sent event. */
export interface PipelineEvent {
  eventId: string;
  /** Simulator panel number, or null when the row's panel is no simulator panel. */
  panel: number | null;
  kind: string;
  zone: number;
  /** Panel event-log index when the event is a log record. */
  logIndex: number | null;
  observedAtMs: number;
  traceId: string | null;
}

export interface Matching {
  /** Pipeline event id → trace id of the sent event it stands for. */
  traceOf: Map<string, string>;
  byTrace: number;
  byLogIndex: number;
  /** Resolved by panel, zone and kind (see matchPipelineEvents). */
  inferred: number;
  unmatched: number;
}

/** Which simulator action a state-change kind reports (violations of an armed zone show as alarms). */
const ACTION_OF_KIND: Readonly<Record<string, string>> = {
  ZONE_VIOLATION: 'violate', ZONE_ALARM: 'violate', ZONE_RESTORE: 'restore', ZONE_ALARM_RESTORE: 'restore', ZONE_TAMPER: 'tamper',
};

/**
 * Resolves pipeline events to sent events: by the trace the event carries; else by (panel, log index)
 * for panel log records; else — a driver that samples state reports only the last of several changes
 * between two polls — to the latest not yet matched sent event of the same panel, zone and action sent
 * no later than the event was observed. A sent event is matched at most once.
 */
export function matchPipelineEvents(sent: readonly SentEvent[], events: readonly PipelineEvent[]): Matching {
  const out: Matching = { traceOf: new Map(), byTrace: 0, byLogIndex: 0, inferred: 0, unmatched: 0 };
  const ids = new Set(sent.map((s) => s.id));
  const used = new Set<string>();
  const byLog = new Map<string, SentEvent>();
  const byKey = new Map<string, SentEvent[]>();
  for (const s of sent) {
    if (s.logIndex !== undefined) byLog.set(`${s.panel}:${s.logIndex}`, s);
    if (s.zone === undefined) continue;
    const key = `${s.panel}:${s.zone}:${s.action}`;
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  for (const list of byKey.values()) list.sort((a, b) => a.sentAtMs - b.sentAtMs);

  const rest: PipelineEvent[] = [];
  for (const e of events) {
    if (e.traceId !== null) {
      if (ids.has(e.traceId)) { out.traceOf.set(e.eventId, e.traceId); used.add(e.traceId); out.byTrace++; }
      else out.unmatched++;
      continue;
    }
    const logged = e.logIndex !== null && e.panel !== null ? byLog.get(`${e.panel}:${e.logIndex}`) : undefined;
    if (logged && !used.has(logged.id)) {
      out.traceOf.set(e.eventId, logged.id);
      used.add(logged.id);
      out.byLogIndex++;
      continue;
    }
    rest.push(e);
  }

  rest.sort((a, b) => a.observedAtMs - b.observedAtMs);
  for (const e of rest) {
    const action = ACTION_OF_KIND[e.kind];
    const list = action !== undefined && e.panel !== null ? byKey.get(`${e.panel}:${e.zone}:${action}`) : undefined;
    let hit: SentEvent | undefined;
    if (list) {
      let i = upperBound(list, e.observedAtMs) - 1;
      while (i >= 0 && used.has(list[i]!.id)) i--;
      hit = i >= 0 ? list[i] : undefined;
    }
    if (!hit) { out.unmatched++; continue; }
    used.add(hit.id);
    out.traceOf.set(e.eventId, hit.id);
    out.inferred++;
  }
  return out;
}

/** Index of the first element sent after t. */
function upperBound(list: readonly SentEvent[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.sentAtMs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
