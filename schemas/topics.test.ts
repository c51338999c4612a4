import { describe, expect, it } from 'vitest';
import { isStamError } from '../platform/index.ts';
import { loadSchema } from './load.ts';
import { RETENTION_DEFAULT_DAYS, TOPICS, retentionMs, topicName } from './topics.ts';
import type { TopicBase } from './topics.ts';

const DAY = 86_400_000;
const bases = Object.keys(TOPICS) as TopicBase[];

describe('topic catalogue', () => {
  it('holds the five topics of DESIGN.md §3 with their schemas and kinds', () => {
    expect(Object.fromEntries(bases.map((b) => [b, [TOPICS[b].schema, TOPICS[b].kind]]))).toEqual({
      'satel.events.v1': ['SatelEvent', 'event'],
      'sms.events.v1': ['SmsEvent', 'event'],
      'panel.link.v1': ['PanelLink', 'event'],
      'alarm.updates.v1': ['AlarmUpdate', 'update'],
      'command.results.v1': ['CommandResult', 'update'],
    });
  });

  it.each(bases)('%s: its base and dlq names follow the key, and the key is a required field of its schema', (base) => {
    const topic = TOPICS[base];
    expect(topic.base).toBe(base);
    expect(topic.dlq).toBe(`${base}.dlq`);
    const fields = (loadSchema(topic.schema).type as unknown as { fields: { name: string; type: { typeName: string } }[] }).fields;
    const key = fields.find((f) => f.name === topic.key);
    expect(key?.type.typeName).toMatch(/^(long|string)$/);
  });

  it('keeps event topics 90 days and update topics 7 days unless configured otherwise', () => {
    expect(RETENTION_DEFAULT_DAYS).toEqual({ event: 90, update: 7 });
    expect(retentionMs('satel.events.v1')).toBe(90 * DAY);
    expect(retentionMs('alarm.updates.v1')).toBe(7 * DAY);
    expect(retentionMs('command.results.v1')).toBe(7 * DAY);
    expect(retentionMs('sms.events.v1', { event: 30, update: 1 })).toBe(30 * DAY);
    expect(retentionMs('command.results.v1', { event: 30, update: 0.5 })).toBe(DAY / 2);
    expect(retentionMs('panel.link.v1', { update: 1 })).toBe(90 * DAY);
  });
});

describe('topicName', () => {
  it('is the base name without a prefix', () => {
    expect(topicName('satel.events.v1')).toBe('satel.events.v1');
    expect(topicName('alarm.updates.v1', '')).toBe('alarm.updates.v1');
  });

  it('joins a prefix with exactly one dot, for topics and their dead-letter topics', () => {
    expect(topicName('satel.events.v1', 't123')).toBe('t123.satel.events.v1');
    expect(topicName('satel.events.v1', 't123.')).toBe('t123.satel.events.v1');
    expect(topicName(TOPICS['sms.events.v1'].dlq, 'it-42')).toBe('it-42.sms.events.v1.dlq');
  });

  it('rejects a prefix Kafka would refuse, naming it', () => {
    let err: unknown;
    try {
      topicName('panel.link.v1', 'bad prefix/');
    } catch (e) {
      err = e;
    }
    expect(isStamError(err, 'E_CONFIG')).toBe(true);
    expect((err as Error).message).toContain("'bad prefix/'");
    expect(() => topicName('panel.link.v1', 'x'.repeat(240))).toThrow(/249/);
  });
});
