import type { Kafka } from 'kafkajs';
import {
  StamError, counter, gauge, histogram, inTransaction, isPoison, isStamError, backoffMs, sleep, sendToDlq,
  type DeadLetter, type EachBatchPayload, type KafkaMessage, type Logger, type Pool, type Producer,
} from '../platform/index.ts';
import { codecFor, topicName } from '../schemas/index.ts';
import type { FloodPolicy, Rule } from '../domain/index.ts';
import { applyBatch, type ApplyResult, type Incoming } from './apply.ts';
import { loadRules, seedRulesIfEmpty } from './rules.ts';
import { fromPanelLink, fromSatelEvent, fromSmsEvent, type NormalizedEvent } from './events.ts';

const m = {
  events: counter('stam_processor_events_total', 'events read by the alarm processor, by outcome', ['topic', 'outcome']),
  batchSeconds: histogram('stam_processor_batch_commit_seconds', 'time to apply and commit one batch in PostgreSQL', ['topic']),
  batchSize: histogram('stam_processor_batch_size', 'messages per applied batch', [], [1, 5, 10, 50, 100, 500, 1000, 2000, 5000]),
  retries: counter('stam_processor_retries_total', 'batches retried after a retryable failure (database away)', ['topic']),
  lag: gauge('stam_processor_lag_messages', 'high watermark minus next offset, per partition', ['topic', 'partition']),
  e2e: histogram('stam_processor_event_age_seconds', 'observed_at → committed in PostgreSQL', [], [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60]),
};

export interface AlarmProcessorOptions {
  kafka: Kafka;
  producer: Producer;
  pool: Pool;
  log: Logger;
  groupId: string;
  topicPrefix: string;
  maxBatch: number;
  bundlingWindowMs: number;
  smsEnabled: boolean;
  flood?: FloodPolicy;
  /** Partitions applied at once (default 3). */
  concurrency?: number;
  /** Rules to use instead of the alarm_rules table (tests). */
  rules?: readonly Rule[];
}

type Decoder = (value: Buffer) => NormalizedEvent;

/**
 * Consumes the event topics and applies each partition batch in one PostgreSQL transaction with its
 * offsets. Bad messages go to `<topic>.dlq` (before the offset that passes them is committed); a
 * retryable failure (database away) retries the same batch with backoff and commits nothing past it.
 */
