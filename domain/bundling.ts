import type { ClassifiableEvent, Classification, AlarmStatus } from './types.ts';
import { OPEN_STATUSES } from './types.ts';

/**
 * Events of the same object, source and zone/sensor (and category) join one open alarm. The bundle key
 * is what the processor looks an open alarm up by.
 */
export function bundleKey(objectId: number, e: ClassifiableEvent, c: Classification): string {
  const subject = e.source === 'sms' ? `s:${e.sensorRef ?? ''}` : e.source === 'link' ? 'link' : `n:${e.objectNumber}`;
  return `${objectId}|${e.source}|${subject}|${c.category}`;
}

export interface OpenAlarmCandidate { status: AlarmStatus; lastEventAtMs: number }

/** An event joins the candidate when it is still open and its last event is within the window. */
export function joinsAlarm(candidate: OpenAlarmCandidate | undefined, eventAtMs: number, windowMs: number): boolean {
  if (!candidate || !OPEN_STATUSES.includes(candidate.status)) return false;
  return eventAtMs - candidate.lastEventAtMs <= windowMs;
}
