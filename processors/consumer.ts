import type { Kafka } from 'kafkajs';
import {
  StamError, backoffMs, configDefaults, counter, gauge, histogram, isPoison, isStamError, sendToDlq, sleep,
  type EachBatchPayload, type ErrorCode, type KafkaMessage, type Logger, type Producer,
} from '../platform/index.ts';
import type { ConsumerStore } from './consumer-store.ts';

/**
 * The one transactional Kafka consumer: what a consumer supplies is how to decode a message and how to
 * apply decoded messages in a PostgreSQL transaction; this module owns the rest, once.
 *
 * Guarantee: effects are exactly once although delivery is at least once. Each partition's next offset
 * lives in the consumer's store (consumer-store.ts: `consumer_offsets` in PostgreSQL for the live roles and
 * replay into a database, memory for a what-if), written in the same transaction as the effects. On
 * assignment the consumer seeks to it; inside the transaction the stored offset is read again (locked) and
 * messages below it are skipped (a redelivery, or two members briefly holding one partition during a
 * rebalance, apply nothing twice). Kafka-side commits are only a convenience.
 *
 * A bounded range (replay) starts each partition at a given offset instead, ignores what lies at or past
 * its end offset, and resolves `finished` once every partition has reached its end.
 *
 * Bad messages: a message that does not decode, or that the database refuses (an error `isPoison` calls
 * bad data, not an outage), is handed to the bad-message policy — which must have dealt with it durably
 * (e.g. dead-lettered with the reason) before the offset passes it — and the good messages around it are
 * applied. A refused chunk is split in halves until the message at fault is found. Anything retryable
 * (database or broker away) retries the same chunk with backoff and commits nothing past it: an outage
 * never turns good messages into dead letters.
 */

const m = {
  messages: counter('stam_consumer_messages_total', 'messages read by a transactional consumer, by outcome', ['group', 'topic', 'outcome']),
  batchSeconds: histogram('stam_consumer_batch_commit_seconds', 'time to apply and commit one chunk in PostgreSQL', ['group', 'topic']),
  batchSize: histogram('stam_consumer_batch_size', 'messages per applied chunk', ['group'], [1, 5, 10, 50, 100, 500, 1000, 2000, 5000]),
  retries: counter('stam_consumer_retries_total', 'chunks retried after a retryable failure (database away)', ['group', 'topic']),
  lag: gauge('stam_consumer_lag_messages', 'high watermark minus next offset, per partition', ['group', 'topic', 'partition']),
};

/** A message the consumer could not decode or apply, and why. */
export interface BadMessage { topic: string; partition: number; message: KafkaMessage; code: string; reason: string }

/**
 * What becomes of a bad message. Resolving means it was dealt with durably; the consumer then commits
 * past it. Rejecting stops the chunk (retried like an outage), so nothing passes unaccounted for.
 */
export type BadMessagePolicy = (bad: BadMessage[]) => Promise<void>;

/** The live pipeline's policy: the original bytes to `<topic>.dlq` with the reason, counted and logged, before the offset passes. */
export function deadLetter(producer: Producer, log: Logger): BadMessagePolicy {
  return async (bad) => {
    await sendToDlq(producer, bad.map((b) => ({ sourceTopic: b.topic, partition: b.partition, message: b.message, code: b.code, reason: b.reason })));
    for (const b of bad) log.warn({ topic: b.topic, partition: b.partition, offset: b.message.offset, code: b.code, reason: b.reason }, 'message dead-lettered');
  };
}

/** A decoded message; `value` is what `decode` returned. */
export interface Decoded<T> { offset: string; value: T; message: KafkaMessage }

export interface Chunk<T> { topic: string; partition: number; items: Decoded<T>[] }

/** Offsets per topic and partition: where a bounded run starts, and the first offset it leaves alone. */
export type PartitionOffsets = Record<string, Record<number, number>>;
export interface ConsumerRange { start: PartitionOffsets; end: PartitionOffsets }

