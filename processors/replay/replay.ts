import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kafka } from 'kafkajs';
import type { NormalizedEvent } from '../../domain/index.ts';
import type { Logger, Pool, PoolClient } from '../../platform/index.ts';
import { applyEvents } from '../apply.ts';
import { createTransactionalConsumer, type BadMessage, type Chunk } from '../consumer.ts';
import { memoryStore, pgStore, type ConsumerStore } from '../consumer-store.ts';
import { decodeEvent, eventDecoders } from '../event-topics.ts';
import { copyReference, loadRoutes } from './history.ts';
import { resolveRange } from './range.ts';
import { createWhatIf, type WhatIfPolicy, type WhatIfTally } from './what-if.ts';

export type ReplayMode =
  | { kind: 'what-if'; policy: WhatIfPolicy }
  | { kind: 'into'; target: Pool; policy: WhatIfPolicy }
  | { kind: 'export'; format: 'jsonl' | 'csv'; out: Writable };

export interface ReplayOptions {
  kafka: Kafka;
  log: Logger;
  topicPrefix: string;
  sms: boolean;
  /** Where the objects, panels and sensors are read (the replica when there is one). */
  source: Pool;
  fromMs: number;
  toMs: number;
  mode: ReplayMode;
  /** Called as events are applied (a progress bar). */
  progress?: (done: number, total: number) => void;
}

export interface ReplayResult {
  from: string;
  to: string;
  messages: number;
  applied: number;
  seconds: number;
  eventsPerSecond: number;
  notes: string[];
  /** Messages that did not decode: counted and reported, never sent to the live pipeline's dead letters. */
  bad: { topic: string; partition: number; offset: string; code: string; reason: string }[];
  whatIf?: WhatIfTally;
  into?: { copied: Record<string, number> };
  exported?: number;
}

const CSV_COLUMNS = ['event_id', 'dedup_key', 'source', 'kind', 'panel_id', 'sensor_ref', 'object_number', 'observed_at', 'panel_time', 'fencing', 'log_class', 'log_code', 'log_restore', 'trace_id'] as const;

function csvRow(e: NormalizedEvent): string {
  const v = [e.eventId, e.dedupKey, e.source, e.kind, e.panelId, e.sensorRef, e.objectNumber, new Date(e.observedAtMs).toISOString(),
    e.panelTimeMs === null ? null : new Date(e.panelTimeMs).toISOString(), e.fencing, e.logClass ?? null, e.logCode ?? null, e.logRestore ?? null, e.trace?.id ?? null];
  return `${v.map((x) => (x === null ? '' : /[",\r\n]/.test(String(x)) ? `"${String(x).replace(/"/g, '""')}"` : String(x))).join(',')}\n`;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Replays the event topics between two instants through the one transactional consumer (processors/
 * consumer.ts) under a group of its own — no live consumer group is touched — from the offsets of
 * `fromMs` to those of `toMs`:
 *  - what-if: the alarm decision in memory (what-if.ts), offsets in memory;
 *  - into: the processor's own apply into an empty database (its configuration copied from the source),
 *    offsets in that database — a rebuild, and the proof that the decision is deterministic;
 *  - export: the decoded events, as JSON lines or CSV.
 */
export async function runReplay(o: ReplayOptions): Promise<ReplayResult> {
  const decoders = eventDecoders(o.topicPrefix, { sms: o.sms });
  const topics = [...decoders.keys()];
  const { range, messages, notes } = await resolveRange(o.kafka, topics, o.fromMs, o.toMs);
  for (const n of notes) o.log.warn(n);
  const bad: BadMessage[] = [];
  const result: ReplayResult = {
    from: new Date(o.fromMs).toISOString(), to: new Date(o.toMs).toISOString(), messages, applied: 0, seconds: 0, eventsPerSecond: 0, notes, bad: [],
  };
  const groupId = `stam-replay-${randomUUID()}`;
  // Throughput is measured from the first message to the last: not the group join before it.
  let firstAt: number | undefined;
  let lastAt = performance.now();
  const mode = o.mode;

  let store: ConsumerStore<PoolClient | undefined>;
  let apply: (tx: PoolClient | undefined, chunk: Chunk<NormalizedEvent>) => Promise<unknown>;
  if (mode.kind === 'into') {
    result.into = { copied: await copyReference(o.source, mode.target) };
    store = pgStore(mode.target);
    apply = (tx, chunk) => applyEvents(tx!, chunk.items.map((i) => ({ offset: i.offset, event: i.value })), {
      topic: chunk.topic, partition: chunk.partition, bundlingWindowMs: mode.policy.bundlingWindowMs, rules: mode.policy.rules, flood: mode.policy.flood,
      pushEnabled: false, // a rebuild makes history, not news: no phone is woken for it
    });
  } else if (mode.kind === 'what-if') {
    const whatIf = createWhatIf(mode.policy, await loadRoutes(o.source));
    result.whatIf = whatIf.tally;
    store = memoryStore();
    apply = (_tx, chunk) => { whatIf.apply(chunk.items.map((i) => i.value)); return Promise.resolve(); };
  } else {
    result.exported = 0;
    if (mode.format === 'csv') await write(mode.out, `${CSV_COLUMNS.join(',')}\n`);
    store = memoryStore();
    apply = async (_tx, chunk) => {
      for (const { value } of chunk.items) await write(mode.out, mode.format === 'csv' ? csvRow(value) : `${JSON.stringify(value)}\n`);
      result.exported! += chunk.items.length;
    };
  }

  const consumer = createTransactionalConsumer<NormalizedEvent, unknown, PoolClient | undefined>({
    name: 'replay', kafka: o.kafka, store, log: o.log, groupId, topics,
    decode: (topic, message) => { firstAt ??= performance.now(); return decodeEvent(decoders, topic, message.value!); },
    apply,
    committed: (chunk) => { result.applied += chunk.items.length; lastAt = performance.now(); o.progress?.(result.applied + bad.length, messages); },
    badMessages: (list) => { bad.push(...list); return Promise.resolve(); },
    maxBatch: 10_000,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxWaitTimeInMs: 50,
    range,
  });
  await consumer.start();
  try {
    await consumer.finished;
  } finally {
    await consumer.stop();
    const admin = o.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  result.seconds = firstAt === undefined ? 0 : (lastAt - firstAt) / 1000;
  result.eventsPerSecond = result.applied / Math.max(result.seconds, 1e-3);
  result.bad = bad.map((b) => ({ topic: b.topic, partition: b.partition, offset: b.message.offset, code: b.code, reason: b.reason }));
  return result;
}
