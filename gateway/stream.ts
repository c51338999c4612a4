import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { counter, gauge, type Logger, type Redis } from '../platform/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../schemas/index.ts';

const m = {
  received: counter('stam_gateway_updates_received_total', 'alarm updates read from the topic'),
  undecodable: counter('stam_gateway_updates_undecodable_total', 'alarm updates that could not be decoded'),
  subscribers: gauge('stam_gateway_ws_clients', 'connected WebSocket clients'),
};

export const BUFFER_KEY = 'ws:events:buffer';
export const EPOCH_KEY = 'ws:epoch';
export const BUFFER_SIZE = 5000;

/** One message of the stream: its position is the Kafka offset in the single-partition updates topic. */
export interface StreamMessage { type: 'alarm.new' | 'alarm.updated'; epoch: string; position: number; alarm: AlarmUpdate }

export type Subscriber = (msg: StreamMessage) => void;

/**
 * Tails `alarm.updates.v1` (one partition, so its offsets are a total order that every gateway instance
 * shares: position = offset, and a row the outbox publishes late gets a later position, never a skipped
 * one). Each instance has its own consumer group, so every instance sees every update. Updates are also
 * kept in Redis (`ws:events:buffer`, last 5000) for clients that resume.
 */
export function createAlarmStream(opts: { kafka: Kafka; redis: Redis; log: Logger; topicPrefix: string; instanceId?: string }) {
  const { kafka, redis, log } = opts;
  const topic = topicName('alarm.updates.v1', opts.topicPrefix);
  const groupId = `gateway-${opts.instanceId ?? randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
  const subscribers = new Set<Subscriber>();
  const codec = codecFor('AlarmUpdate');
  let epoch = '';
  let ready: Promise<void> | undefined;
  let lastPosition = -1;

  async function loadEpoch(): Promise<string> {
    await redis.set(EPOCH_KEY, randomUUID(), 'NX');
    return (await redis.get(EPOCH_KEY)) ?? '';
  }

  function publish(msg: StreamMessage): void {
    for (const s of subscribers) {
      try { s(msg); } catch (err) { log.warn({ err: (err as Error).message }, 'subscriber failed'); }
    }
  }

  return {
    get epoch() { return epoch; },
    get lastPosition() { return lastPosition; },
    subscribe(s: Subscriber): () => void {
      subscribers.add(s);
      m.subscribers.set(subscribers.size);
      return () => { subscribers.delete(s); m.subscribers.set(subscribers.size); };
    },
    /** Resolves once the consumer has joined and holds the partition, so no update published later is missed. */
    ready(): Promise<void> { return ready ?? Promise.reject(new Error('stream not started')); },
    async start(): Promise<void> {
      epoch = await loadEpoch();
      await consumer.connect();
      ready = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          const pipeline = redis.pipeline();
          const out: StreamMessage[] = [];
          for (const message of batch.messages) {
            m.received.inc();
            const position = Number(message.offset);
            try {
              if (!message.value) throw new Error('empty value');
              const alarm = codec.decode(message.value);
              const msg: StreamMessage = { type: alarm.version === 1 ? 'alarm.new' : 'alarm.updated', epoch, position, alarm };
              out.push(msg);
              pipeline.zadd(BUFFER_KEY, position, JSON.stringify({ position, type: msg.type, alarm }));
            } catch (err) {
              m.undecodable.inc();
              log.error({ offset: message.offset, err: (err as Error).message }, 'undecodable alarm update skipped by the gateway (the relay wrote it; see alarm.updates.v1)');
            }
            lastPosition = position;
          }
          pipeline.zremrangebyrank(BUFFER_KEY, 0, -(BUFFER_SIZE + 1));
          await pipeline.exec().catch((err: Error) => log.warn({ err: err.message }, 'could not buffer updates in Redis'));
          for (const msg of out) publish(msg);
        },
      });
      log.info({ topic, groupId, epoch }, 'gateway tailing alarm updates');
    },
    async stop(): Promise<void> {
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

export type AlarmStream = ReturnType<typeof createAlarmStream>;
