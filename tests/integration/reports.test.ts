import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger, registry } from '../../platform/index.ts';
import { createReportDatabases, type ReportDatabases } from '../../gateway/index.ts';
import { replicaStart, replicaStop, replicaUp, replicaUrl } from '../../infra/replica.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';

const T0 = Date.parse('2026-06-15T10:00:00Z'); // 12:00 in Warsaw (CEST)
const FROM = new Date(T0 - 3_600_000).toISOString();
const TO = new Date(T0 + 23 * 3_600_000).toISOString();
const at = (s: number) => new Date(T0 + s * 1000);
const range = `from=${FROM}&to=${TO}`;

interface Lines { lines: Record<string, unknown>[] }

/**
 * Reports against a real streaming replica of the test database, with alarms made with known timings: each
 * figure is checked against what those timings give. One test stops the replica and the report still answers,
 * from the primary, with a WARNING.
 */
describe('reports on the read replica', () => {
  let env: TestEnv;
  let gw: GatewayUnderTest;
  let dbs: ReportDatabases;
  let analyst: string;
  const logged: Lines = { lines: [] };
  let replica: { primaryUrl: string; port: number };

  async function fixtures(): Promise<void> {
    const q = (text: string, values: unknown[] = []) => env.pool.query(text, values);
    const p1 = await createPanel(env.pool, 40001, 'REP-1');
    const p2 = await createPanel(env.pool, 40002, 'REP-2');
    const op1 = await createUser(env.pool, 'op1', 'OPERATOR');
    const op2 = await createUser(env.pool, 'op2', 'OPERATOR');
    const alarm = async (o: { object: number; panel: number; severity: string; category: string; at: Date; source?: string; test?: boolean; service?: boolean; flood?: boolean; events?: number; resolution?: string }) =>
      (await q(`INSERT INTO alarms (object_id, panel_id, source, bundle_key, category, severity, title, event_count, first_event_at, last_event_at, created_at, test, service, flood, resolution_code)
                VALUES ($1, $2, $3, 'k:' || gen_random_uuid(), $4, $5, 't', $6, $7, $7, $7, $8, $9, $10, $11) RETURNING id`,
      [o.object, o.panel, o.source ?? 'satel', o.category, o.severity, o.events ?? 1, o.at, o.test ?? false, o.service ?? false, o.flood ?? false, o.resolution ?? null])).rows[0].id as number;
    const act = (alarmId: number, user: number, action: string, s: number) =>
      q(`INSERT INTO alarm_actions (alarm_id, user_id, action, to_status, version, created_at) VALUES ($1, $2, $3, 'X', 1, $4)`, [alarmId, user, action, at(s)]);
    // CRITICAL A: claimed after 10 s, acknowledged 20, resolved 60, closed 120 — by op1.
    const a = await alarm({ object: p1.objectId, panel: p1.panelId, severity: 'CRITICAL', category: 'intrusion', at: at(0), resolution: 'FALSE_ALARM' });
    await act(a, op1.id, 'claim', 10); await act(a, op1.id, 'ack', 20); await act(a, op1.id, 'resolve', 60); await act(a, op1.id, 'close', 120);
    // CRITICAL B (opened 100 s later): claimed 30 s after opening, ack 40, resolved 100, closed 200 — by op2.
    const b = await alarm({ object: p1.objectId, panel: p1.panelId, severity: 'CRITICAL', category: 'intrusion', at: at(100) });
    await act(b, op2.id, 'claim', 130); await act(b, op2.id, 'ack', 140); await act(b, op2.id, 'resolve', 200); await act(b, op2.id, 'close', 300);
    // CRITICAL C: claimed only after 90 s (over the 60 s deadline) by op1, then taken over by op2.
    const c = await alarm({ object: p2.objectId, panel: p2.panelId, severity: 'CRITICAL', category: 'fire', at: at(200), events: 3 });
    await act(c, op1.id, 'claim', 290); await act(c, op2.id, 'takeover', 300);
    // WARNING D: everything within seconds, by op2.
    const d = await alarm({ object: p2.objectId, panel: p2.panelId, severity: 'WARNING', category: 'intrusion', at: at(300) });
    await act(d, op2.id, 'claim', 305); await act(d, op2.id, 'ack', 306); await act(d, op2.id, 'resolve', 307); await act(d, op2.id, 'close', 308);
    // WARNING E never claimed; a flood alarm that absorbed 7 events; a service alarm; a test alarm (left out unless asked).
    await alarm({ object: p2.objectId, panel: p2.panelId, severity: 'WARNING', category: 'zone-violation', at: at(400) });
    await alarm({ object: p2.objectId, panel: p2.panelId, severity: 'WARNING', category: 'flood', at: at(500), flood: true, events: 7 });
    await alarm({ object: p1.objectId, panel: p1.panelId, severity: 'WARNING', category: 'zone-violation', at: at(600), service: true });
    await alarm({ object: p1.objectId, panel: p1.panelId, severity: 'CRITICAL', category: 'intrusion', at: at(700), test: true });
    // A link supervision alarm for panel 1, and panel 1's outages: 30 min (restored), and one still open for the last 10 min of the range.
    await alarm({ object: p1.objectId, panel: p1.panelId, severity: 'CRITICAL', category: 'link', at: at(3600), source: 'link' });
    const downA = T0 + 3_000_000;
    const downB = Date.parse(TO) - 600_000;
    const link = (kind: string, downMs: number, observed: number) => q(
      `INSERT INTO events (event_id, dedup_key, source, kind, panel_id, object_id, observed_at, payload, src_topic, src_partition, src_offset)
       VALUES (gen_random_uuid(), $1, 'link', $2, $3, $4, $5, '{}', 't', 0, 0)`,
      [`link:${p1.panelId}:${kind}:${downMs}`, kind, p1.panelId, p1.objectId, new Date(observed)]);
    await link('LOST', downA, downA + 60_000);
    await link('RESTORED', downA, downA + 1_800_000);
    await link('LOST', downB, downB + 60_000);
    // Commands of panel 1: two succeeded, one refused twice for the same reason, one expired.
    const cmd = (status: string, reason: string | null, user: number) => q(
      `INSERT INTO commands (id, panel_id, action, requested_by, reason, status, result_reason, created_at, expires_at)
       VALUES (gen_random_uuid(), $1, 'arm', $2, 'test', $3, $4, $5, $5)`, [p1.panelId, user, status, reason, at(50)]);
    await cmd('SUCCEEDED', 'armed', op1.id); await cmd('SUCCEEDED', 'armed', op1.id);
    await cmd('REJECTED', 'zone 3 violated', op2.id); await cmd('REJECTED', 'zone 3 violated', op2.id); await cmd('EXPIRED', null, op2.id);
  }

  beforeAll(async () => {
    env = await createTestEnv();
    replica = { primaryUrl: env.config.DATABASE_URL, port: env.config.DATABASE_REPLICA_PORT };
    await replicaUp(replica, createLogger('replica', 'warn'));
    await fixtures();
    const replicaDb = replicaUrl(env.config.DATABASE_URL, replica.port);
    // The replica has the test database and its rows once it replayed them.
    await waitUntil('the fixtures on the replica', async () => {
      const c = new pg.Client({ connectionString: replicaDb });
      try {
        await c.connect();
        return (await c.query('SELECT count(*)::int AS n FROM commands')).rows[0].n === 5;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, 30_000, 200);
    const log = createLogger('reports-test', 'warn');
    const capture = log.child({});
    const orig = capture.warn.bind(capture);
    capture.warn = ((obj: Record<string, unknown>, msg?: string) => { logged.lines.push({ ...obj, msg }); orig(obj, msg); });
    dbs = await createReportDatabases({
      primaryUrl: env.config.DATABASE_URL, replicaUrl: replicaDb, poolSize: 2, statementTimeoutMs: 30_000, maxLagS: 10, log: capture, checkEveryMs: 200,
    });
    gw = await startGateway(env, { reports: { databases: dbs, claimDeadlineS: 60 } });
    await createUser(env.pool, 'ann', 'ANALYST');
    await createUser(env.pool, 'olek', 'OPERATOR');
    analyst = (await loginInject(gw.app, { username: 'ann', password: 'correct horse battery staple' })).access_token;
  });

  afterAll(async () => {
    await gw?.close();
    await dbs?.close();
    await env?.cleanup();
  });

  const get = <T = Record<string, unknown>>(url: string) => call<T>(gw.app, analyst, 'GET', url);

  it('response times per severity, from the replica: percentiles and means of opened → claimed / acknowledged / resolved / closed', async () => {
    const r = await get<{ source: string; rows: Record<string, unknown>[]; exceptions: Record<string, unknown>[] }>(`/api/reports/response-times?${range}&group_by=severity`);
    expect(r.status).toBe(200);
    expect(r.body.source).toBe('replica');
    const crit = r.body.rows.find((x) => x.key === 'CRITICAL')!;
    expect(crit.count).toBe(4); // A, B, C and the link supervision alarm
    // claimed after 10, 30 and 90 s; percentile_cont: p90 = 30 + 0.8·60, p99 = 30 + 0.98·60.
    expect(crit.claimed).toEqual({ p50: 30, p90: 78, p99: expect.closeTo(88.8, 6) as number, mean: expect.closeTo(130 / 3, 6) as number, n: 3 });
    expect(crit.acknowledged).toEqual({ p50: 30, p90: 38, p99: expect.closeTo(39.8, 6) as number, mean: 30, n: 2 });
    expect(crit.resolved).toMatchObject({ p50: 80, mean: 80, n: 2 });
    expect(crit.closed).toMatchObject({ p50: 160, mean: 160, n: 2 });
    expect(r.body.rows.find((x) => x.key === 'WARNING')).toMatchObject({ count: 4, claimed: { p50: 5, mean: 5, n: 1 } });
    // Not claimed within 60 s: C after 90 s, and the link alarm never (it waited until the end of the range).
    expect(r.body.exceptions.map((e) => [e.category, e.waited_s, e.claimed_at !== null])).toEqual([['link', 23 * 3600 - 3600, false], ['fire', 90, true]]);
  });

  it('groups by operator (who claimed) and by hour in Warsaw time', async () => {
    const byOp = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/response-times?${range}&group_by=operator`);
    expect(byOp.body.rows.map((x) => [x.key, x.count])).toEqual([['(unclaimed)', 4], ['op1', 2], ['op2', 2]]);
    const byHour = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/response-times?${range}&group_by=hour`);
    expect(byHour.body.rows.map((x) => [x.key, x.count])).toEqual([['12', 7], ['13', 1]]);
  });

  it('alarm volumes per category with flood, service, false-alarm shares; test alarms only when asked', async () => {
    const r = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/alarms?${range}&group_by=category`);
    const by: Record<string, Record<string, unknown>> = Object.fromEntries(r.body.rows.map((x) => [String(x.key), x]));
    expect(Object.keys(by).sort()).toEqual(['fire', 'flood', 'intrusion', 'link', 'zone-violation']);
    expect(by.intrusion).toMatchObject({ count: 3, events: 3, false_alarms: 1, false_alarm_share: expect.closeTo(1 / 3, 6) as number, test: 0 });
    expect(by.flood).toMatchObject({ count: 1, flood: 1, absorbed: 7, flood_share: 1 });
    expect(by['zone-violation']).toMatchObject({ count: 2, service: 1, service_share: 0.5 });
    const withTest = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/alarms?${range}&group_by=category&include_test=true`);
    expect(withTest.body.rows.find((x) => x.key === 'intrusion')).toMatchObject({ count: 4, test: 1, test_share: 0.25 });
  });

  it('availability per panel: outages clipped to the range, the longest, percent, and supervision alarms', async () => {
    const r = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/availability?${range}&group_by=panel`);
    const [p1, p2] = r.body.rows;
    expect(p1).toMatchObject({ outages: 2, down_s: 2400, longest_s: 1800, supervision_alarms: 1 });
    expect(p1!.availability_pct).toBeCloseTo(100 * (1 - 2400 / 86_400), 6);
    expect(p2).toMatchObject({ outages: 0, down_s: 0, availability_pct: 100, supervision_alarms: 0 });
  });

  it('operators: alarms handled, time to claim and to close, takeovers', async () => {
    const r = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/operators?${range}`);
    expect(r.body.rows).toEqual([
      expect.objectContaining({ key: 'op1', count: 2, closed: 1, takeovers: 0, claim: expect.objectContaining({ p50: 50, mean: 50 }) as unknown, close: expect.objectContaining({ p50: 120 }) as unknown }),
      expect.objectContaining({ key: 'op2', count: 2, closed: 2, takeovers: 1, claim: expect.objectContaining({ p50: 17.5 }) as unknown, close: expect.objectContaining({ mean: 104 }) as unknown }),
    ]);
  });

  it('commands: outcomes per panel with the reasons of refusals', async () => {
    const r = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/commands?${range}&group_by=panel`);
    expect(r.body.rows).toEqual([expect.objectContaining({
      count: 5, succeeded: 2, rejected: 2, expired: 1, failed: 0, pending: 0, refusals: [{ reason: 'zone 3 violated', count: 2 }],
    })]);
    const byUser = await get<{ rows: Record<string, unknown>[] }>(`/api/reports/commands?${range}&group_by=user`);
    expect(byUser.body.rows.map((x) => [x.key, x.count])).toEqual([['op1', 2], ['op2', 3]]);
  });

  it('CSV streams the same figures, PDF is a document with a chart page; an operator may not read reports', async () => {
    const csv = await gw.app.inject({ method: 'GET', url: `/api/reports/alarms?${range}&group_by=category&format=csv`, headers: { authorization: `Bearer ${analyst}` } });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('key,count,events,flood,absorbed,test,service,false_alarms,false_alarm_share');
    expect(lines).toContain('intrusion,3,3,0,0,0,0,1,0.333');
    const pdf = await gw.app.inject({ method: 'GET', url: `/api/reports/response-times?${range}&format=pdf`, headers: { authorization: `Bearer ${analyst}` } });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect((pdf.rawPayload.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length).toBe(2);
    const operator = (await loginInject(gw.app, { username: 'olek', password: 'correct horse battery staple' })).access_token;
    expect((await call(gw.app, operator, 'GET', `/api/reports/alarms?${range}`)).status).toBe(403);
    expect((await get(`/api/reports/alarms?from=${TO}&to=${FROM}`)).status).toBe(400);
  });

  it('with the replica stopped mid-test the report still answers, from the primary, with a WARNING and a metric; then the replica is used again', async () => {
    const before = await get<{ rows: unknown[] }>(`/api/reports/alarms?${range}&group_by=object`);
    await replicaStop(replica);
    try {
      const r = await get<{ source: string; rows: unknown[] }>(`/api/reports/alarms?${range}&group_by=object`);
      expect(r.status).toBe(200);
      expect(r.body.source).toBe('primary');
      expect(r.body.rows).toEqual(before.body.rows);
      expect(logged.lines.some((l) => l.msg === 'read replica unusable: reports read the primary' && l.reason === 'down')).toBe(true);
      const metrics = await registry.getSingleMetricAsString('stam_reports_fallback_total');
      expect(metrics).toMatch(/stam_reports_fallback_total\{reason="down"\} [1-9]/);
      await waitUntil('the lag metric says the replica is unreachable', async () => /pg_replication_lag_seconds -1/.test(await registry.getSingleMetricAsString('pg_replication_lag_seconds')), 10_000, 100);
    } finally {
      await replicaStart(replica);
    }
    await waitUntil('the replica is used again', async () => (await get<{ source: string }>(`/api/reports/alarms?${range}`)).body.source === 'replica', 30_000, 300);
  });
});
