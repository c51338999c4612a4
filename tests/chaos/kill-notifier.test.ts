import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeFcm } from '../../simulator/index.ts';
import type { RoleProcess } from '../../load-tests/index.ts';
import { createVhost } from '../helpers/commands.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { notifierVars, publishJobs, queueProbe, startFakeFcm, startNotifierRole, userWithPhone, type QueueProbe } from '../helpers/push.ts';
import { waitUntil } from '../helpers/system.ts';

const ALARMS = 1000;
const OBJECTS = 40;
const CONCURRENCY = 8;

/**
 * SIGKILL of the notifier in the middle of a 1,000-alarm burst, twice: every device gets each alarm, and
 * its phone shows it exactly once. The sends ledger makes a redelivered job skip every device already
 * sent; what it cannot know is a send FCM accepted in the instant before the kill (the claim rolled back
 * with the process): that one is sent again with the same tag, which the phone replaces instead of
 * adding. Those copies are counted and bounded by what can be in flight at a kill.
 */
describe('notifier killed with SIGKILL during a 1,000-alarm burst', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let fcm: FakeFcm;
  let probe: QueueProbe;
  const roles: RoleProcess[] = [];
  const expected = new Map<string, Set<number>>(); // token → alarms its phone must show
  let alarmIds: number[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    vhost = await createVhost();
    fcm = await startFakeFcm(env.id);
    probe = await queueProbe(vhost.url);
    const { rows: objects } = await env.pool.query<{ id: number }>(
      `INSERT INTO objects (code, name) SELECT 'CHAOS-' || i, 'Chaos site ' || i FROM generate_series(1, $1) i RETURNING id`, [OBJECTS]);
    const objectIds = objects.map((o) => o.id);
    // Ten field workers with a share of the sites each, one technician for every site, one supervisor on duty.
    const workers = [];
    for (let k = 0; k < 10; k++) workers.push(await userWithPhone(env.pool, `fw.${k}`, 'FIELD_WORKER', objectIds.filter((_, i) => i % 10 === k)));
    const tech = await userWithPhone(env.pool, 'tech.all', 'TECHNICIAN', objectIds);
    const sup = await userWithPhone(env.pool, 'sup.duty', 'SUPERVISOR');
    await env.pool.query(`UPDATE users SET on_duty_until = now() + interval '8 hours' WHERE id = $1`, [sup.id]);
    const { rows } = await env.pool.query<{ id: number; object_id: number }>(
      `INSERT INTO alarms (object_id, source, zone, bundle_key, category, severity, title, event_count, first_event_at, last_event_at)
       SELECT ($1::bigint[])[1 + (i % $2)], 'satel', 1, 'chaos:' || i, 'intrusion', 'CRITICAL', 'Zone 1 alarm', 1, now(), now()
         FROM generate_series(0, $3 - 1) i RETURNING id, object_id`, [objectIds, OBJECTS, ALARMS]);
    alarmIds = rows.map((r) => r.id);
    for (const r of rows) {
      const worker = workers[objectIds.indexOf(r.object_id) % 10]!;
      for (const token of [worker.token, tech.token, sup.token]) expected.set(token, (expected.get(token) ?? new Set()).add(r.id));
    }
    await publishJobs(vhost.url, rows.map((r) => ({ alarm_id: r.id, object_id: r.object_id })));
    fcm.behave('*', { answer: 'ok', delayMs: 15 }); // FCM takes a moment: sends are in flight when the kill comes
  }, 120_000);

  afterAll(async () => {
    await Promise.all(roles.map((r) => r.stop('SIGKILL')));
    await probe?.close();
    await fcm?.stop();
    await vhost?.remove();
    await env?.cleanup();
  });

  it('every device gets each alarm, and its phone shows it exactly once', async () => {
    const vars = { ...env.vars, ...notifierVars(fcm, vhost.url, { NOTIFIER_CONCURRENCY: String(CONCURRENCY), NOTIFIER_PREFETCH: '64' }) };
    const total = ALARMS * 3;
    let kills = 0;
    for (const at of [total * 0.2, total * 0.55]) {
      const n = await startNotifierRole(vars);
      roles.push(n);
      await waitUntil(`${Math.round(at)} sends accepted`, () => fcm.received.length >= at, 120_000, 5);
      n.proc.kill('SIGKILL');
      await n.exited;
      kills++;
    }
    const last = await startNotifierRole(vars);
    roles.push(last);
    await waitUntil('every pair accepted', () => {
      const pairs = new Set(fcm.received.map((r) => `${r.token}|${r.message.data?.alarm_id}`));
      return pairs.size >= total;
    }, 180_000, 200);
    await waitUntil('queue drained', async () => (await probe.depth()).push === 0, 30_000);

    // Every device got each of its alarms; nothing else.
    const accepted = new Map<string, number>();
    for (const r of fcm.received) accepted.set(`${r.token}|${r.message.data?.alarm_id}`, (accepted.get(`${r.token}|${r.message.data?.alarm_id}`) ?? 0) + 1);
    const want = [...expected].flatMap(([token, alarms]) => [...alarms].map((a) => `${token}|${a}`)).sort();
    expect([...accepted.keys()].sort()).toEqual(want);
    // Each phone shows each alarm exactly once: one notification per alarm tag, nothing more.
    for (const [token, alarms] of expected) {
      const drawer = fcm.phone(token);
      expect(drawer.map((s) => s.tag).sort()).toEqual([...alarms].map((a) => `alarm-${a}`).sort());
    }
    // FCM-level copies exist only for sends in flight at a kill: at most CONCURRENCY jobs × 3 devices each.
    const copies = [...accepted.values()].reduce((s, n) => s + (n - 1), 0);
    console.log(`notifier chaos: ${fcm.received.length} accepted sends for ${total} (alarm, device) pairs, ${kills} SIGKILLs, ${copies} resent copies replaced on the phone by their tag`);
    expect(copies).toBeLessThanOrEqual(kills * CONCURRENCY * 3);
    // The ledger: one accepted row per pair, with a message name FCM really gave for that token and alarm.
    const { rows } = await env.pool.query<{ n: number; named: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE outcome = 'accepted' AND fcm_message_name IS NOT NULL)::int AS named FROM push_sends WHERE alarm_id = ANY($1)`, [alarmIds]);
    expect(rows[0]).toEqual({ n: total, named: total });
    const names = new Set(fcm.received.map((r) => r.name));
    const { rows: ledger } = await env.pool.query<{ fcm_message_name: string }>('SELECT fcm_message_name FROM push_sends WHERE alarm_id = ANY($1)', [alarmIds]);
    expect(ledger.every((r) => names.has(r.fcm_message_name))).toBe(true);
    expect(await probe.depth()).toEqual({ push: 0, dead: 0 });
  }, 300_000);
});
