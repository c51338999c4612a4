import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { IHeaders, KafkaMessage, Pool, Producer } from '../platform/index.ts';

export interface DeadLetterRecord {
  dlqTopic: string;
  partition: number;
  offset: string;
  code: string;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  deadLetteredAt: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

const header = (h: IHeaders | undefined, k: string): string => {
  const v = h?.[k];
  return v === undefined ? '' : Array.isArray(v) ? String(v[0]) : String(v);
};

function toRecord(dlqTopic: string, partition: number, m: KafkaMessage): DeadLetterRecord {
  return {
    dlqTopic, partition, offset: m.offset, code: header(m.headers, 'x-error-code'), reason: header(m.headers, 'x-error-reason'),
    sourceTopic: header(m.headers, 'x-source-topic'), sourcePartition: Number(header(m.headers, 'x-source-partition')),
    sourceOffset: header(m.headers, 'x-source-offset'), deadLetteredAt: header(m.headers, 'x-dead-lettered-at'),
    key: m.key, value: m.value, headers: m.headers ?? {},
  };
}

/** Reads a dead-letter topic from its start to its current end without committing anything. */
export async function readDeadLetters(kafka: Kafka, dlqTopic: string, timeoutMs = 30_000): Promise<DeadLetterRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(dlqTopic);
  const end = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const pending = offsets.filter((o) => Number(o.high) > Number(o.low)).length;
  if (pending === 0) { await admin.disconnect(); return []; }
  const groupId = `stam-dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId });
  const out: DeadLetterRecord[] = [];
  const done = new Set<number>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`reading ${dlqTopic} timed out`)), timeoutMs);
      void consumer.run({
        autoCommit: false,
        eachMessage: ({ partition, message }) => {
          if (Number(message.offset) < (end.get(partition) ?? 0)) out.push(toRecord(dlqTopic, partition, message));
          if (Number(message.offset) + 1 >= (end.get(partition) ?? 0)) done.add(partition);
          if (done.size >= pending) { clearTimeout(t); resolve(); }
          return Promise.resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/**
 * Re-injects dead letters into their source topic with the original key and bytes. Safe to repeat:
 * the processor deduplicates by dedup_key, so a replayed event that was applied meanwhile counts once.
 */
export async function replayDeadLetters(producer: Producer, records: DeadLetterRecord[]): Promise<number> {
  const bySource = new Map<string, DeadLetterRecord[]>();
  for (const r of records) {
    if (!r.sourceTopic) throw new Error(`dead letter ${r.dlqTopic}@${r.partition}:${r.offset} has no x-source-topic header`);
    bySource.set(r.sourceTopic, [...(bySource.get(r.sourceTopic) ?? []), r]);
  }
  for (const [topic, list] of bySource) {
    await producer.send({
      topic, acks: -1,
      messages: list.map((r) => ({ key: r.key, value: r.value, headers: { 'x-replayed-from': `${r.dlqTopic}@${r.partition}:${r.offset}` } })),
    });
  }
  return records.length;
}

/** An outbox row the relay set aside (it could not be published), as `stam dlq list` shows it. */
export interface SetAsideRow { id: number; kind: string; key: string; failedAt: string; code: string; reason: string }

/** Outbox rows set aside by the relay, oldest first. */
export async function readSetAsideRows(pool: Pool): Promise<SetAsideRow[]> {
  const { rows } = await pool.query<{ id: number; kind: string; key: string; failed_at: Date; error: string | null }>(
    'SELECT id, kind, key, failed_at, error FROM outbox WHERE failed_at IS NOT NULL AND published_at IS NULL ORDER BY id');
  return rows.map((r) => {
    const [code, ...rest] = (r.error ?? '').split(': ');
    return { id: r.id, kind: r.kind, key: r.key, failedAt: r.failed_at.toISOString(), code: code ?? '', reason: rest.join(': ') };
  });
}

/** Puts set-aside rows back in line for the relay (after the cause is fixed); returns how many. */
export async function requeueSetAsideRows(pool: Pool, filter: { id?: number; code?: string } = {}): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE outbox SET failed_at = NULL, error = NULL
      WHERE failed_at IS NOT NULL AND published_at IS NULL AND ($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR error LIKE $2 || ': %')`,
    [filter.id ?? null, filter.code ?? null],
  );
  return rowCount ?? 0;
}