export interface TransactionalConsumerOptions<T, R, Tx> {
  /** Names the consumer in its log lines, e.g. 'alarm processor'. */
  name: string;
  kafka: Kafka;
  store: ConsumerStore<Tx>;
  log: Logger;
  groupId: string;
  topics: string[];
  /** Throws for a message that cannot be used (its code names why); `null` passes a message this consumer does not handle. */
  decode: (topic: string, message: KafkaMessage) => T | null;
  /** Applies the chunk's fresh messages in the consumer's transaction; the consumer writes the offset after it. */
  apply: (tx: Tx, chunk: Chunk<T>) => Promise<R>;
  /** After the commit: metrics and log lines that must not count an attempt that rolled back. */
  committed?: (chunk: Chunk<T>, result: R) => void;
  badMessages: BadMessagePolicy;
  /** Most messages per transaction. */
  maxBatch: number;
  /** Partitions applied at once (order is per partition). */
  concurrency?: number;
  maxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  /** KAFKA_SESSION_TIMEOUT_MS / KAFKA_HEARTBEAT_INTERVAL_MS: how soon a crashed member's partitions move on. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Consume only this range (replay), then resolve `finished`. */
  range?: ConsumerRange;
}

export interface TransactionalConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** With a range: resolves once every partition reached its end offset. */
  readonly finished: Promise<void>;
}

const codeOf = (err: unknown, fallback: ErrorCode): string => (isStamError(err) ? err.code : fallback);

