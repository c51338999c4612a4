// The contracts of every topic: Avro codecs (single-object encoding), the TypeScript twins of the .avsc
// files, and the topic catalogue.
export { codecFor, SINGLE_OBJECT_MAGIC } from './codec.ts';
export type { Codec } from './codec.ts';
export { rabinFingerprint } from './rabin.ts';
export type { Fingerprint } from './rabin.ts';
export { RETENTION_DEFAULT_DAYS, TOPICS, retentionMs, topicName } from './topics.ts';
export type { DlqTopicBase, TopicBase, TopicInfo, TopicKind } from './topics.ts';
export {
  ALARM_SEVERITIES,
  ALARM_SOURCES,
  ALARM_STATUSES,
  COMMAND_STATUSES,
  PANEL_LINK_STATUSES,
  SATEL_EVENT_KINDS,
  SMS_EVENT_KINDS,
  TOPIC_SCHEMA_NAMES,
} from './types.ts';
export type {
  AlarmSeverity,
  AlarmSource,
  AlarmStatus,
  AlarmUpdate,
  AppliedEvent,
  CommandResult,
  CommandStatus,
  EpochMs,
  PanelLink,
  PanelLinkStatus,
  PanelLogRecord,
  SatelEvent,
  SatelEventKind,
  SchemaTypes,
  SmsEvent,
  SmsEventKind,
  TopicSchemaName,
  Trace,
} from './types.ts';
