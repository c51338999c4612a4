import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { createProducer } from '../../platform/index.ts';
import { codecFor, topicName, type SatelEvent, type SatelEventKind } from '../../schemas/index.ts';

let seq = 0;

/** A SatelEvent as a driver would produce it; dedup_key unique unless given. */
export function satelEvent(panelId: number, kind: SatelEventKind, zone: number, observedAt: number, extra: Partial<SatelEvent> = {}): SatelEvent {
  seq++;
  return {
    event_id: randomUUID(), panel_id: panelId, kind, object_number: zone, panel_time: null, observed_at: observedAt,
    fencing: 0, dedup_key: `test:${panelId}:${kind}:${zone}:${observedAt}:${seq}`, log: null, trace: null, ...extra,
  };
}

export interface EventProducer {
  producer: Producer;
  send(events: SatelEvent[]): Promise<void>;
  sendRaw(key: string, values: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

export async function eventProducer(kafka: Kafka, prefix: string): Promise<EventProducer> {
  const producer = await createProducer(kafka);
  const topic = topicName('satel.events.v1', prefix);
  const codec = codecFor('SatelEvent');
  return {
    producer,
    async send(events) {
      await producer.send({ topic, acks: -1, messages: events.map((e) => ({ key: String(e.panel_id), value: codec.encode(e) })) });
    },
    async sendRaw(key, values) {
      await producer.send({ topic, acks: -1, messages: values.map((v) => ({ key, value: v })) });
    },
    close: () => producer.disconnect(),
  };
}
