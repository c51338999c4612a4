import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createProducer, panelStateChannel, registry } from '../../platform/index.ts';
import { CLOSE_TOO_SLOW, EPOCH_KEY, type GatewaySettings } from '../../gateway/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../../schemas/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';
import { waitUntil } from '../helpers/system.ts';
import { connectStream, ticketFor, updatePublisher, updateSeries, type StreamClient } from '../helpers/ws.ts';

const key = (u: AlarmUpdate) => `${u.alarm_id}:${u.version}`;

interface Setup { env: TestEnv; gw: GatewayUnderTest; token: string; objectA: number; objectB: number; publisher: Awaited<ReturnType<typeof updatePublisher>> }

async function setup(opts: { bufferSize?: number; settings?: Partial<GatewaySettings> } = {}): Promise<Setup> {
  const env = await createTestEnv();
  const gw = await startGateway(env, { listen: true, stream: true, ...opts });
  const objectA = (await env.pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('A', 'A') RETURNING id`)).rows[0]!.id;
  const objectB = (await env.pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('B', 'B') RETURNING id`)).rows[0]!.id;
  const token = (await loginInject(gw.app, await createUser(env.pool, 'op', 'OPERATOR'))).access_token;
  const publisher = await updatePublisher(env.kafka, env.id);
  return { env, gw, token, objectA, objectB, publisher };
}

async function teardown(s: Setup | undefined): Promise<void> {
  await s?.publisher.close();
  await s?.gw.close();
  await s?.env.cleanup();
}

/** Publishes, then waits until the gateway has recorded and fanned out everything. */
async function publishAndSettle(s: Setup, list: AlarmUpdate[]): Promise<number> {
  const before = s.gw.stream!.head;
  await s.publisher.publish(list);
  await waitUntil('gateway caught up', () => s.gw.stream!.head >= before + list.length, 60_000, 20);
  return s.gw.stream!.head;
}

