import { api } from './api.ts';
import { cachePut } from './cache.ts';
import type { Alarm } from './queue.ts';
import { getState, setState, type PanelState } from './store.ts';

export interface Mode { active: boolean; until: string | null; reason: string | null; by: string | null }
export interface ObjectFull { id: number; code: string; name: string; address: string; latitude: number | null; longitude: number | null; contacts?: string; notes?: string; service_mode?: Mode; test_mode?: Mode }
export interface EventRow { id: number; kind: string; source: string; observed_at: string; restore: boolean; payload: Record<string, unknown> | null }
export interface ActionRow { id: number; action: string; from_status: string | null; to_status: string; note: string | null; created_at: string; username: string | null }
export interface DetailData { alarm: Alarm & { object_name?: string; zone_name?: string | null }; object: ObjectFull | null; events: EventRow[]; actions: ActionRow[]; partitions: { number: number; name: string }[]; recorders: { id: number; name: string; host: string; port: number; login: string }[] }

/** What the API's detail gives, plus the full object (contacts, notes, modes), the panel's partition names and the recorders. */
export async function loadDetail(id: number): Promise<DetailData> {
  const d = await api<Record<string, unknown> & { object_id: number; panel_id: number | null; events: EventRow[]; actions: ActionRow[] }>(`/api/alarms/${id}`);
  const [object, panel, recorders] = await Promise.all([
    api<ObjectFull>(`/api/objects/${d.object_id}`).catch(() => d.object as ObjectFull | null),
    d.panel_id === null ? null : api<{ partitions: { number: number; name: string }[] }>(`/api/panels/${d.panel_id}`).catch(() => null),
    api<{ items: DetailData['recorders'] }>(`/api/recorders?object_id=${d.object_id}`).then((r) => r.items).catch(() => []),
  ]);
  if (d.panel_id !== null && !getState().panelStates.has(d.panel_id)) {
    const st = await api<PanelState>(`/api/panels/${d.panel_id}/state`).catch(() => null);
    if (st && !getState().panelStates.has(d.panel_id)) setState({ panelStates: new Map(getState().panelStates).set(d.panel_id, st) });
  }
  const alarm = { ...(d as unknown as Alarm), alarm_id: id };
  return { alarm, object, events: d.events, actions: d.actions, partitions: panel?.partitions ?? [], recorders };
}

/** What an event says, for the operator: the SMS text as received (its reading beside it), else the panel's fields. */
export function eventText(e: Pick<EventRow, 'payload'>): string {
  const p = e.payload ?? {};
  if (typeof p.raw_text === 'string') {
    const reading = typeof p.value === 'number' ? ` (${p.value}${typeof p.unit === 'string' ? ` ${p.unit}` : ''})` : '';
    return `SMS${typeof p.sender === 'string' ? ` ${p.sender}` : ''}: „${p.raw_text}”${reading}`;
  }
  const skip = new Set(['event_id', 'dedup_key', 'trace', 'fencing', 'observed_at', 'panel_time']);
  return Object.entries(p).filter(([k, v]) => !skip.has(k) && v !== null && typeof v !== 'object').map(([k, v]) => `${k}: ${String(v as string | number | boolean)}`).join(', ');
}

/**
 * The open alarms' details are read ahead, one at a time, and kept in IndexedDB: a reload while the
 * gateway is down still opens them. Each alarm is read again when its version changes; at most the
 * newest LIMIT alarms are kept up to date.
 */
const LIMIT = 100;
const GAP_MS = 500;
const seen = new Map<number, number>();
const waiting = new Set<number>();
let working = false;

export function prefetchDetails(alarms: Iterable<Alarm>): void {
  for (const a of alarms) {
    if (!['NEW', 'CLAIMED', 'ACKNOWLEDGED'].includes(a.status) || seen.get(a.alarm_id) === a.version) continue;
    waiting.add(a.alarm_id);
  }
  if (waiting.size > LIMIT) for (const id of [...waiting].sort((x, y) => x - y).slice(0, waiting.size - LIMIT)) waiting.delete(id);
  if (working || waiting.size === 0) return;
  working = true;
  void (async () => {
    try {
      while (waiting.size > 0 && getState().link === 'live') {
        const id = Math.max(...waiting);
        waiting.delete(id);
        const version = getState().alarms.get(id)?.version;
        try {
          await cachePut(`detail:${id}`, await loadDetail(id));
          if (version !== undefined) seen.set(id, version);
        } catch { /* read again on its next change */ }
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
    } finally { working = false; }
  })();
}
