export { ALARM_STATUSES, OPEN_STATUSES, SEVERITIES } from './types.ts';
export type { AlarmStatus, Classification, ClassifiableEvent, EventSource, Severity } from './types.ts';
export { DEFAULT_RULES, classify } from './classify.ts';
export type { Rule } from './classify.ts';
export { bundleKey, joinsAlarm } from './bundling.ts';
export type { OpenAlarmCandidate } from './bundling.ts';
export { TRANSITIONS, nextStatus } from './lifecycle.ts';
export type { AlarmAction } from './lifecycle.ts';
