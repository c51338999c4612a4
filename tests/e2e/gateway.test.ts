import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_RESTART } from '../../gateway/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser, insertAlarm, type TestUser } from '../helpers/gateway.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { api, login, waitUntil } from '../helpers/system.ts';
import { alarmUpdate, connectStream } from '../helpers/ws.ts';

/**
 * Real processes: two `stam gateway` instances and `stam outbox-relay`. An operator action on one
 * instance reaches a client of the other; SIGTERM closes clients with 1012 ("reconnect and resume"); a
 * client resumes on another instance, and on an instance started after updates were published while no
 * gateway ran, and misses nothing.
 */
describe('gateway processes: operator action → outbox → relay → every instance → WebSocket', () => {
  let env: TestEnv;
  const procs: RoleProcess[] = [];
  let user: TestUser;
  let objectId: number;

  async function gateway(): Promise<{ proc: RoleProcess; base: string; token: string }> {
    const proc = startRole('gateway', env.vars);
    procs.push(proc);
    const line = await proc.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    const base = `http://127.0.0.1:${line.port as number}`;
    await waitUntil('gateway ready', async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 200);
    return { proc, base, token: await login(base, { username: user.username, password: user.password }) };
  }

  beforeAll(async () => {
    // Push and arm/disarm are not what this test is about (and need RabbitMQ in a known state).
    env = await createTestEnv({ FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_REALTIME_ENABLED: 'true' });
    user = await createUser(env.pool, 'op.e2e', 'OPERATOR');
    objectId = (await env.pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('E2E', 'E2E') RETURNING id`)).rows[0]!.id;
    const relay = startRole('outbox-relay', env.vars);
    procs.push(relay);
    await relay.waitForLog(msgIs('outbox relay publishing'));
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await env?.cleanup();
  });

  it('holds across instances, a SIGTERM and a restart', async () => {
    const a = await gateway();
    const b = await gateway();
    const alarmId = await insertAlarm(env.pool, objectId);

    const client = await connectStream(a.base, a.token);
    const snapshot = await client.waitFor((m) => m.type === 'resync');
    expect(snapshot.alarms!.map((x) => x.alarm_id)).toContain(alarmId);

    // An operator claims through instance B; the client of instance A sees it (every instance tails the stream).
    const claim = await api<{ alarm: { version: number } }>(b.base, `/api/alarms/${alarmId}/claim`, { body: { version: 1 }, token: b.token });
    expect(claim.status).toBe(200);
    const claimed = await client.waitFor((m) => m.alarm?.alarm_id === alarmId && m.alarm.version === 2);
    expect(claimed).toMatchObject({ type: 'alarm.updated', alarm: { status: 'CLAIMED', owner: 'op.e2e' } });

    // SIGTERM: the client is told to reconnect and resume; the process drains and exits cleanly.
    const exit = a.proc.stop('SIGTERM');
    expect(await client.closed).toEqual({ code: CLOSE_RESTART, reason: 'server restarting: reconnect and resume' });
    expect((await exit).code).toBe(0);
    const resumeFrom = client.last();

    // Meanwhile: an acknowledgement through B, then B stops too and the processor opens a new alarm while no gateway runs.
    expect((await api(b.base, `/api/alarms/${alarmId}/ack`, { body: { version: 2 }, token: b.token })).status).toBe(200);
    await waitUntil('ack published', async () => (await env.pool.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0].n === 0);
    expect((await b.proc.stop('SIGTERM')).code).toBe(0);
    const second = await insertAlarm(env.pool, objectId);
    await env.pool.query(`INSERT INTO outbox (kind, key, payload) VALUES ('alarm.update', $1, $2)`, [String(second), alarmUpdate(second, 1, objectId)]);
    await waitUntil('new alarm published', async () => (await env.pool.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0].n === 0);

    // A new instance starts after all that; the client resumes on it and gets exactly what it missed, in order.
    const c = await gateway();
    const again = await connectStream(c.base, c.token, { resume: resumeFrom });
    expect(await again.waitFor((m) => m.type === 'hello')).toMatchObject({ resume: 'replay', missed: 2 });
    await again.waitFor(() => again.updates().length === 2);
    expect(again.updates()).toEqual([`${alarmId}:3`, `${second}:1`]);
    expect(again.messages.find((m) => m.alarm?.alarm_id === alarmId)).toMatchObject({ alarm: { status: 'ACKNOWLEDGED' } });
    await again.close();
  });
});
