import type { Kafka } from 'kafkajs';
import { counter, histogram, type KafkaMessage, type Logger, type Pool, type PoolClient, type Producer } from '../platform/index.ts';
import type { FloodPolicy, NormalizedEvent, Rule } from '../domain/index.ts';
import { decodeEvent, eventDecoders } from './event-topics.ts';
import { applyEvents, type ApplyResult } from './apply.ts';
import { createTransactionalConsumer, deadLetter, type Chunk } from './consumer.ts';
import { pgStore } from './consumer-store.ts';
import { loadRules, seedRulesIfEmpty } from './rules.ts';

const m = {
  events: counter('stam_processor_events_total', 'events applied by the alarm processor, by outcome', ['topic', 'outcome']),
  e2e: histogram('stam_processor_event_age_seconds', 'observed_at → committed in PostgreSQL', [], [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60]),
};

export interface AlarmProcessorOptions {
  kafka: Kafka;
  /** Dead letters go out through it. */
  producer: Producer;
  pool: Pool;
  log: Logger;
  groupId: string;
  topicPrefix: string;
  maxBatch: number;
  bundlingWindowMs: number;
  smsEnabled: boolean;
  /** FEATURE_PUSH_ENABLED: off, no outbox row asks for a push (and the relay publishes none either). Default on. */
  pushEnabled?: boolean;
  flood: FloodPolicy;
  /** Partitions applied at once (default 3). */
  concurrency?: number;
  /** Rules to use instead of the alarm_rules table (tests). */
  rules?: readonly Rule[];
  /** Group membership timing (KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/**
 * Consumes the event topics through the transactional consumer (consumer.ts): each chunk of a partition
 * is applied in one PostgreSQL transaction with its offset — events, alarm changes and outbox rows — so a
 * crash at any point replays the chunk and changes nothing twice. Bad messages are dead-lettered to
 * `<topic>.dlq` with the reason before the offset passes them.
 */
export function createAlarmProcessor(opts: AlarmProcessorOptions) {
  const { pool, log } = opts;
  const decoders = eventDecoders(opts.topicPrefix, { sms: opts.smsEnabled });
  let rules: readonly Rule[] = opts.rules ?? [];
  const decode = (topic: string, message: KafkaMessage): NormalizedEvent => decodeEvent(decoders, topic, message.value!);

  const committed = (chunk: Chunk<NormalizedEvent>, r: ApplyResult) => {
    const { topic, partition } = chunk;
    const now = Date.now();
    for (const i of chunk.items) m.e2e.observe(Math.max(0, now - i.value.observedAtMs) / 1000);
    const outcomes: [string, number][] = [['inserted', r.inserted], ['duplicate', r.duplicates], ['stale_fencing', r.stale], ['flooded', r.flooded], ['unrouted', r.unrouted]];
    for (const [outcome, n] of outcomes) if (n > 0) m.events.inc({ topic, outcome }, n);
    if (r.unrouted) log.warn({ topic, partition, count: r.unrouted }, 'events for unknown panels or sensors were recorded without an alarm');
  };

  const consumer = createTransactionalConsumer<NormalizedEvent, ApplyResult, PoolClient>({
    name: 'alarm processor', kafka: opts.kafka, store: pgStore(pool), log, groupId: opts.groupId, topics: [...decoders.keys()],
    decode,
    apply: (db, chunk) => applyEvents(db, chunk.items.map((i) => ({ offset: i.offset, event: i.value })), {
      topic: chunk.topic, partition: chunk.partition, bundlingWindowMs: opts.bundlingWindowMs, rules, flood: opts.flood, pushEnabled: opts.pushEnabled ?? true,
    }),
    committed,
    badMessages: deadLetter(opts.producer, log),
    maxBatch: opts.maxBatch,
    concurrency: opts.concurrency ?? 3,
    ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    ...(opts.heartbeatIntervalMs ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
  });

  return {
    async start(): Promise<void> {
      if (!opts.rules) {
        const seeded = await seedRulesIfEmpty(pool);
        if (seeded > 0) log.info({ rules: seeded }, 'alarm_rules seeded from config/alarm-rules.yaml');
        rules = await loadRules(pool);
      }
      await consumer.start();
    },
    stop: () => consumer.stop(),
  };
}

export type AlarmProcessor = ReturnType<typeof createAlarmProcessor>;
