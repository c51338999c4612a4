import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StamError, createLogger, createProducer, provisionTopics, type PoolClient, type Producer } from '../../platform/index.ts';
import { createTransactionalConsumer, pgStore, type BadMessage, type TransactionalConsumer } from '../../processors/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { waitUntil } from '../helpers/system.ts';

const log = createLogger('test-consumer', 'silent');

/**
 * The one transactional consumer, with a consumer of its own: JSON items into a table whose CHECK refuses
 * negative values. What it must do whatever the consumer supplies: apply each message once with its offset,
 * hand undecodable and refused messages to the bad-message policy, and keep the good ones around them.
 */
describe('the transactional consumer', () => {
  let env: TestEnv;
  let producer: Producer;
  let topic: string;
  const bad: BadMessage[] = [];
  let applied = 0;

  const consumer = (groupId: string): TransactionalConsumer => createTransactionalConsumer<{ id: number; v: number }, number, PoolClient>({
    name: 'test consumer', kafka: env.kafka, store: pgStore(env.pool), log, groupId, topics: [topic],
    decode: (_t, m) => {
      const value = JSON.parse(m.value!.toString()) as { id: number; v: number } | { skip: true };
      if ('skip' in value) return null;
      if (typeof value.id !== 'number') throw new StamError('E_EVENT_INVALID', 'id is not a number');
      return value;
    },
    apply: async (db, chunk) => {
      for (const { value } of chunk.items) await db.query('INSERT INTO t_items (id, v) VALUES ($1, $2)', [value.id, value.v]);
      return chunk.items.length;
    },
    committed: (_chunk, n) => { applied += n; },
    badMessages: (list) => { bad.push(...list); return Promise.resolve(); },
    maxBatch: 50,
  });

  const send = (values: string[]) => producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'k', value })) });
  const stored = async (groupId: string) =>
    (await env.pool.query<{ n: number }>('SELECT next_offset AS n FROM consumer_offsets WHERE group_id = $1', [groupId])).rows[0]?.n;

  beforeAll(async () => {
    env = await createTestEnv();
    producer = await createProducer(env.kafka);
    topic = `${env.id}.consumer-test`;
    await provisionTopics(env.kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }], log);
    await env.pool.query('CREATE TABLE t_items (id int PRIMARY KEY, v int NOT NULL CHECK (v >= 0))');
  });

  afterAll(async () => {
    await producer?.disconnect();
    await env?.cleanup();
  });

  it('hands an undecodable and two refused messages to the policy, applies the 38 good ones around them, and stores the offset past all 42', async () => {
    const values = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: i + 1, v: i === 7 || i === 30 ? -1 : i }));
    values.splice(20, 0, 'not json');
    await send([...values, JSON.stringify({ skip: true })]);
    const c = consumer(`${env.id}-a`);
    await c.start();
    try {
      await waitUntil('all 42 messages passed', async () => (await stored(`${env.id}-a`)) === 42);
    } finally {
      await c.stop();
    }
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t_items');
    expect(rows[0]!.n).toBe(38);
    expect(applied).toBe(38);
    expect(bad.map((b) => [b.message.value!.toString().slice(0, 20), b.code])).toEqual([
      ['not json', 'E_AVRO_DECODE'],
      ['{"id":8,"v":-1}', 'E_EVENT_INVALID'],
      ['{"id":31,"v":-1}', 'E_EVENT_INVALID'],
    ]);
    expect(bad[1]!.reason).toMatch(/^refused while applying \(23514\): .*t_items_v_check/);
  });

  it('after the broker forgot the group\'s offsets, a restarted consumer applies nothing twice and goes on with new messages', async () => {
    const admin = env.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: `${env.id}-a`, topic, earliest: true });
    await admin.disconnect();
    applied = 0;
    bad.length = 0;
    await send([JSON.stringify({ id: 100, v: 1 })]);
    const c = consumer(`${env.id}-a`);
    await c.start();
    try {
      await waitUntil('the new message applied', async () => (await stored(`${env.id}-a`)) === 43);
    } finally {
      await c.stop();
    }
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t_items');
    expect(rows[0]!.n).toBe(39);
    expect(applied).toBe(1);
    expect(bad).toEqual([]);
  });
});