describe('realtime stream: resume after a disconnect', () => {
  let s: Setup;
  beforeAll(async () => { s = await setup(); });
  afterAll(() => teardown(s));

  it('a fresh client gets a resync snapshot of open alarms at the current position', async () => {
    await s.env.pool.query(`INSERT INTO alarms (object_id, source, bundle_key, category, severity, title, first_event_at, last_event_at, status)
      VALUES ($1, 'satel', 'k1', 'zone-violation', 'CRITICAL', 'open one', now(), now(), 'NEW'), ($1, 'satel', 'k2', 'zone-violation', 'INFO', 'closed one', now(), now(), 'CLOSED')`, [s.objectA]);
    const c = await connectStream(s.gw.base, s.token);
    const hello = await c.waitFor((m) => m.type === 'hello');
    const resync = await c.waitFor((m) => m.type === 'resync');
    expect(hello).toMatchObject({ resume: 'resync', reason: 'fresh', epoch: s.gw.stream!.epoch });
    expect(resync).toMatchObject({ reason: 'fresh', position: s.gw.stream!.head, truncated: false });
    expect(resync.alarms!.map((a) => a.title)).toEqual(['open one']);
    await c.close();
  });

  it('a client that disconnects while 1,000 updates flow gets exactly what it missed, in order, from the buffer', async () => {
    const series = updateSeries(1000, 100, 1000, () => s.objectA);
    const c1 = await connectStream(s.gw.base, s.token);
    await c1.waitFor((m) => m.type === 'resync');
    const publishing = (async () => {
      for (let i = 0; i < series.length; i += 50) {
        await s.publisher.publish(series.slice(i, i + 50));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await c1.waitFor(() => c1.updates().length >= 100);
    await c1.close();
    const first = c1.updates();
    const resumeFrom = c1.last();
    await publishing;
    await waitUntil('all recorded', () => s.gw.stream!.head >= resumeFrom.position + (series.length - first.length), 60_000, 20);
    expect(first.length).toBeLessThan(series.length); // it really missed some

    const c2 = await connectStream(s.gw.base, s.token, { resume: resumeFrom });
    await c2.waitFor(() => first.length + c2.updates().length >= series.length);
    expect(c2.messages[0]).toMatchObject({ type: 'hello', resume: 'replay', source: 'buffer', missed: series.length - first.length });
    // Every update exactly once, in publication order (so per alarm by version).
    expect([...first, ...c2.updates()]).toEqual(series.map(key));
    // And then it simply continues live.
    await s.publisher.publish(updateSeries(5000, 1, 1, () => s.objectA));
    await c2.waitFor((m) => m.alarm?.alarm_id === 5000);
    expect(c2.updates().at(-1)).toBe('5000:1');
    const positions = c2.messages.filter((m) => m.alarm).map((m) => m.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    await c2.close();
  });

  it('a client resuming from where it is gets nothing twice; a wrong epoch gets a resync', async () => {
    const c1 = await connectStream(s.gw.base, s.token);
    const at = (await c1.waitFor((m) => m.type === 'resync')).position;
    await c1.close();
    const c2 = await connectStream(s.gw.base, s.token, { resume: { epoch: s.gw.stream!.epoch, position: at } });
    expect(await c2.waitFor((m) => m.type === 'hello')).toMatchObject({ resume: 'live', position: at });
    await s.publisher.publish(updateSeries(6000, 1, 2, () => s.objectA));
    await c2.waitFor(() => c2.updates().length === 2);
    expect(c2.updates()).toEqual(['6000:1', '6000:2']);
    await c2.close();
    const c3 = await connectStream(s.gw.base, s.token, { resume: { epoch: 'another-epoch', position: at } });
    expect(await c3.waitFor((m) => m.type === 'resync')).toMatchObject({ reason: 'epoch', epoch: s.gw.stream!.epoch });
    await c3.close();
  });

  it('a WebSocket ticket works once, and not after it expired', async () => {
    const ticket = await ticketFor(s.gw.base, s.token);
    const open = (t: string) => new Promise<number>((resolve) => {
      const ws = new WebSocket(`${s.gw.base.replace('http', 'ws')}/ws?ticket=${t}`);
      ws.once('open', () => { ws.close(); resolve(101); });
      ws.on('error', () => undefined);
      ws.once('unexpected-response', (req, res) => { resolve(res.statusCode ?? 0); req.destroy(); });
    });
    expect(await open(ticket)).toBe(101);
    expect(await open(ticket)).toBe(401);
    expect(await open('x'.repeat(32))).toBe(401);
    expect(await open('short')).toBe(400);
    const stale = await ticketFor(s.gw.base, s.token);
    await s.env.redis.pexpire(`ws:ticket:${stale}`, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await open(stale)).toBe(401);
    // Tokens never travel in the URL: the endpoint does not accept one.
    expect(await open(`${ticket}&access_token=${s.token}`)).toBe(400);
  });

  it('the client message protocol: ping is answered with the position, anything else is an error, never a crash', async () => {
    const c = await connectStream(s.gw.base, s.token);
    await c.waitFor((m) => m.type === 'resync');
    c.ws.send('{"type":"ping"}');
    expect(await c.waitFor((m) => m.type === 'pong')).toMatchObject({ epoch: s.gw.stream!.epoch, position: expect.any(Number) });
    c.ws.send('{not json');
    c.ws.send(Buffer.from([0xff, 0x00]));
    await c.waitFor(() => c.messages.filter((m) => m.type === 'error').length === 2);
    expect(c.messages.filter((m) => m.type === 'error')[0]).toMatchObject({ code: 'E_VALIDATION' });
    await c.close();
  });
});

describe('realtime stream: beyond the Redis buffer', () => {
  let s: Setup;
  beforeAll(async () => { s = await setup({ bufferSize: 100, settings: { wsResumeMaxGap: 1000 } }); });
  afterAll(() => teardown(s));

  it('past the 100-update buffer the missed updates come from PostgreSQL, exactly once and in order', async () => {
    const c1 = await connectStream(s.gw.base, s.token);
    const at = (await c1.waitFor((m) => m.type === 'resync')).position;
    await c1.close();
    const series = updateSeries(1, 40, 400, () => s.objectA);
    await publishAndSettle(s, series);
    expect(await s.env.redis.zcard('ws:events:buffer')).toBe(100);
    const c2 = await connectStream(s.gw.base, s.token, { resume: { epoch: s.gw.stream!.epoch, position: at } });
    await c2.waitFor(() => c2.updates().length === series.length);
    expect(c2.messages[0]).toMatchObject({ type: 'hello', resume: 'replay', source: 'history', missed: 400 });
    expect(c2.updates()).toEqual(series.map(key));
    await c2.close();
  });

  it('when neither the buffer nor the history has every missed position, the client gets a resync instead of a gap', async () => {
    const c1 = await connectStream(s.gw.base, s.token);
    const at = (await c1.waitFor((m) => m.type === 'resync')).position;
    await c1.close();
    await publishAndSettle(s, updateSeries(100, 10, 150, () => s.objectA));
    // History retention removed the oldest missed positions.
    await s.env.pool.query('DELETE FROM stream_history WHERE position <= $1', [at + 10]);
    const c2 = await connectStream(s.gw.base, s.token, { resume: { epoch: s.gw.stream!.epoch, position: at } });
    const resync = await c2.waitFor((m) => m.type === 'resync');
    expect(resync).toMatchObject({ reason: 'gap', position: s.gw.stream!.head });
    expect(c2.updates()).toEqual([]);
    await c2.close();
  });

  it('a gap larger than WS_RESUME_MAX_GAP is a resync straight away', async () => {
    const c1 = await connectStream(s.gw.base, s.token);
    const at = (await c1.waitFor((m) => m.type === 'resync')).position;
    await c1.close();
    await publishAndSettle(s, updateSeries(200, 10, 1001, () => s.objectA));
    const c2 = await connectStream(s.gw.base, s.token, { resume: { epoch: s.gw.stream!.epoch, position: at } });
    expect(await c2.waitFor((m) => m.type === 'resync')).toMatchObject({ reason: 'gap' });
    await c2.close();
  });
});

describe('realtime stream: scope, panel state, command results and pings', () => {
  let s: Setup;
  let techToken: string;
  beforeAll(async () => {
    s = await setup({ settings: { wsPingIntervalMs: 300 } });
    techToken = (await loginInject(s.gw.app, await createUser(s.env.pool, 'tech', 'TECHNICIAN', [s.objectA]))).access_token;
  });
  afterAll(() => teardown(s));

  it('a technician sees only their objects\' alarms, panel states and command results; test alarms only when asked', async () => {
    const panelA = (await s.env.pool.query<{ id: number }>(`INSERT INTO panels (object_id, name, host, port) VALUES ($1, 'pA', '10.0.0.1', 7094) RETURNING id`, [s.objectA])).rows[0]!.id;
    const panelB = (await s.env.pool.query<{ id: number }>(`INSERT INTO panels (object_id, name, host, port) VALUES ($1, 'pB', '10.0.0.2', 7094) RETURNING id`, [s.objectB])).rows[0]!.id;
    const tech = await connectStream(s.gw.base, techToken);
    const techWithTest = await connectStream(s.gw.base, techToken, { query: '&include_test=true' });
    const op = await connectStream(s.gw.base, s.token);
    for (const c of [tech, techWithTest, op]) await c.waitFor((m) => m.type === 'resync');
    const list = [...updateSeries(700, 1, 1, () => s.objectA), ...updateSeries(701, 1, 1, () => s.objectB)];
    list.push({ ...updateSeries(702, 1, 1, () => s.objectA)[0]!, test: true });
    await publishAndSettle(s, list);
    await op.waitFor(() => op.updates().length === 2);
    await techWithTest.waitFor(() => techWithTest.updates().length === 2);
    expect(op.updates()).toEqual(['700:1', '701:1']);
    expect(tech.updates()).toEqual(['700:1']);
    expect(techWithTest.updates()).toEqual(['700:1', '702:1']);

    // Panel live state: the driver writes the hash and names the panel on the channel.
    for (const p of [panelB, panelA]) {
      await s.env.redis.hset(`panel:${p}:state`, { state: JSON.stringify({ armed: [1] }), link: 'connected', last_seen: String(Date.now()) });
      await s.env.redis.publish(panelStateChannel(s.env.redis), String(p));
    }
    await op.waitFor((m) => m.type === 'panel.state' && m.panel_id === panelA);
    expect(op.messages.filter((m) => m.type === 'panel.state').map((m) => m.panel_id).sort()).toEqual([panelA, panelB].sort());
    const techState = await tech.waitFor((m) => m.type === 'panel.state');
    expect(techState).toMatchObject({ panel_id: panelA, object_id: s.objectA, state: { armed: [1] }, link: 'connected', epoch: s.gw.stream!.epoch, position: tech.last().position });

    // Command results arrive from command.results.v1.
    const producer = await createProducer(s.env.kafka);
    const codec = codecFor('CommandResult');
    await producer.send({
      topic: topicName('command.results.v1', s.env.id), acks: -1,
      messages: [panelB, panelA].map((p) => ({ key: `cmd-${p}`, value: codec.encode({ command_id: `cmd-${p}`, panel_id: p, action: 'arm', status: 'SUCCEEDED', reason: null, panel_result_code: 0, finished_at: Date.now(), trace: null }) })),
    });
    await producer.disconnect();
    await op.waitFor(() => op.messages.filter((m) => m.type === 'command.result').length === 2);
    const techResult = await tech.waitFor((m) => m.type === 'command.result');
    expect(techResult).toMatchObject({ object_id: s.objectA, result: { command_id: `cmd-${panelA}`, status: 'SUCCEEDED' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(tech.messages.filter((m) => m.type === 'command.result' || m.type === 'panel.state')).toHaveLength(2);
    for (const c of [tech, techWithTest, op]) await c.close();
  });

  it('a user disabled while connected is disconnected within seconds', async () => {
    const leaver = await createUser(s.env.pool, 'leaver', 'OPERATOR');
    const c = await connectStream(s.gw.base, (await loginInject(s.gw.app, leaver)).access_token);
    await c.waitFor((m) => m.type === 'resync');
    await s.env.pool.query('UPDATE users SET disabled = true WHERE id = $1', [leaver.id]);
    const closed = await Promise.race([c.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(closed).toEqual({ code: 1008, reason: 'account disabled or removed' });
  });

  it('the server pings: heartbeats carry the position, and a client that stops answering pings is dropped', async () => {
    const alive = await connectStream(s.gw.base, s.token);
    await alive.waitFor((m) => m.type === 'heartbeat');
    const dead = await connectStream(s.gw.base, s.token, { ws: { autoPong: false } });
    const closed = await Promise.race([dead.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    expect(closed).not.toBeNull();
    expect(closed!.code).toBe(1006); // terminated, no close handshake
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    await alive.close();
  });

});

describe('realtime stream: slow clients', () => {
  let s: Setup;
  beforeAll(async () => { s = await setup({ settings: { wsPingIntervalMs: 60_000, wsSlowBytes: 512 * 1024, wsMaxBytes: 4 * 1024 * 1024, wsMaxCoalesced: 200 } }); });
  afterAll(() => teardown(s));

  /** The newest version per alarm a client ended with, and whether any version came twice or out of order. */
  const latest = (msgs: { alarm?: AlarmUpdate; position: number }[]) => {
    const v = new Map<number, number>();
    let ordered = true;
    for (const m of msgs) {
      if (!m.alarm) continue;
      if ((v.get(m.alarm.alarm_id) ?? 0) >= m.alarm.version) ordered = false;
      v.set(m.alarm.alarm_id, m.alarm.version);
    }
    return { v, ordered };
  };

  it('a client that stops reading is coalesced, then disconnected with "reconnect and resume"; others keep up', async () => {
    const fast = await connectStream(s.gw.base, s.token);
    const slow = await connectStream(s.gw.base, s.token);
    for (const c of [fast, slow]) await c.waitFor((m) => m.type === 'resync');
    const socketOf = (c: StreamClient) => (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socketOf(slow).pause();
    const slowDisconnects = async () => (await registry.getSingleMetric('stam_gateway_ws_slow_disconnects_total')!.get()).values[0]?.value ?? 0;
    const before = await slowDisconnects();
    // 6,000 updates of 500 alarms, 4 KB each: far more than the kernel buffers of a reader that stopped.
    const series = updateSeries(10_000, 500, 6000, () => s.objectA).map((u) => ({ ...u, title: 'x'.repeat(4000) }));
    const publishing = (async () => {
      for (let i = 0; i < series.length; i += 100) {
        await s.publisher.publish(series.slice(i, i + 100));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitUntil('the slow client was cut off', async () => (await slowDisconnects()) > before, 60_000, 20);
    socketOf(slow).resume();
    expect(await slow.closed).toEqual({ code: CLOSE_TOO_SLOW, reason: 'too slow: reconnect and resume' });
    expect(slow.updates().length).toBeLessThan(series.length);
    await publishing;

    // The reader that kept reading stayed connected and holds the newest version of every alarm, never an older one after a newer.
    await fast.waitFor(() => latest(fast.messages).v.get(10_499) === 12, 60_000);
    const f = latest(fast.messages);
    expect(f.ordered).toBe(true);
    expect(f.v.size).toBe(500);
    expect([...f.v.values()].every((v) => v === 12)).toBe(true);
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);

    // The slow one reconnects from its last position and ends up with the newest version of every alarm.
    const again = await connectStream(s.gw.base, s.token, { resume: slow.last() });
    expect(await again.waitFor((m) => m.type === 'hello')).toMatchObject({ resume: 'replay' });
    await again.waitFor(() => latest([...slow.messages, ...again.messages]).v.get(10_499) === 12, 60_000);
    const all = latest([...slow.messages, ...again.messages]);
    expect(all.ordered).toBe(true);
    expect([...all.v.values()].every((v) => v === 12)).toBe(true);
    await fast.close();
    await again.close();
  });
});

describe('realtime stream: epoch', () => {
  it('a gateway started on a fresh topic below the recorded history starts a new epoch, so clients resync', async () => {
    const env = await createTestEnv();
    try {
      await env.redis.set(EPOCH_KEY, '00000000-0000-4000-8000-000000000001');
      await env.pool.query(`INSERT INTO stream_history (epoch, position, payload) VALUES ('00000000-0000-4000-8000-000000000001', 500, NULL)`);
      const gw = await startGateway(env, { listen: true, stream: true });
      try {
        expect(gw.stream!.epoch).not.toBe('00000000-0000-4000-8000-000000000001');
        expect(await env.redis.get(EPOCH_KEY)).toBe(gw.stream!.epoch);
        const token = (await loginInject(gw.app, await createUser(env.pool, 'op', 'OPERATOR'))).access_token;
        const c = await connectStream(gw.base, token, { resume: { epoch: '00000000-0000-4000-8000-000000000001', position: 500 } });
        expect(await c.waitFor((m) => m.type === 'resync')).toMatchObject({ reason: 'epoch' });
        await c.close();
      } finally {
        await gw.close();
      }
    } finally {
      await env.cleanup();
    }
  });
});

