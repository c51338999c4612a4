import { Kafka, Partitioners, logLevel, type Admin, type IHeaders, type KafkaMessage, type Producer } from 'kafkajs';
import { TOPICS, retentionMs, topicName } from '../schemas/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { counter } from './metrics.ts';

export type { Admin, Consumer, EachBatchPayload, IHeaders, KafkaMessage, Producer } from 'kafkajs';

export interface KafkaOptions { brokers: string; clientId: string; log: Logger }

/** A kafkajs client whose log lines go to our logger (kafkajs INFO is chatty: kept at debug). */
export function createKafka({ brokers, clientId, log }: KafkaOptions): Kafka {
  const kLog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: brokers.split(',').map((b) => b.trim()).filter(Boolean),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.INFO,
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...extra } = entry;
      delete (extra as Record<string, unknown>).timestamp;
      if (level === logLevel.ERROR) kLog.error(extra, message);
      else if (level === logLevel.WARN) kLog.warn(extra, message);
      else kLog.debug(extra, message);
    },
  });
}

/**
 * The producer every role uses: acks from all in-sync replicas, Java-compatible murmur2 partitioning so
 * keys land where Redpanda/Java clients put them. Not idempotent (experimental in kafkajs): consumers
 * deduplicate by dedup_key / alarm version instead.
 */
export async function createProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent: false,
    maxInFlightRequests: 5,
  });
  await producer.connect();
  return producer;
}

export interface TopicSpec { name: string; partitions: number; retentionMs: number; replicationFactor?: number; cleanupPolicy?: 'delete' | 'compact' }

/**
 * Creates missing topics with the configured partition count and retention, and raises partitions and
 * sets retention on existing ones — never broker defaults.
 */
export async function provisionTopics(kafka: Kafka, specs: TopicSpec[], log: Logger): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      // Leaders are waited for below: kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a
      // loaded broker answers for a moment after creating a topic.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? 1,
          configEntries: [
            { name: 'retention.ms', value: String(s.retentionMs) },
            { name: 'cleanup.policy', value: s.cleanupPolicy ?? 'delete' },
          ],
        })),
      });
      await waitForLeaders(admin, missing.map((s) => s.name));
      log.info({ topics: missing.map((s) => s.name) }, 'topics created');
    }
    const present = specs.filter((s) => existing.has(s.name));
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
      const grow = present.filter((s) => (meta.topics.find((t) => t.name === s.name)?.partitions.length ?? 0) < s.partitions);
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map((s) => ({ topic: s.name, count: s.partitions })) });
      await admin.alterConfigs({
        validateOnly: false,
        resources: present.map((s) => ({ type: 2 /* TOPIC */, name: s.name, configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }] })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Until every partition of the topics has a leader (at most `timeoutMs`); metadata errors in between are waited out. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const leaderless = meta.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}[${p.partitionId}]`));
      if (meta.topics.length === topics.length && leaderless.length === 0) return;
      last = `no leader for ${leaderless.join(', ') || 'some topics'}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`topics created but without leaders after ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Topic specs from the catalogue and the configuration; alarm.updates has one partition (its offsets are the WS stream positions). */
export function topicSpecs(config: Pick<Config, 'KAFKA_PARTITIONS' | 'KAFKA_EVENT_RETENTION_DAYS' | 'KAFKA_UPDATE_RETENTION_DAYS' | 'KAFKA_TOPIC_PREFIX' | 'KAFKA_REPLICATION_FACTOR'>): TopicSpec[] {
  const day = 86_400_000;
  const specs: TopicSpec[] = [];
  for (const t of Object.values(TOPICS)) {
    const isEvent = t.kind === 'event';
    const partitions = t.base === 'alarm.updates.v1' ? 1 : isEvent ? config.KAFKA_PARTITIONS : 3;
    const ms = retentionMs(t.base, { event: config.KAFKA_EVENT_RETENTION_DAYS, update: config.KAFKA_UPDATE_RETENTION_DAYS });
    const name = topicName(t.base, config.KAFKA_TOPIC_PREFIX);
    specs.push({ name, partitions, retentionMs: ms, replicationFactor: config.KAFKA_REPLICATION_FACTOR });
    specs.push({ name: dlqTopic(name), partitions: 1, retentionMs: Math.max(ms, 30 * day), replicationFactor: config.KAFKA_REPLICATION_FACTOR });
  }
  return specs;
}

const dlqMessages = counter('stam_dlq_messages_total', 'messages sent to a dead-letter topic', ['topic', 'code']);

/** The dead-letter topic of a topic (prefix included): `<topic>.dlq`. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

export interface DeadLetter { sourceTopic: string; partition: number; message: KafkaMessage; code: string; reason: string }

/**
 * Sends the original bytes to the source topic's dead-letter topic with headers naming the error and
 * where it came from. Awaited before the source offset is committed, so nothing is silently dropped.
 */
export async function sendToDlq(producer: Producer, items: DeadLetter[]): Promise<void> {
  if (items.length === 0) return;
  const bySource = new Map<string, DeadLetter[]>();
  for (const d of items) bySource.set(d.sourceTopic, [...(bySource.get(d.sourceTopic) ?? []), d]);
  await producer.sendBatch({
    acks: -1,
    topicMessages: [...bySource].map(([source, list]) => ({
      topic: dlqTopic(source),
      messages: list.map((d) => {
        const headers: IHeaders = {
          ...(d.message.headers ?? {}),
          'x-error-code': d.code,
          'x-error-reason': d.reason.slice(0, 1000),
          'x-source-topic': d.sourceTopic,
          'x-source-partition': String(d.partition),
          'x-source-offset': d.message.offset,
          'x-dead-lettered-at': new Date().toISOString(),
        };
        return { key: d.message.key, value: d.message.value, headers };
      }),
    })),
  });
  for (const d of items) dlqMessages.inc({ topic: d.sourceTopic, code: d.code });
}