export function createAlarmProcessor(opts: AlarmProcessorOptions) {
  const { kafka, producer, pool, log } = opts;
  const satel = topicName('satel.events.v1', opts.topicPrefix);
  const link = topicName('panel.link.v1', opts.topicPrefix);
  const sms = topicName('sms.events.v1', opts.topicPrefix);
  const decoders = new Map<string, Decoder>([
    [satel, (v) => fromSatelEvent(codecFor('SatelEvent').decode(v))],
    [link, (v) => fromPanelLink(codecFor('PanelLink').decode(v))],
  ]);
  if (opts.smsEnabled) decoders.set(sms, (v) => fromSmsEvent(codecFor('SmsEvent').decode(v)));

  const consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 2 * 1024 * 1024,
    retry: { retries: 10 },
  });
  const abort = new AbortController();
  let lastApplied: ApplyResult | undefined;
  let rules: readonly Rule[] = opts.rules ?? [];

  async function seekToStoredOffsets(assignment: Record<string, number[]>): Promise<void> {
    const { rows } = await pool.query<{ topic: string; partition: number; next_offset: number }>(
      'SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = ANY($2::text[])',
      [opts.groupId, Object.keys(assignment)],
    );
    for (const r of rows) {
      if (assignment[r.topic]?.includes(r.partition)) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.next_offset) });
    }
  }

  function decode(topic: string, messages: KafkaMessage[]): { good: Incoming[]; dead: DeadLetter[] } {
    const decoder = decoders.get(topic);
    const good: Incoming[] = [];
    const dead: DeadLetter[] = [];
    for (const message of messages) {
      try {
        if (!decoder) throw new StamError('E_EVENT_INVALID', `no decoder for topic ${topic}`);
        if (!message.value) throw new StamError('E_AVRO_MAGIC', 'empty message value (tombstone) on an event topic');
        good.push({ offset: message.offset, event: decoder(message.value) });
      } catch (err) {
        const code = isStamError(err) ? err.code : 'E_AVRO_DECODE';
        dead.push({ sourceTopic: topic, partition: -1, message, code, reason: (err as Error).message });
      }
    }
    return { good, dead };
  }

  async function commitChunk(topic: string, partition: number, good: Incoming[], lastOffset: string, heartbeat: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    for (let attempt = 0; ; attempt++) {
      try {
        lastApplied = await inTransaction(pool, (db) =>
          applyBatch(db, good, lastOffset, { groupId: opts.groupId, topic, partition, bundlingWindowMs: opts.bundlingWindowMs, rules, ...(opts.flood ? { flood: opts.flood } : {}) }));
        break;
      } catch (err) {
        if (isPoison(err) || abort.signal.aborted) throw err;
        m.retries.inc({ topic });
        const wait = backoffMs(attempt, 250, 10_000);
        log.warn({ err: (err as Error).message, topic, partition, attempt, waitMs: wait }, 'batch failed on a retryable error; retrying');
        await sleep(wait, abort.signal);
        await heartbeat().catch(() => undefined);
      }
    }
    m.batchSeconds.observe({ topic }, Number(process.hrtime.bigint() - started) / 1e9);
    m.batchSize.observe(good.length);
    const now = Date.now();
    for (const g of good) m.e2e.observe(Math.max(0, now - g.event.observedAtMs) / 1000);
    const r = lastApplied;
    m.events.inc({ topic, outcome: 'inserted' }, r.inserted);
    if (r.duplicates) m.events.inc({ topic, outcome: 'duplicate' }, r.duplicates);
    if (r.skippedAlreadyApplied) m.events.inc({ topic, outcome: 'already_applied' }, r.skippedAlreadyApplied);
    if (r.stale) m.events.inc({ topic, outcome: 'stale_fencing' }, r.stale);
    if (r.flooded) m.events.inc({ topic, outcome: 'flooded' }, r.flooded);
    if (r.unrouted) {
      m.events.inc({ topic, outcome: 'unrouted' }, r.unrouted);
      log.warn({ topic, partition, count: r.unrouted }, 'events for unknown panels or sensors were recorded without an alarm');
    }
  }

  /** Applies a chunk; a non-retryable failure is narrowed down to the message that causes it, which is dead-lettered. */
  async function applyChunk(topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>): Promise<void> {
    const { good, dead } = decode(topic, messages);
    for (const d of dead) d.partition = partition;
    if (dead.length > 0) {
      await sendToDlq(producer, `${topic}.dlq`, dead);
      m.events.inc({ topic, outcome: 'dead_lettered' }, dead.length);
      for (const d of dead) log.warn({ topic, partition, offset: d.message.offset, code: d.code, reason: d.reason }, 'message dead-lettered');
    }
    const lastOffset = messages[messages.length - 1]!.offset;
    try {
      await commitChunk(topic, partition, good, lastOffset, heartbeat);
    } catch (err) {
      if (abort.signal.aborted || !isPoison(err)) throw err;
      if (messages.length === 1) {
        const d: DeadLetter = { sourceTopic: topic, partition, message: messages[0]!, code: isStamError(err) ? err.code : 'E_EVENT_INVALID', reason: `processing failed: ${(err as Error).message}` };
        await sendToDlq(producer, `${topic}.dlq`, [d]);
        m.events.inc({ topic, outcome: 'dead_lettered' }, 1);
        log.error({ topic, partition, offset: d.message.offset, err: (err as Error).message }, 'message failed processing; dead-lettered');
        await commitChunk(topic, partition, [], lastOffset, heartbeat);
        return;
      }
      log.warn({ topic, partition, err: (err as Error).message, size: messages.length }, 'batch failed; applying its messages one by one to isolate the cause');
      for (const msg of messages) await applyChunk(topic, partition, [msg], heartbeat);
    }
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    for (let i = 0; i < messages.length; i += opts.maxBatch) {
      if (!isRunning() || isStale() || abort.signal.aborted) return;
      const chunk = messages.slice(i, i + opts.maxBatch);
      await applyChunk(topic, partition, chunk, heartbeat);
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
    m.lag.set({ topic, partition: String(partition) }, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
  }

  return {
    consumer,
    get lastApplied() { return lastApplied; },
    async start(): Promise<void> {
      if (!opts.rules) {
        const seeded = await seedRulesIfEmpty(pool);
        if (seeded > 0) log.info({ rules: seeded }, 'alarm_rules seeded from config/alarm-rules.yaml');
        rules = await loadRules(pool);
      }
      await consumer.connect();
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        void seekToStoredOffsets(e.payload.memberAssignment).catch((err: Error) => log.error({ err: err.message }, 'could not seek to stored offsets'));
      });
      await consumer.subscribe({ topics: [...decoders.keys()], fromBeginning: true });
      // Partitions are applied concurrently (order is per partition = per panel); two transactions that meet on
      // one alarm serialize on its row lock, and a deadlock (40P01) is retried like any retryable failure.
      await consumer.run({ eachBatchAutoResolve: false, autoCommit: true, partitionsConsumedConcurrently: opts.concurrency ?? 3, eachBatch });
      log.info({ topics: [...decoders.keys()], groupId: opts.groupId }, 'alarm processor consuming');
    },
    async stop(): Promise<void> {
      abort.abort();
      await consumer.disconnect();
    },
  };
}

export type AlarmProcessor = ReturnType<typeof createAlarmProcessor>;
