/** The pure alarm model shared by the processor, the gateway and replay. No I/O here. */

import { ALARM_SEVERITIES, ALARM_STATUSES, type AlarmSeverity, type AlarmStatus } from '../schemas/index.ts';

// Severities and statuses are the AlarmUpdate contract's enums: one list each, in schemas/types.ts.
export const SEVERITIES = ALARM_SEVERITIES;
export type Severity = AlarmSeverity;
export { ALARM_STATUSES };
export type { AlarmStatus };
export const OPEN_STATUSES: readonly AlarmStatus[] = ['NEW', 'CLAIMED', 'ACKNOWLEDGED'];

export type EventSource = 'satel' | 'link' | 'sms';

/** What the rules need to know about an accepted event, whatever topic it came from. */
export interface ClassifiableEvent {
  source: EventSource;
  kind: string;                 // SatelEventKind, PanelLink status or SmsEvent kind
  objectNumber: number;         // zone / partition / output / trouble number; 0 when n/a
  logClass?: number | null;     // panel log record class (0..7) for LOG_RECORD
  logCode?: number | null;
  logRestore?: boolean | null;
  sensorRef?: string | null;
}

export interface Classification {
  /** 'open' starts or joins an alarm; 'restore' is attached to the matching open alarm; 'state' only updates state. */
  effect: 'open' | 'restore' | 'state';
  category: string;
  severity: Severity;
  title: string;
}
