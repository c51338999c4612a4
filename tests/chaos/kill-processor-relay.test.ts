import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecFor, topicName } from '../../schemas/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { eventProducer, satelEvent } from '../helpers/events.ts';
import { startRole, msgIs, type RoleProcess } from '../../load-tests/index.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';
import type { SatelEvent } from '../../schemas/index.ts';
import { createRng } from '../../platform/random.ts';

const PANELS = 50;
const ZONES = 8;
const EVENTS = 10_000;
const DUPLICATE_EVERY = 20; // every 20th event is sent twice (a driver re-reading or a producer retry)


/**
 * Chaos: stream 10,000 events through the real broker and database while killing the alarm processor and
 * the outbox relay with SIGKILL at random moments, several times each. Afterwards every event is stored
 * exactly once, every alarm counts exactly the events it bundles, no alarm exists twice, and the latest
 * version of every alarm reached alarm.updates.v1.
 */
describe('SIGKILL of the processor and relay mid-stream loses and duplicates nothing', () => {
  let env: TestEnv;
  const live = new Map<string, RoleProcess>();
  const kills: string[] = [];

  beforeAll(async () => {
    env = await createTestEnv({ PROCESSOR_MAX_BATCH: '300', RELAY_BATCH: '100', FLOOD_THRESHOLD: '1000' });
  });

  afterAll(async () => {
    await Promise.all([...live.values()].map((r) => r.stop()));
    await env?.cleanup();
  });

  function start(role: string): RoleProcess {
    const r = startRole(role, env.vars);
    live.set(role, r);
    return r;
  }

  it('holds every guarantee after repeated kills', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    console.log(`[chaos] seed ${seed} (CHAOS_SEED=${seed} repeats this run)`);
    const rand = createRng(seed);
    const panelIds: number[] = [];
    for (let p = 0; p < PANELS; p++) panelIds.push((await createPanel(env.pool, 20_000 + p, `CHAOS-${p}`)).panelId);

    // Per (panel, zone) the first event is a violation; later ones alternate, so every event joins the one
    // alarm of its zone (all within the bundling window) and the expected totals are known.
    const base = Date.now() - 60_000;
    const seen = new Map<string, number>();
    const events: SatelEvent[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const panel = panelIds[Math.floor(rand() * PANELS)]!;
      const zone = 1 + Math.floor(rand() * ZONES);
      const k = `${panel}:${zone}`;
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      events.push(satelEvent(panel, n % 2 === 0 ? 'ZONE_VIOLATION' : 'ZONE_RESTORE', zone, base + i));
    }

    start('alarm-processor');
    start('outbox-relay');
    await live.get('alarm-processor')!.waitForLog(msgIs('alarm processor consuming'));

    const producer = await eventProducer(env.kafka, env.id);
    let producing = true;
    const produce = (async () => {
      for (let i = 0; i < events.length; i += 250) {
        const chunk = events.slice(i, i + 250);
        const withDups = chunk.flatMap((e, j) => ((i + j) % DUPLICATE_EVERY === 0 ? [e, { ...e }] : [e]));
        await producer.send(withDups);
        await new Promise((r) => setTimeout(r, 150));
      }
      producing = false;
    })();

    // The killer: SIGKILL one of the two at a random moment, restart it at once; at least 3 kills each.
    const killer = (async () => {
      const count: Record<string, number> = { 'alarm-processor': 0, 'outbox-relay': 0 };
      while (producing || count['alarm-processor']! < 3 || count['outbox-relay']! < 3) {
        await new Promise((r) => setTimeout(r, 1200 + rand() * 2000));
        const role = count['alarm-processor']! < 3 && (rand() < 0.5 || count['outbox-relay']! >= 3) ? 'alarm-processor' : 'outbox-relay';
        const victim = live.get(role)!;
        victim.proc.kill('SIGKILL');
        await victim.exited;
        count[role]!++;
        kills.push(`${role}@${Date.now() - base - 60_000}ms`);
        start(role);
      }
    })();
    await Promise.all([produce, killer]);
    await producer.close();
    console.log(`[chaos] kills: ${kills.join(', ')}`);

    const unique = events.length;
    await waitUntil('every event stored', async () => (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n === unique, 180_000, 500);
    await waitUntil('outbox drained', async () => (await env.pool.query('SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1')).rowCount === 0, 120_000, 500);

    const q = async <T>(sql: string) => (await env.pool.query(sql)).rows as T[];
    const { events: stored, keys } = (await q<{ events: number; keys: number }>('SELECT count(*)::int AS events, count(DISTINCT dedup_key)::int AS keys FROM events'))[0]!;
    expect({ stored, keys }).toEqual({ stored: unique, keys: unique });

    const alarms = await q<{ id: number; version: number; event_count: number; restore_count: number; linked: number; panel_id: number; zone: number }>(
      `SELECT a.id, a.version, a.event_count, a.restore_count, a.panel_id, a.zone, (SELECT count(*)::int FROM alarm_events ae WHERE ae.alarm_id = a.id) AS linked FROM alarms a`);
    expect(alarms.length).toBe(seen.size); // one alarm per (panel, zone): no alarm exists twice
    expect(new Set(alarms.map((a) => `${a.panel_id}:${a.zone}`)).size).toBe(seen.size);
    for (const a of alarms) {
      expect(a.event_count + a.restore_count, `alarm ${a.id}`).toBe(a.linked);
      expect(a.version, `alarm ${a.id}`).toBe(a.linked);
      expect(a.linked, `alarm ${a.id}`).toBe(seen.get(`${a.panel_id}:${a.zone}`));
    }
    const { total } = (await q<{ total: number }>('SELECT count(*)::int AS total FROM alarm_events'))[0]!;
    expect(total).toBe(unique);

    // Every alarm's latest version reached alarm.updates.v1 (duplicates there are allowed: clients order by version).
    const latest = new Map<number, number>();
    const codec = codecFor('AlarmUpdate');
    const topic = topicName('alarm.updates.v1', env.id);
    const admin = env.kafka.admin();
    await admin.connect();
    const { high } = (await admin.fetchTopicOffsets(topic))[0]!;
    await admin.disconnect();
    const consumer = env.kafka.consumer({ groupId: `${env.id}-verify` });
    let read = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: ({ message }) => {
      const u = codec.decode(message.value!);
      latest.set(u.alarm_id, Math.max(latest.get(u.alarm_id) ?? 0, u.version));
      read++;
      return Promise.resolve();
    } });
    await waitUntil('read alarm.updates.v1 to its end', () => read >= Number(high), 60_000);
    await consumer.disconnect();
    for (const a of alarms) expect(latest.get(a.id), `alarm ${a.id} on alarm.updates.v1`).toBe(a.version);
    console.log(`[chaos] ${unique} events (+${Math.ceil(unique / DUPLICATE_EVERY)} duplicates sent), ${alarms.length} alarms, ${read} updates published for ${alarms.reduce((s, a) => s + a.version, 0)} versions`);
  });
});
