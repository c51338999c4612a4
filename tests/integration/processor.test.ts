import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger, createProducer, type Producer } from '../../platform/index.ts';
import { createAlarmProcessor, type AlarmProcessor } from '../../processors/index.ts';
import { topicName } from '../../schemas/index.ts';
import { adminUrl, createTestEnv, type TestEnv } from '../helpers/env.ts';
import { eventProducer, satelEvent, type EventProducer } from '../helpers/events.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';
import { startRole } from '../../load-tests/index.ts';

const MIN = 60_000;
const log = createLogger('test-processor', 'silent');

async function startProcessor(env: TestEnv, producer: Producer, groupId = env.config.PROCESSOR_GROUP): Promise<AlarmProcessor> {
  const p = createAlarmProcessor({
    kafka: env.kafka, producer, pool: env.pool, log, groupId, topicPrefix: env.id, maxBatch: 500,
    bundlingWindowMs: 10 * MIN, smsEnabled: false, flood: { threshold: 10, windowMs: 10 * MIN },
  });
  await p.start();
  return p;
}

async function eventCount(env: TestEnv): Promise<number> {
  const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  return rows[0]!.n;
}

describe('alarm processor against the real broker and database', () => {
  let env: TestEnv;
  let kafkaProducer: Producer;
  let events: EventProducer;
  let processor: AlarmProcessor;
  let panelA: number;
  let objectA: number;

  beforeAll(async () => {
    env = await createTestEnv();
    kafkaProducer = await createProducer(env.kafka);
    events = await eventProducer(env.kafka, env.id);
    ({ panelId: panelA, objectId: objectA } = await createPanel(env.pool, 1001, 'A'));
    processor = await startProcessor(env, kafkaProducer);
  });

  afterAll(async () => {
    await processor?.stop();
    await events?.close();
    await kafkaProducer?.disconnect();
    await env?.cleanup();
  });

  it('bundles events of one zone within the window into one alarm, attaches the restore, and opens a new alarm after the window', async () => {
    const t = Date.now() - 60 * MIN;
    await events.send([
      satelEvent(panelA, 'ZONE_VIOLATION', 1, t),
      satelEvent(panelA, 'ZONE_VIOLATION', 1, t + 2 * MIN),
      satelEvent(panelA, 'ZONE_RESTORE', 1, t + 3 * MIN),
      satelEvent(panelA, 'ZONE_VIOLATION', 1, t + 14 * MIN), // 12 min after the last event: a new alarm
    ]);
    await waitUntil('4 events applied', async () => (await eventCount(env)) === 4);
    const { rows } = await env.pool.query('SELECT zone, event_count, restore_count, version FROM alarms WHERE object_id = $1 ORDER BY id', [objectA]);
    expect(rows).toEqual([
      { zone: 1, event_count: 2, restore_count: 1, version: 3 },
      { zone: 1, event_count: 1, restore_count: 0, version: 1 },
    ]);
  });

  it('counts a redelivered or re-read event once (same dedup_key)', async () => {
    const e = satelEvent(panelA, 'ZONE_ALARM', 2, Date.now());
    await events.send([e, { ...e }, { ...e, event_id: crypto.randomUUID() }]);
    await waitUntil('event applied', async () => (await eventCount(env)) === 5);
    await new Promise((r) => setTimeout(r, 500));
    expect(await eventCount(env)).toBe(5);
    const { rows } = await env.pool.query("SELECT event_count, severity FROM alarms WHERE category = 'intrusion' AND zone = 2");
    expect(rows).toEqual([{ event_count: 1, severity: 'CRITICAL' }]);
  });

  it('collapses an alarm flood on one object into one flood alarm that counts what it absorbed', async () => {
    const { panelId, objectId } = await createPanel(env.pool, 1002, 'FLOOD');
    const t = Date.now() - 5 * MIN;
    await events.send(Array.from({ length: 14 }, (_, i) => satelEvent(panelId, 'ZONE_ALARM', i + 1, t + i * 1000)));
    await waitUntil('14 events applied', async () => (await env.pool.query('SELECT 1 FROM events WHERE panel_id = $1', [panelId])).rowCount === 14);
    const { rows } = await env.pool.query<{ flood: boolean; n: number; events: number }>(
      'SELECT flood, count(*)::int AS n, sum(event_count)::int AS events FROM alarms WHERE object_id = $1 GROUP BY flood ORDER BY flood', [objectId]);
    expect(rows).toEqual([{ flood: false, n: 10, events: 10 }, { flood: true, n: 1, events: 4 }]);
  });

  it('flags alarms of objects in test or service mode, and queues push only for CRITICAL alarms of normal objects', async () => {
    const test = await createPanel(env.pool, 1003, 'TEST');
    const service = await createPanel(env.pool, 1004, 'SERVICE');
    const normal = await createPanel(env.pool, 1005, 'NORMAL');
    await env.pool.query('UPDATE objects SET test_mode = true WHERE id = $1', [test.objectId]);
    await env.pool.query('UPDATE objects SET service_mode_active = true WHERE id = $1', [service.objectId]);
    const t = Date.now();
    await events.send([test, service, normal].map((p) => satelEvent(p.panelId, 'ZONE_ALARM', 1, t)));
    await waitUntil('3 alarms', async () => (await env.pool.query('SELECT 1 FROM alarms WHERE object_id = ANY($1)', [[test.objectId, service.objectId, normal.objectId]])).rowCount === 3);
    const { rows } = await env.pool.query(
      `SELECT a.object_id, a.test, a.service, o.push FROM alarms a JOIN outbox o ON o.key = a.id::text WHERE a.object_id = ANY($1) ORDER BY a.object_id`,
      [[test.objectId, service.objectId, normal.objectId]]);
    expect(rows).toEqual([
      { object_id: test.objectId, test: true, service: false, push: false },
      { object_id: service.objectId, test: false, service: true, push: false },
      { object_id: normal.objectId, test: false, service: false, push: true },
    ]);
  });

  it('records an event with a stale fencing number without letting it change alarms', async () => {
    const { panelId, objectId } = await createPanel(env.pool, 1006, 'FENCE');
    const t = Date.now();
    await events.send([satelEvent(panelId, 'ZONE_ALARM', 1, t, { fencing: 7 })]);
    await waitUntil('first', async () => (await env.pool.query('SELECT 1 FROM alarms WHERE object_id = $1', [objectId])).rowCount === 1);
    await events.send([satelEvent(panelId, 'ZONE_ALARM', 1, t + 1000, { fencing: 6 }), satelEvent(panelId, 'ZONE_ALARM', 3, t + 1000, { fencing: 6 })]);
    await waitUntil('stale events recorded', async () => (await env.pool.query('SELECT 1 FROM events WHERE panel_id = $1 AND stale', [panelId])).rowCount === 2);
    const { rows } = await env.pool.query('SELECT zone, event_count FROM alarms WHERE object_id = $1', [objectId]);
    expect(rows).toEqual([{ zone: 1, event_count: 1 }]);
  });

  it('upgrades a record stored as stale when the lease holder delivers the same record, so its alarm is not lost', async () => {
    const { panelId, objectId } = await createPanel(env.pool, 1009, 'FENCE2');
    const t = Date.now();
    await events.send([satelEvent(panelId, 'ZONE_ALARM', 1, t, { fencing: 9 })]);
    const late = satelEvent(panelId, 'ZONE_ALARM', 4, t + 1000, { fencing: 8, dedup_key: `satel:${panelId}:log:77:abc` });
    await events.send([late]);
    await waitUntil('stale copy recorded', async () => (await env.pool.query('SELECT 1 FROM events WHERE dedup_key = $1 AND stale', [late.dedup_key])).rowCount === 1);
    await events.send([{ ...late, fencing: 10 }, { ...late, fencing: 10 }]);
    await waitUntil('zone 4 alarm opened', async () => (await env.pool.query('SELECT 1 FROM alarms WHERE object_id = $1 AND zone = 4', [objectId])).rowCount === 1);
    const { rows } = await env.pool.query('SELECT stale, fencing FROM events WHERE dedup_key = $1', [late.dedup_key]);
    expect(rows).toEqual([{ stale: false, fencing: 10 }]);
    const alarm = await env.pool.query('SELECT event_count FROM alarms WHERE object_id = $1 AND zone = 4', [objectId]);
    expect(alarm.rows).toEqual([{ event_count: 1 }]);
  });

  it('dead-letters a poison message with the reason and source offset, and keeps applying the good ones around it', async () => {
    const { panelId } = await createPanel(env.pool, 1007, 'POISON');
    const t = Date.now();
    await events.send([satelEvent(panelId, 'ZONE_VIOLATION', 1, t)]);
    await events.sendRaw(String(panelId), [Buffer.from('definitely not avro'), Buffer.from([0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9])]);
    await events.send([satelEvent(panelId, 'ZONE_VIOLATION', 2, t + 1)]);
    await waitUntil('both good events', async () => (await env.pool.query('SELECT 1 FROM events WHERE panel_id = $1', [panelId])).rowCount === 2);

    const consumer = env.kafka.consumer({ groupId: `${env.id}-dlq-reader` });
    const dead: { code: string; reason: string; offset: string; topic: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: topicName('satel.events.v1.dlq', env.id), fromBeginning: true });
    await consumer.run({ eachMessage: ({ message }) => {
      const h = (k: string) => String(message.headers?.[k] ?? '');
      dead.push({ code: h('x-error-code'), reason: h('x-error-reason'), offset: h('x-source-offset'), topic: h('x-source-topic') });
      return Promise.resolve();
    } });
    await waitUntil('2 dead letters', () => dead.length >= 2, 30_000);
    await consumer.disconnect();
    expect(dead.map((d) => d.code).sort()).toEqual(['E_AVRO_MAGIC', 'E_AVRO_UNKNOWN_SCHEMA']);
    expect(dead.every((d) => d.topic === topicName('satel.events.v1', env.id) && /^\d+$/.test(d.offset) && d.reason.length > 0)).toBe(true);
  });

  it('`stam dlq list` shows the dead letters and `stam dlq replay` re-injects them (still bad: dead-lettered again, marked as replayed)', async () => {
    const run = async (...args: string[]) => {
      const r = startRole('dlq', env.vars, args);
      const exit = await r.exited;
      return { code: exit.code, out: r.lines.map((l) => String(l.msg)).join('\n') };
    };
    const list = await run('list', '--topic', 'satel.events.v1');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/E_AVRO_MAGIC/);
    expect(list.out).toMatch(/E_AVRO_UNKNOWN_SCHEMA/);
    expect(list.out).toMatch(/2 dead letter\(s\)/);
    const replay = await run('replay', 'satel.events.v1', '--code', 'E_AVRO_MAGIC');
    expect(replay.out).toMatch(/1 dead letter\(s\) replayed/);
    await waitUntil('the replayed message is dead-lettered again', async () => /3 dead letter\(s\)/.test((await run('list', '--topic', 'satel.events.v1')).out), 30_000, 1000);
    const shown = await run('show', 'satel.events.v1', '2');
    expect(shown.out).toMatch(/x-replayed-from/);
  });

  it('waits out the database going away mid-stream and then applies everything exactly once', async () => {
    const { panelId } = await createPanel(env.pool, 1008, 'DBDOWN');
    const db = new URL(env.config.DATABASE_URL).pathname.slice(1);
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
    const t = Date.now();
    await events.send(Array.from({ length: 50 }, (_, i) => satelEvent(panelId, 'ZONE_VIOLATION', (i % 8) + 1, t + i)));
    await new Promise((r) => setTimeout(r, 3000));
    await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
    await admin.end();
    await waitUntil('50 events after the database came back', async () => (await env.pool.query('SELECT 1 FROM events WHERE panel_id = $1', [panelId])).rowCount === 50, 60_000);
    const { rows } = await env.pool.query<{ n: number }>('SELECT sum(event_count)::int AS n FROM alarms WHERE panel_id = $1', [panelId]);
    expect(rows[0]!.n).toBe(50);
  });

  it('replaying the topic through the same rules into an empty schema yields the same alarms', async () => {
    const replay = await createTestEnv();
    try {
      // Same objects and panels, in the same order, so the ids match.
      const { rows: panels } = await env.pool.query<{ port: number; code: string; test_mode: boolean; service_mode_active: boolean }>(
        'SELECT p.port, o.code, o.test_mode, o.service_mode_active FROM panels p JOIN objects o ON o.id = p.object_id ORDER BY p.id');
      for (const p of panels) {
        const { objectId } = await createPanel(replay.pool, p.port, p.code);
        await replay.pool.query('UPDATE objects SET test_mode = $2, service_mode_active = $3 WHERE id = $1', [objectId, p.test_mode, p.service_mode_active]);
      }
      const total = await eventCount(env);
      const replayProcessor = createAlarmProcessor({
        kafka: env.kafka, producer: kafkaProducer, pool: replay.pool, log, groupId: `${replay.id}-replay`, topicPrefix: env.id, maxBatch: 500,
        bundlingWindowMs: 10 * MIN, smsEnabled: false, flood: { threshold: 10, windowMs: 10 * MIN },
      });
      await replayProcessor.start();
      await waitUntil('replay caught up', async () => (await eventCount(replay)) === total, 60_000);
      await replayProcessor.stop();
      const q = `SELECT object_id, panel_id, source, zone, category, severity, status, version, event_count, restore_count, first_event_at, last_event_at, test, service, flood
                   FROM alarms ORDER BY object_id, first_event_at, zone, flood`;
      const [a, b] = await Promise.all([env.pool.query(q), replay.pool.query(q)]);
      expect(b.rows.length).toBeGreaterThan(10);
      expect(b.rows).toEqual(a.rows);
    } finally {
      await replay.cleanup();
    }
  });
});
