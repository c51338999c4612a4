import type { Classification, ClassifiableEvent, Severity } from './types.ts';

/**
 * Classification is data: each rule maps an event kind (and for panel log records, a class) to an effect,
 * category and severity. The first matching rule wins; an event no rule knows opens a WARNING so that
 * nothing unknown is hidden from operators.
 */
export interface Rule {
  source: ClassifiableEvent['source'];
  kind: string;
  logClass?: number;
  restore?: boolean;
  effect: Classification['effect'];
  category: string;
  severity: Severity;
  title: string; // `{n}` is replaced by the object number
}

export const DEFAULT_RULES: readonly Rule[] = [
  { source: 'satel', kind: 'ZONE_ALARM', effect: 'open', category: 'intrusion', severity: 'CRITICAL', title: 'Zone {n} alarm' },
  { source: 'satel', kind: 'ZONE_ALARM_RESTORE', effect: 'restore', category: 'intrusion', severity: 'CRITICAL', title: 'Zone {n} alarm restored' },
  { source: 'satel', kind: 'ZONE_TAMPER', effect: 'open', category: 'tamper', severity: 'CRITICAL', title: 'Zone {n} tamper' },
  { source: 'satel', kind: 'ZONE_TAMPER_RESTORE', effect: 'restore', category: 'tamper', severity: 'CRITICAL', title: 'Zone {n} tamper restored' },
  { source: 'satel', kind: 'ZONE_VIOLATION', effect: 'open', category: 'zone-violation', severity: 'WARNING', title: 'Zone {n} violated' },
  { source: 'satel', kind: 'ZONE_RESTORE', effect: 'restore', category: 'zone-violation', severity: 'WARNING', title: 'Zone {n} restored' },
  { source: 'satel', kind: 'PARTITION_ALARM', effect: 'open', category: 'intrusion', severity: 'CRITICAL', title: 'Partition {n} alarm' },
  { source: 'satel', kind: 'PARTITION_ALARM_RESTORE', effect: 'restore', category: 'intrusion', severity: 'CRITICAL', title: 'Partition {n} alarm cleared' },
  { source: 'satel', kind: 'PARTITION_FIRE_ALARM', effect: 'open', category: 'fire', severity: 'CRITICAL', title: 'Partition {n} fire alarm' },
  { source: 'satel', kind: 'TROUBLE', effect: 'open', category: 'trouble', severity: 'WARNING', title: 'Trouble {n}' },
  { source: 'satel', kind: 'TROUBLE_RESTORE', effect: 'restore', category: 'trouble', severity: 'WARNING', title: 'Trouble {n} cleared' },
  { source: 'satel', kind: 'PARTITION_ARMED', effect: 'state', category: 'arming', severity: 'INFO', title: 'Partition {n} armed' },
  { source: 'satel', kind: 'PARTITION_DISARMED', effect: 'state', category: 'arming', severity: 'INFO', title: 'Partition {n} disarmed' },
  { source: 'satel', kind: 'OUTPUT_ON', effect: 'state', category: 'output', severity: 'INFO', title: 'Output {n} on' },
  { source: 'satel', kind: 'OUTPUT_OFF', effect: 'state', category: 'output', severity: 'INFO', title: 'Output {n} off' },
  // Panel event-log records by class (manual: 0 zone/tamper alarms, 1 partition/expander alarms, 5 troubles).
  { source: 'satel', kind: 'LOG_RECORD', logClass: 0, restore: false, effect: 'open', category: 'intrusion', severity: 'CRITICAL', title: 'Alarm (panel log), source {n}' },
  { source: 'satel', kind: 'LOG_RECORD', logClass: 0, restore: true, effect: 'restore', category: 'intrusion', severity: 'CRITICAL', title: 'Alarm restored (panel log), source {n}' },
  { source: 'satel', kind: 'LOG_RECORD', logClass: 1, restore: false, effect: 'open', category: 'intrusion', severity: 'CRITICAL', title: 'Partition/expander alarm (panel log), source {n}' },
  { source: 'satel', kind: 'LOG_RECORD', logClass: 1, restore: true, effect: 'restore', category: 'intrusion', severity: 'CRITICAL', title: 'Partition/expander alarm restored (panel log)' },
  { source: 'satel', kind: 'LOG_RECORD', logClass: 5, restore: false, effect: 'open', category: 'trouble', severity: 'WARNING', title: 'Trouble (panel log), source {n}' },
  { source: 'satel', kind: 'LOG_RECORD', logClass: 5, restore: true, effect: 'restore', category: 'trouble', severity: 'WARNING', title: 'Trouble cleared (panel log)' },
  { source: 'satel', kind: 'LOG_RECORD', effect: 'state', category: 'panel-log', severity: 'INFO', title: 'Panel log record' },
  { source: 'link', kind: 'LOST', effect: 'open', category: 'link-loss', severity: 'CRITICAL', title: 'Panel link lost' },
  { source: 'link', kind: 'RESTORED', effect: 'restore', category: 'link-loss', severity: 'CRITICAL', title: 'Panel link restored' },
  { source: 'link', kind: 'CONNECTED', effect: 'state', category: 'link', severity: 'INFO', title: 'Panel connected' },
  { source: 'sms', kind: 'TEMPERATURE_ALARM', effect: 'open', category: 'temperature', severity: 'CRITICAL', title: 'Temperature alarm {sensor}' },
  { source: 'sms', kind: 'TEMPERATURE_RESTORE', effect: 'restore', category: 'temperature', severity: 'CRITICAL', title: 'Temperature back to normal {sensor}' },
  { source: 'sms', kind: 'LOW_BATTERY', effect: 'open', category: 'sensor-battery', severity: 'WARNING', title: 'Sensor battery low {sensor}' },
  { source: 'sms', kind: 'CONNECTION_LOST', effect: 'open', category: 'sensor-link', severity: 'WARNING', title: 'Sensor connection lost {sensor}' },
  { source: 'sms', kind: 'UNCLASSIFIED', effect: 'open', category: 'unclassified-sms', severity: 'WARNING', title: 'Unclassified SMS' },
];

function matches(rule: Rule, e: ClassifiableEvent): boolean {
  if (rule.source !== e.source || rule.kind !== e.kind) return false;
  if (rule.logClass !== undefined && rule.logClass !== e.logClass) return false;
  if (rule.restore !== undefined && rule.restore !== (e.logRestore ?? false)) return false;
  return true;
}

export function classify(e: ClassifiableEvent, rules: readonly Rule[] = DEFAULT_RULES): Classification {
  const rule = rules.find((r) => matches(r, e));
  if (!rule) {
    return { effect: 'open', category: 'unknown', severity: 'WARNING', title: `Unrecognised ${e.source} event ${e.kind} (${e.objectNumber})` };
  }
  const title = rule.title.replace('{n}', String(e.objectNumber)).replace('{sensor}', e.sensorRef ?? '').trim();
  return { effect: rule.effect, category: rule.category, severity: rule.severity, title };
}
