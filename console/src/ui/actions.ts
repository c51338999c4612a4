import { ApiError, api } from '../api.ts';
import type { Act, Alarm } from '../queue.ts';
import { applyUpdate } from '../queue.ts';
import { alarmsChanged, getState, t, toast } from '../store.ts';

/** One alarm action through the API; a lost race is told with who won (the 409 carries the current owner). */
export async function runAction(a: Alarm, act: Act, extra: { note?: string; resolution_code?: string } = {}): Promise<boolean> {
  const body: Record<string, unknown> = { version: a.version };
  if (extra.note) body.note = extra.note;
  if (extra.resolution_code) body.resolution_code = extra.resolution_code;
  try {
    const { alarm } = await api<{ alarm: Alarm }>(`/api/alarms/${a.alarm_id}/${act}`, { method: 'POST', body });
    if (applyUpdate(getState().alarms, alarm)) alarmsChanged();
    toast(t('action.done', { action: t(`action.${act}`), id: a.alarm_id, status: t(`alarmStatus.${alarm.status}` as 'alarmStatus.NEW') }));
    return true;
  } catch (err) {
    const cur = err instanceof ApiError ? (err.details as { alarm?: { owner?: string | null; status: string; version: number } } | undefined)?.alarm : undefined;
    if (cur?.owner && cur.owner !== getState().user?.username) toast(t('action.conflict', { id: a.alarm_id, owner: cur.owner }));
    else toast(t('action.failed', { message: (err as Error).message }));
    if (cur && cur.version > a.version) {
      applyUpdate(getState().alarms, { ...a, status: cur.status, owner: cur.owner ?? null, version: cur.version });
      alarmsChanged();
    }
    return false;
  }
}

/** Actions that open a dialog first (a note, a resolution code); the rest run at once. */
export const NEEDS_DIALOG: ReadonlySet<Act> = new Set(['ack', 'resolve', 'close', 'takeover']);
/** Where the note is required (resolving and taking over someone's alarm are explained). */
export const NOTE_REQUIRED: ReadonlySet<Act> = new Set(['resolve', 'takeover']);
