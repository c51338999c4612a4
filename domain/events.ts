import type { PanelLink, SatelEvent, SmsEvent } from '../schemas/index.ts';
import type { ClassifiableEvent, EventSource } from './types.ts';

/** One accepted-or-not event as the processor sees it, whatever topic it came from. */
export interface NormalizedEvent extends ClassifiableEvent {
  eventId: string;
  dedupKey: string;
  source: EventSource;
  panelId: number | null;
  sensorRef: string | null;
  panelTimeMs: number | null;
  observedAtMs: number;
  fencing: number;
  trace: { id: string; origin_ms: number } | null;
  payload: unknown;
}

export function fromSatelEvent(e: SatelEvent): NormalizedEvent {
  return {
    eventId: e.event_id,
    dedupKey: e.dedup_key,
    source: 'satel',
    kind: e.kind,
    objectNumber: e.object_number,
    logClass: e.log?.class ?? null,
    logCode: e.log?.code ?? null,
    logRestore: e.log?.restore ?? null,
    panelId: e.panel_id,
    sensorRef: null,
    panelTimeMs: e.panel_time,
    observedAtMs: e.observed_at,
    fencing: e.fencing,
    trace: e.trace,
    payload: e,
  };
}

export function fromPanelLink(e: PanelLink): NormalizedEvent {
  return {
    eventId: e.event_id,
    dedupKey: e.dedup_key,
    source: 'link',
    kind: e.status,
    objectNumber: 0,
    panelId: e.panel_id,
    sensorRef: null,
    panelTimeMs: null,
    observedAtMs: e.observed_at,
    fencing: e.fencing,
    trace: e.trace,
    payload: e,
  };
}

export function fromSmsEvent(e: SmsEvent): NormalizedEvent {
  return {
    eventId: e.event_id,
    dedupKey: e.dedup_key,
    source: 'sms',
    kind: e.kind,
    objectNumber: 0,
    panelId: null,
    sensorRef: e.sensor_id,
    panelTimeMs: e.sensor_time,
    observedAtMs: e.observed_at,
    fencing: 0,
    trace: e.trace,
    payload: e,
  };
}
