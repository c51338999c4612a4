import type { MulticastMessage } from 'firebase-admin/messaging';

/** What a push says about the alarm: read from PostgreSQL when it is sent, not from the job. */
export interface AlarmContext {
  alarmId: number;
  status: string;
  severity: string;
  title: string;
  category: string;
  zone: number | null;
  objectId: number;
  objectCode: string;
  objectName: string;
  objectAddress: string;
  serviceMode: boolean;
  testMode: boolean;
  /** When the alarm was opened (alarms.created_at), epoch ms. */
  openedMs: number;
  firstEventMs: number;
}

/** The tag and collapse key of an alarm's pushes: a phone shows one notification per alarm, the newest. */
export const pushTag = (alarmId: number): string => `alarm-${alarmId}`;

/**
 * The FCM message for a CRITICAL alarm, sent to each device: a notification (title = the alarm, body =
 * the site) with high priority and the alarm's tag and collapse key on Android and iOS, plus the ids as
 * data for the app to open the alarm. Pure.
 */
export function alarmMessage(a: AlarmContext, tokens: string[], ttlS: number): MulticastMessage {
  const tag = pushTag(a.alarmId);
  const site = [a.objectCode, a.objectName].filter(Boolean).join(' ');
  const body = [site, a.objectAddress].filter(Boolean).join(', ');
  return {
    tokens,
    notification: { title: a.title, body },
    data: {
      alarm_id: String(a.alarmId), object_id: String(a.objectId), severity: a.severity, category: a.category,
      zone: a.zone === null ? '' : String(a.zone), first_event_at: new Date(a.firstEventMs).toISOString(),
    },
    android: {
      priority: 'high', collapseKey: tag, ttl: ttlS * 1000,
      notification: { tag, channelId: 'critical-alarms', defaultSound: true },
    },
    apns: {
      headers: { 'apns-collapse-id': tag, 'apns-priority': '10', 'apns-expiration': String(Math.floor(Date.now() / 1000) + ttlS) },
      payload: { aps: { sound: 'default', threadId: tag } },
    },
  };
}
