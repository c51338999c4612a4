export { createAlarmProcessor } from './alarm-processor.ts';
export type { AlarmProcessor, AlarmProcessorOptions } from './alarm-processor.ts';
export { createOutboxRelay, declarePushTopology, PUSH_EXCHANGE, PUSH_ROUTING_KEY } from './outbox-relay.ts';
export type { OutboxRelay, OutboxRelayOptions } from './outbox-relay.ts';
export { applyBatch, toAlarmUpdate } from './apply.ts';
export type { ApplyOptions, ApplyResult, Incoming } from './apply.ts';
export { fromPanelLink, fromSatelEvent, fromSmsEvent } from './events.ts';
export type { NormalizedEvent } from './events.ts';
export { loadRules, readRulesFile, seedRulesIfEmpty } from './rules.ts';