export function createTransactionalConsumer<T, R, Tx>(opts: TransactionalConsumerOptions<T, R, Tx>): TransactionalConsumer {
  const { kafka, store, log, groupId, range } = opts;
  const consumer = kafka.consumer({
    groupId,
    // Short, so a crashed member's partitions wait seconds, not half a minute; heartbeats go out between chunks
    // and while a chunk waits out an outage, so a long transaction does not cost the membership.
    sessionTimeout: opts.sessionTimeoutMs ?? configDefaults().KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: opts.heartbeatIntervalMs ?? configDefaults().KAFKA_HEARTBEAT_INTERVAL_MS,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 250,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 2 * 1024 * 1024,
    retry: { retries: 10 },
  });
  const abort = new AbortController();
  const count = (topic: string, outcome: string, n = 1) => { if (n > 0) m.messages.inc({ group: groupId, topic, outcome }, n); };

  async function seekOnJoin(assignment: Record<string, number[]>): Promise<void> {
    const from = range
      ? Object.entries(range.start).flatMap(([topic, parts]) => Object.entries(parts).map(([p, next]) => ({ topic, partition: Number(p), next })))
      : await store.stored(groupId, Object.keys(assignment));
    for (const r of from) {
      if (assignment[r.topic]?.includes(r.partition)) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.next) });
    }
  }

  /** Applies the fresh items and moves the stored offset past `lastOffset`, in one transaction. */
  function transact(chunk: Chunk<T>, lastOffset: string): Promise<{ result: R; fresh: Chunk<T> }> {
    return store.transact({ groupId, topic: chunk.topic, partition: chunk.partition }, Number(lastOffset) + 1, async (tx, next) => {
      const fresh = { ...chunk, items: chunk.items.filter((i) => Number(i.offset) >= next) };
      return { result: await opts.apply(tx, fresh), fresh };
    });
  }

  // A bounded run: the partitions not yet at their end offset, and who waits for them all.
  const pending = new Set<string>();
  for (const [topic, parts] of Object.entries(range?.end ?? {})) {
    for (const [p, end] of Object.entries(parts)) if (end > (range?.start[topic]?.[Number(p)] ?? 0)) pending.add(`${topic}:${p}`);
  }
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  if (range && pending.size === 0) finish();
  const reached = (topic: string, partition: number, nextOffset: number) => {
    if (!range || nextOffset < (range.end[topic]?.[partition] ?? Infinity)) return;
    if (pending.delete(`${topic}:${partition}`) && pending.size === 0) finish();
  };

  /** Commits the chunk, retrying what is retryable; throws a poison error for the caller to isolate. */
  async function commit(chunk: Chunk<T>, lastOffset: string, heartbeat: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    for (let attempt = 0; ; attempt++) {
      try {
        const { result, fresh } = await transact(chunk, lastOffset);
        m.batchSeconds.observe({ group: groupId, topic: chunk.topic }, Number(process.hrtime.bigint() - started) / 1e9);
        m.batchSize.observe({ group: groupId }, chunk.items.length);
        count(chunk.topic, 'applied', fresh.items.length);
        count(chunk.topic, 'already_applied', chunk.items.length - fresh.items.length);
        opts.committed?.(fresh, result);
        return;
      } catch (err) {
        if (isPoison(err) || abort.signal.aborted) throw err;
        m.retries.inc({ group: groupId, topic: chunk.topic });
        const wait = backoffMs(attempt, 250, 10_000);
        log.warn({ err: (err as Error).message, topic: chunk.topic, partition: chunk.partition, attempt, waitMs: wait }, 'chunk failed on a retryable error; retrying');
        await sleep(wait, abort.signal);
        await heartbeat().catch(() => undefined);
      }
    }
  }

  async function handOver(bad: BadMessage[]): Promise<void> {
    if (bad.length === 0) return;
    await opts.badMessages(bad);
    count(bad[0]!.topic, 'bad', bad.length);
  }

  /** Commits `items` (offset through `lastOffset`); a refused set is halved until the refused message is found and handed over. */
  async function commitIsolating(chunk: Chunk<T>, lastOffset: string, heartbeat: () => Promise<void>): Promise<void> {
    try {
      await commit(chunk, lastOffset, heartbeat);
    } catch (err) {
      if (abort.signal.aborted || !isPoison(err)) throw err;
      const { items } = chunk;
      if (items.length <= 1) {
        const item = items[0];
        if (item) {
          const pg = (err as { code?: unknown }).code;
          const reason = `refused while applying${typeof pg === 'string' && !isStamError(err) ? ` (${pg})` : ''}: ${(err as Error).message}`;
          log.error({ topic: chunk.topic, partition: chunk.partition, offset: item.offset, err: (err as Error).message }, 'message refused while applying');
          await handOver([{ topic: chunk.topic, partition: chunk.partition, message: item.message, code: codeOf(err, 'E_EVENT_INVALID'), reason }]);
        }
        await commit({ ...chunk, items: [] }, lastOffset, heartbeat);
        return;
      }
      log.warn({ topic: chunk.topic, partition: chunk.partition, err: (err as Error).message, size: items.length }, 'chunk refused; splitting it to isolate the cause');
      const half = Math.ceil(items.length / 2);
      const first = items.slice(0, half);
      await commitIsolating({ ...chunk, items: first }, first[first.length - 1]!.offset, heartbeat);
      await commitIsolating({ ...chunk, items: items.slice(half) }, lastOffset, heartbeat);
    }
  }

  async function applyMessages(topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>): Promise<void> {
    const items: Decoded<T>[] = [];
    const bad: BadMessage[] = [];
    let ignored = 0;
    for (const message of messages) {
      try {
        if (!message.value) throw new StamError('E_AVRO_MAGIC', 'empty message value (tombstone) on an event topic');
        const value = opts.decode(topic, message);
        if (value === null) ignored++;
        else items.push({ offset: message.offset, value, message });
      } catch (err) {
        bad.push({ topic, partition, message, code: codeOf(err, 'E_AVRO_DECODE'), reason: (err as Error).message });
      }
    }
    count(topic, 'ignored', ignored);
    await handOver(bad);
    await commitIsolating({ topic, partition, items }, messages[messages.length - 1]!.offset, heartbeat);
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const end = range?.end[topic]?.[partition];
    const messages = end === undefined ? batch.messages : batch.messages.filter((msg) => Number(msg.offset) < end);
    for (let i = 0; i < messages.length; i += opts.maxBatch) {
      if (!isRunning() || isStale() || abort.signal.aborted) return;
      const chunk = messages.slice(i, i + opts.maxBatch);
      await applyMessages(topic, partition, chunk, heartbeat);
      resolveOffset(chunk[chunk.length - 1]!.offset);
      reached(topic, partition, Number(chunk[chunk.length - 1]!.offset) + 1);
      await heartbeat();
    }
    if (end !== undefined && messages.length < batch.messages.length) reached(topic, partition, end);
    await commitOffsetsIfNecessary();
    m.lag.set({ group: groupId, topic, partition: String(partition) }, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
  }

  return {
    finished,
    async start(): Promise<void> {
      await consumer.connect();
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        void seekOnJoin(e.payload.memberAssignment).catch((err: Error) => log.error({ err: err.message }, 'could not seek to the stored offsets'));
      });
      await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
      // Partitions are applied concurrently (order is per partition = per panel); two transactions that meet on
      // one row serialize on its lock, and a deadlock (40P01) is retried like any retryable failure.
      await consumer.run({ eachBatchAutoResolve: false, autoCommit: true, partitionsConsumedConcurrently: opts.concurrency ?? 1, eachBatch });
      log.info({ topics: opts.topics, groupId }, `${opts.name} consuming`);
    },
    async stop(): Promise<void> {
      abort.abort();
      await consumer.disconnect();
    },
  };
}
