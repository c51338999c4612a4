import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createProducer, type Producer } from '../../platform/index.ts';
import { createOutboxRelay } from '../../processors/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../../schemas/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { waitUntil } from '../helpers/system.ts';

const log = createLogger('test-relay', 'silent');

function update(alarmId: number, version: number): AlarmUpdate {
  const t = Date.now();
  return {
    alarm_id: alarmId, version, object_id: 1, panel_id: 1, source: 'satel', zone: 1, category: 'intrusion', severity: 'WARNING',
    status: 'NEW', owner: null, event_count: version, restore_count: 0, first_event_at: t, last_event_at: t, test: false, service: false,
    flood: false, title: 'test', updated_at: t, events: [],
  };
}

async function insertOutbox(env: TestEnv, updates: AlarmUpdate[]): Promise<void> {
  await env.pool.query(
    `INSERT INTO outbox (kind, key, payload) SELECT 'alarm.update', k, p FROM unnest($1::text[], $2::jsonb[]) AS t(k, p)`,
    [updates.map((u) => String(u.alarm_id)), updates.map((u) => JSON.stringify(u))],
  );
}

describe('outbox relay', () => {
  let env: TestEnv;
  let producer: Producer;
  const published: string[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    producer = await createProducer(env.kafka);
    const consumer = env.kafka.consumer({ groupId: `${env.id}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName('alarm.updates.v1', env.id), fromBeginning: true });
    const codec = codecFor('AlarmUpdate');
    await consumer.run({ eachMessage: ({ message }) => {
      const u = codec.decode(message.value!);
      published.push(`${u.alarm_id}v${u.version}`);
      return Promise.resolve();
    } });
    afterAllConsumers.push(() => consumer.disconnect());
  });
  const afterAllConsumers: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const c of afterAllConsumers) await c();
    await producer?.disconnect();
    await env?.cleanup();
  });

  const relay = () => createOutboxRelay({ pool: env.pool, databaseUrl: env.config.DATABASE_URL, producer, log, topicPrefix: env.id, batchSize: 50, idleMs: 20 });

  it('two relays at once publish every row exactly once', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => update(1 + (i % 300), 1 + Math.floor(i / 300)));
    await insertOutbox(env, rows);
    const a = relay();
    const b = relay();
    await Promise.all([a.start(), b.start()]);
    await waitUntil('all 2000 published', () => published.length >= 2000, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all([a.stop(), b.stop()]);
    expect(published.length).toBe(2000);
    expect(new Set(published).size).toBe(2000);
    const { rows: left } = await env.pool.query('SELECT 1 FROM outbox WHERE published_at IS NULL');
    expect(left).toEqual([]);
  });

  it('never skips a row whose transaction commits after later rows were published', async () => {
    published.length = 0;
    const r = relay();
    await r.start();
    const late = await env.pool.connect();
    try {
      await late.query('BEGIN');
      await late.query(`INSERT INTO outbox (kind, key, payload) VALUES ('alarm.update', '9001', $1)`, [JSON.stringify(update(9001, 1))]);
      await insertOutbox(env, [update(9002, 1)]); // a later id, committed first
      await waitUntil('the later row is published', () => published.includes('9002v1'), 30_000);
      expect(published).not.toContain('9001v1');
      await late.query('COMMIT');
    } finally {
      late.release();
    }
    await waitUntil('the late row is published too', () => published.includes('9001v1'), 30_000);
    await r.stop();
    expect(published.filter((p) => p === '9001v1' || p === '9002v1').sort()).toEqual(['9001v1', '9002v1']);
  });
});
