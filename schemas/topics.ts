import { StamError } from '../platform/errors.ts';
import type { TopicSchemaName } from './types.ts';

/**
 * The topic catalogue (DESIGN.md §3). `key` names the value field whose value is the message key;
 * a topic's dead-letter topic (`dlq`) keeps the source key and the original bytes plus error headers.
 * `event` topics keep data for replay (default 90 days); `update` topics are a feed (default 7 days).
 * Partition count and retention are applied by the provisioning code in platform/, never broker defaults.
 */

export type TopicKind = 'event' | 'update';

export interface TopicInfo {
  base: string;
  schema: TopicSchemaName;
  key: string;
  kind: TopicKind;
  dlq: string;
}

export const TOPICS = {
  'satel.events.v1': { base: 'satel.events.v1', schema: 'SatelEvent', key: 'panel_id', kind: 'event', dlq: 'satel.events.v1.dlq' },
  'sms.events.v1': { base: 'sms.events.v1', schema: 'SmsEvent', key: 'sensor_id', kind: 'event', dlq: 'sms.events.v1.dlq' },
  'panel.link.v1': { base: 'panel.link.v1', schema: 'PanelLink', key: 'panel_id', kind: 'event', dlq: 'panel.link.v1.dlq' },
  'alarm.updates.v1': { base: 'alarm.updates.v1', schema: 'AlarmUpdate', key: 'alarm_id', kind: 'update', dlq: 'alarm.updates.v1.dlq' },
  'command.results.v1': { base: 'command.results.v1', schema: 'CommandResult', key: 'command_id', kind: 'update', dlq: 'command.results.v1.dlq' },
} as const satisfies Record<string, TopicInfo>;

export type TopicBase = keyof typeof TOPICS;
export type DlqTopicBase = (typeof TOPICS)[TopicBase]['dlq'];

export const RETENTION_DEFAULT_DAYS = { event: 90, update: 7 } as const satisfies Record<TopicKind, number>;

const DAY_MS = 86_400_000;

/** Retention of a topic in ms: the configured days for its kind (e.g. KAFKA_EVENT_RETENTION_DAYS), else the default. */
export function retentionMs(topic: TopicBase, days: Partial<Record<TopicKind, number>> = {}): number {
  const kind = TOPICS[topic].kind;
  return Math.round((days[kind] ?? RETENTION_DEFAULT_DAYS[kind]) * DAY_MS);
}

const LEGAL = /^[a-zA-Z0-9._-]*$/;

/**
 * The real topic name: `prefix` (e.g. `t123`, for test isolation or a shared cluster) joined to the base
 * name with one dot; an empty prefix gives the base name. `topicName('satel.events.v1', 't123')` is
 * `t123.satel.events.v1`.
 */
export function topicName(base: TopicBase | DlqTopicBase, prefix = ''): string {
  if (!LEGAL.test(prefix)) throw new StamError('E_CONFIG', `topic prefix '${prefix}' may only contain letters, digits, '.', '_' and '-'`);
  const trimmed = prefix.replace(/\.+$/, '');
  const name = trimmed === '' ? base : `${trimmed}.${base}`;
  if (name.length > 249) throw new StamError('E_CONFIG', `topic name '${name}' is longer than Kafka's 249 characters`);
  return name;
}
