import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createProducer, type Producer } from '../../platform/index.ts';
import { createOutboxRelay } from '../../processors/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../../schemas/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { waitUntil } from '../helpers/system.ts';
import { startRole } from '../../load-tests/index.ts';
import amqp from 'amqplib';
import { declarePushTopology } from '../../processors/index.ts';
import { createVhost } from '../helpers/commands.ts';
import { queueProbe } from '../helpers/push.ts';

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

  const relay = () => createOutboxRelay({ pool: env.pool, databaseUrl: env.config.DATABASE_URL, producer, log, topicPrefix: env.id, batchSize: 50, idleMs: 20, retentionHours: env.config.OUTBOX_RETENTION_H });

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
  it('sets aside a row whose payload does not encode and one the broker refuses, publishes the rows behind them, and `stam dlq` shows and re-queues them', async () => {
    published.length = 0;
    await insertOutbox(env, [update(9101, 1)]);
    await env.pool.query(`INSERT INTO outbox (kind, key, payload) VALUES ('alarm.update', '9102', '{"alarm_id": "not a number"}')`);
    await insertOutbox(env, [{ ...update(9103, 1), title: 'x'.repeat(2 * 1024 * 1024) }]); // over the broker's largest message
    await insertOutbox(env, [update(9104, 1)]);
    const r = relay();
    await r.start();
    try {
      await waitUntil('the rows around the bad ones are published', () => published.includes('9101v1') && published.includes('9104v1'), 30_000);
    } finally {
      await r.stop();
    }
    const { rows } = await env.pool.query<{ key: string; published: boolean; set_aside: boolean; error: string | null }>(
      `SELECT key, published_at IS NOT NULL AS published, failed_at IS NOT NULL AS set_aside, error FROM outbox WHERE key IN ('9101', '9102', '9103', '9104') ORDER BY id`);
    expect(rows.map(({ key, published: p, set_aside: a }) => [key, p, a])).toEqual([['9101', true, false], ['9102', false, true], ['9103', false, true], ['9104', true, false]]);
    expect(rows[1]!.error).toMatch(/^E_EVENT_INVALID: does not encode: AlarmUpdate: /);
    expect(rows[2]!.error).toMatch(/^E_BROKER_REFUSED: refused by the broker: /);
    expect(published.filter((p) => p.startsWith('9102') || p.startsWith('9103'))).toEqual([]);

    const run = async (...args: string[]) => {
      const role = startRole('dlq', env.vars, args);
      const exit = await role.exited;
      return { code: exit.code, out: role.lines.map((l) => String(l.msg)).join('\n') };
    };
    const list = await run('list', '--topic', 'outbox');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/outbox#\d+ +E_EVENT_INVALID +alarm\.update key 9102 /);
    expect(list.out).toMatch(/outbox#\d+ +E_BROKER_REFUSED +alarm\.update key 9103 /);
    expect(list.out).toMatch(/2 dead letter\(s\)/);
    // Once the cause is fixed (here: the payload repaired), replay puts the row back in line and the relay publishes it.
    await env.pool.query(`UPDATE outbox SET payload = $1 WHERE key = '9102'`, [JSON.stringify(update(9102, 1))]);
    expect((await run('replay', 'outbox', '--code', 'E_EVENT_INVALID')).out).toMatch(/1 dead letter\(s\) replayed into outbox/);
    const again = relay();
    await again.start();
    try {
      await waitUntil('the repaired row is published', () => published.includes('9102v1'), 30_000);
    } finally {
      await again.stop();
    }
    expect((await run('list', '--topic', 'outbox')).out).toMatch(/^outbox#\d+ +E_BROKER_REFUSED[^\n]*\n1 dead letter\(s\)$/);
  });
  it('publishes updates while RabbitMQ is away, and the push jobs once it is back: one job per CRITICAL opening, never holding an update', async () => {
    published.length = 0;
    const vhost = await createVhost();
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    await declarePushTopology(ch, false);
    let channel: amqp.ConfirmChannel | undefined; // RabbitMQ "down": the kept-alive link has no channel
    const r = createOutboxRelay({
      pool: env.pool, databaseUrl: env.config.DATABASE_URL, producer, log, topicPrefix: env.id, batchSize: 50, idleMs: 20,
      retentionHours: env.config.OUTBOX_RETENTION_H, pushChannel: () => channel,
    });
    const probe = await queueProbe(vhost.url);
    try {
      await env.pool.query(
        `INSERT INTO outbox (kind, key, payload, push) SELECT 'alarm.update', k, p, true FROM unnest($1::text[], $2::jsonb[]) AS t(k, p)`,
        [['9201', '9202'], [JSON.stringify({ ...update(9201, 1), severity: 'CRITICAL' }), JSON.stringify({ ...update(9202, 1), severity: 'CRITICAL' })]]);
      await r.start();
      await waitUntil('both updates on Kafka with RabbitMQ away', () => published.includes('9201v1') && published.includes('9202v1'), 30_000);
      const waiting = await env.pool.query<{ key: string }>(`SELECT key FROM outbox WHERE key IN ('9201', '9202') AND push_published_at IS NULL ORDER BY key`);
      expect(waiting.rows.map((x) => x.key)).toEqual(['9201', '9202']);
      expect((await probe.depth()).push).toBe(0);
      channel = ch; // RabbitMQ back
      await waitUntil('both push jobs queued', async () => (await probe.depth()).push === 2, 30_000);
      const done = await env.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE key IN ('9201', '9202') AND push_published_at IS NOT NULL`);
      expect(done.rows[0].n).toBe(2);
    } finally {
      await r.stop();
      await probe.close();
      await conn.close();
      await vhost.remove();
    }
  });
});
