/**
 * TypeScript twins of the `.avsc` contracts, field for field (snake_case as on the wire).
 * Nullable Avro unions `["null", T]` are `T | null`; `timestamp-millis` fields are plain epoch-ms numbers
 * (no LogicalType is registered, see load.ts). `types.test.ts` keeps these in step with the .avsc files.
 */

export const SATEL_EVENT_KINDS = [
  'ZONE_VIOLATION', 'ZONE_RESTORE', 'ZONE_ALARM', 'ZONE_ALARM_RESTORE', 'ZONE_TAMPER', 'ZONE_TAMPER_RESTORE',
  'PARTITION_ARMED', 'PARTITION_DISARMED', 'PARTITION_ALARM', 'PARTITION_ALARM_RESTORE', 'PARTITION_FIRE_ALARM',
  'TROUBLE', 'TROUBLE_RESTORE', 'OUTPUT_ON', 'OUTPUT_OFF', 'LOG_RECORD', 'UNKNOWN',
] as const;
export type SatelEventKind = (typeof SATEL_EVENT_KINDS)[number];

export const PANEL_LINK_STATUSES = ['CONNECTED', 'LOST', 'RESTORED', 'UNKNOWN'] as const;
export type PanelLinkStatus = (typeof PANEL_LINK_STATUSES)[number];

export const ALARM_SEVERITIES = ['CRITICAL', 'WARNING', 'INFO'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

export const ALARM_STATUSES = ['NEW', 'CLAIMED', 'ACKNOWLEDGED', 'RESOLVED', 'CLOSED'] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

/** Known values of `AlarmUpdate.source`; on the wire it is a plain string so new sources need no schema change. */
export const ALARM_SOURCES = ['satel', 'sms', 'link'] as const;
export type AlarmSource = (typeof ALARM_SOURCES)[number];

export const COMMAND_STATUSES = ['SUCCEEDED', 'REJECTED', 'FAILED', 'EXPIRED'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export const SMS_EVENT_KINDS = [
  'TEMPERATURE_ALARM', 'TEMPERATURE_RESTORE', 'LOW_BATTERY', 'CONNECTION_LOST', 'UNCLASSIFIED', 'UNKNOWN',
  'BATTERY_RESTORED', 'CONNECTION_RESTORED', 'MODEM_DOWN', 'MODEM_RESTORED',
] as const;
export type SmsEventKind = (typeof SMS_EVENT_KINDS)[number];

/** Epoch milliseconds (Avro `long` with logicalType `timestamp-millis`). */
export type EpochMs = number;

export interface Trace {
  id: string;
  origin_ms: EpochMs;
}

export interface PanelLogRecord {
  log_index: number;
  class: number;
  code: number;
  restore: boolean;
  source: number;
  partition: number;
  user: number;
  object: number;
  text: string | null;
}

export interface SatelEvent {
  event_id: string;
  panel_id: number;
  kind: SatelEventKind;
  object_number: number;
  panel_time: EpochMs | null;
  observed_at: EpochMs;
  fencing: number;
  dedup_key: string;
  log: PanelLogRecord | null;
  trace: Trace | null;
}

export interface PanelLink {
  event_id: string;
  panel_id: number;
  status: PanelLinkStatus;
  reason: string | null;
  observed_at: EpochMs;
  fencing: number;
  dedup_key: string;
  trace: Trace | null;
}

export interface AppliedEvent {
  event_id: string;
  observed_at: EpochMs;
  trace: Trace | null;
}

export interface AlarmUpdate {
  alarm_id: number;
  version: number;
  object_id: number;
  panel_id: number | null;
  source: string;
  zone: number | null;
  category: string;
  severity: AlarmSeverity;
  status: AlarmStatus;
  owner: string | null;
  event_count: number;
  restore_count: number;
  first_event_at: EpochMs;
  last_event_at: EpochMs;
  test: boolean;
  service: boolean;
  flood: boolean;
  title: string;
  updated_at: EpochMs;
  events: AppliedEvent[];
}

export interface CommandResult {
  command_id: string;
  panel_id: number;
  action: string;
  status: CommandStatus;
  reason: string | null;
  panel_result_code: number | null;
  finished_at: EpochMs;
  trace: Trace | null;
}

export interface SmsEvent {
  event_id: string;
  sensor_id: string;
  sender: string;
  kind: SmsEventKind;
  value: number | null;
  unit: string | null;
  threshold: number | null;
  raw_text: string;
  sensor_time: EpochMs | null;
  observed_at: EpochMs;
  dedup_key: string;
  trace: Trace | null;
  direction: string | null;
  template: string | null;
  smsc_time: EpochMs | null;
  partial: boolean;
}

/** The value type of each topic schema, by schema name. */
export interface SchemaTypes {
  SatelEvent: SatelEvent;
  PanelLink: PanelLink;
  AlarmUpdate: AlarmUpdate;
  CommandResult: CommandResult;
  SmsEvent: SmsEvent;
}

export type TopicSchemaName = keyof SchemaTypes;

export const TOPIC_SCHEMA_NAMES = ['SatelEvent', 'PanelLink', 'AlarmUpdate', 'CommandResult', 'SmsEvent'] as const satisfies readonly TopicSchemaName[];
