import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser } from '../helpers/gateway.ts';
import { api, login, waitUntil } from '../helpers/system.ts';
import { connectStream, ticketFor } from '../helpers/ws.ts';

const ALLOWED = 'https://console.example';
const MAX_BYTES = 64 * 1024;

/**
 * Black-box, against running gateways: a WebSocket client cannot grow the gateway's memory or starve
 * PostgreSQL — pings are answered within the backlog limit, tickets and connections are limited per user,
 * snapshot reads of 200 clients reconnecting at once are paced (and shared), and a page from another
 * origin cannot open the stream.
 */
describe('hardening: the WebSocket stream', () => {
  let env: TestEnv;
  const procs: RoleProcess[] = [];
  let base: string;
  let stormBase: string;

  const gateway = async (vars: Record<string, string>) => {
    const proc = startRole('gateway', { ...env.vars, ...vars });
    procs.push(proc);
    const line = await proc.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    const url = `http://127.0.0.1:${line.port as number}`;
    await waitUntil('gateway ready', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000, 200);
    return url;
  };
  const tokenOf = async (b: string, name: string) => {
    const { username, password } = await createUser(env.pool, name, 'OPERATOR');
    return login(b, { username, password });
  };
  const metric = async (b: string, name: string): Promise<number> => {
    const text = await (await fetch(`${b}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };
  /** Opens /ws with an Origin header; resolves with the HTTP status of a refusal, or 101 when it opened. */
  const open = async (b: string, token: string, origin?: string): Promise<{ status: number; ws?: WebSocket }> => {
    const ticket = await ticketFor(b, token);
    const ws = new WebSocket(`${b.replace(/^http/, 'ws')}/ws?ticket=${ticket}`, origin ? { origin } : {});
    return new Promise((resolve) => {
      ws.once('open', () => resolve({ status: 101, ws }));
      ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0 }); ws.on('error', () => undefined); ws.terminate(); });
    });
  };

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_REALTIME_ENABLED: 'true', FEATURE_SMS_ENABLED: 'false' });
    const objectId = (await env.pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('WS-H', 'WS hardening') RETURNING id`)).rows[0]!.id;
    // Enough open alarms that a snapshot read takes a while: concurrent reads would show.
    await env.pool.query(`INSERT INTO alarms (object_id, source, zone, bundle_key, category, severity, status, title, event_count, first_event_at, last_event_at)
      SELECT $1, 'satel', 1, 'k:' || g, 'zone-violation', 'WARNING', 'NEW', 'Zone 1 violated', 1, now(), now() FROM generate_series(1, 4000) g`, [objectId]);
    base = await gateway({
      WS_ALLOWED_ORIGINS: ALLOWED, WS_MAX_CONNECTIONS_PER_USER: '3', WS_TICKETS_PER_MINUTE: '8', WS_SLOW_BYTES: '16384', WS_MAX_BYTES: String(MAX_BYTES),
    });
    stormBase = await gateway({ WS_MAX_CONNECTIONS_PER_USER: '250', WS_TICKETS_PER_MINUTE: '1000', WS_READ_CONCURRENCY: '2' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await env?.cleanup();
  });

  it('a page from another origin cannot open the stream; the own host and a configured origin can', async () => {
    const token = await tokenOf(base, 'ws.origin');
    expect((await open(base, token, 'https://evil.example')).status).toBe(403);
    expect((await open(base, token, 'null')).status).toBe(403);
    for (const origin of [ALLOWED, base, undefined]) {
      const r = await open(base, token, origin);
      expect({ origin, status: r.status }).toEqual({ origin, status: 101 });
      r.ws!.close();
    }
    expect(await metric(base, 'stam_gateway_ws_refused_total{why="origin"}')).toBe(2);
  });

  it('tickets are limited per user and minute; another user is not affected', async () => {
    const token = await tokenOf(base, 'ws.tickets');
    for (let i = 0; i < 8; i++) expect((await api(base, '/api/ws-ticket', { method: 'POST', body: {}, token })).status).toBe(200);
    const ninth = await api<{ code: string }>(base, '/api/ws-ticket', { method: 'POST', body: {}, token });
    expect({ status: ninth.status, code: ninth.body.code }).toEqual({ status: 429, code: 'E_RATE_LIMITED' });
    expect((await api(base, '/api/ws-ticket', { method: 'POST', body: {}, token: await tokenOf(base, 'ws.tickets.other') })).status).toBe(200);
  });

  it('open connections are limited per user: the fourth is refused until one closes', async () => {
    const token = await tokenOf(base, 'ws.conns');
    const first = await Promise.all([1, 2, 3].map(() => open(base, token)));
    expect(first.map((r) => r.status)).toEqual([101, 101, 101]);
    expect((await open(base, token)).status).toBe(429);
    const closed = new Promise((r) => first[0]!.ws!.once('close', r));
    first[0]!.ws!.close();
    await closed;
    await waitUntil('the gateway saw the close', async () => (await open(base, token).then((r) => { r.ws?.close(); return r.status; })) === 101, 10_000, 100);
    for (const r of first.slice(1)) r.ws!.close();
  });

  it('a client that pings without reading cannot grow the gateway\'s backlog past WS_MAX_BYTES; others are served meanwhile', async () => {
    const token = await tokenOf(base, 'ws.flood');
    const { ws } = await open(base, token);
    await new Promise((r) => setTimeout(r, 300)); // the snapshot goes out first
    (ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading
    let most = 0;
    const sample = setInterval(() => void metric(base, 'stam_gateway_ws_backlog_bytes_max').then((v) => { most = Math.max(most, v); }), 50);
    const ping = JSON.stringify({ type: 'ping' });
    for (let i = 0; i < 300_000; i++) {
      ws!.send(ping);
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(sample);
    const now = await metric(base, 'stam_gateway_ws_backlog_bytes_max');
    most = Math.max(most, now);
    console.log(`ping flood: 300000 pings unread; largest backlog seen ${most} bytes (limit ${MAX_BYTES})`);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(MAX_BYTES);
    const other = await connectStream(base, await tokenOf(base, 'ws.flood.other'));
    expect((await other.waitFor((m) => m.type === 'resync')).alarms!.length).toBe(4000);
    await other.close();
    ws!.terminate();
  });

  it('200 clients reconnecting at once: snapshot reads run two at a time and are shared, and every client gets its snapshot', async () => {
    const tokens = await Promise.all(Array.from({ length: 4 }, (_, i) => tokenOf(stormBase, `ws.storm.${i}`)));
    const tickets = await Promise.all(Array.from({ length: 200 }, (_, i) => ticketFor(stormBase, tokens[i % 4]!)));
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows: [r] } = await env.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
             AND query LIKE '%FROM alarms a%' AND query LIKE '%($1 OR NOT a.test)%ORDER BY a.id DESC LIMIT $3%'`);
        most = Math.max(most, r!.n);
      }
    })();
    const sharedBefore = await metric(stormBase, 'stam_gateway_ws_reads_total{kind="snapshot",shared="yes"}');
    const started = Date.now();
    const snapshots = await Promise.all(tickets.map((ticket) => new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${stormBase.replace(/^http/, 'ws')}/ws?ticket=${ticket}`);
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { type: string; alarms?: unknown[] };
        if (m.type === 'resync') { resolve(m.alarms!.length); ws.close(); }
      });
      ws.once('error', reject);
    })));
    const tookMs = Date.now() - started;
    sampling = false;
    await sampler;
    const api1 = Date.now();
    expect((await api(stormBase, '/api/alarms?limit=1', { token: tokens[0] })).status).toBe(200);
    const shared = await metric(stormBase, 'stam_gateway_ws_reads_total{kind="snapshot",shared="yes"}') - sharedBefore;
    console.log(`reconnect storm: 200 snapshots of 4000 alarms in ${tookMs} ms; at most ${most} snapshot queries at once; ${shared} shared; an API request after it ${Date.now() - api1} ms`);
    expect(snapshots).toEqual(Array.from({ length: 200 }, () => 4000));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    expect(shared).toBeGreaterThan(0);
  });
});
