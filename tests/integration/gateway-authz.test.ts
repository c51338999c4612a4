import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReportDatabases, type ReportDatabases } from '../../gateway/index.ts';
import { createLogger } from '../../platform/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, insertAlarm, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';

/**
 * The authorization walk: every /api route × every role, plus a technician assigned to another object.
 * The expectations are written out here, independently of gateway/rbac.ts, as the specification:
 * a forbidden role gets 403 E_FORBIDDEN, an allowed one reaches the handler (its status is listed), and a
 * scoped role asking for something outside its objects gets 404 (lists leave those items out).
 */
const ROLES = ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN', 'FIELD_WORKER', 'SYSTEM', 'ANALYST'] as const;
type Role = (typeof ROLES)[number];
const ALL: Role[] = [...ROLES];
const PHONE_USERS: Role[] = ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN', 'FIELD_WORKER'];

interface Ids { objectA: number; objectB: number; alarmA: number; panelA: number; sensorA: number; recorderA: number; deviceOfAdmin: number; userX: number; password: string }
interface RouteCase {
  route: string;
  url: (i: Ids) => string;
  body?: (i: Ids, n: number) => unknown;
  allowed: Role[];
  ok: number[];
  /** item: a foreign-scope technician gets 404; list: the object-A item is left out. */
  scope: 'item' | 'list' | 'none';
  listed?: (i: Ids) => number;
}

const action = (name: string, allowed: Role[]): RouteCase => ({
  route: `POST /api/alarms/{id}/${name}`, url: (i) => `/api/alarms/${i.alarmA}/${name}`, allowed, ok: [409], scope: 'item',
  // A stale version: the handler runs (authorization passed) and answers 409 without changing anything.
  body: () => (name === 'resolve' ? { version: 999, resolution_code: 'FALSE_ALARM' } : { version: 999 }),
});

const CASES: RouteCase[] = [
  { route: 'GET /api/me', url: () => '/api/me', allowed: ALL, ok: [200], scope: 'none' },
  { route: 'GET /api/alarms', url: () => '/api/alarms', allowed: ALL, ok: [200], scope: 'list', listed: (i) => i.alarmA },
  { route: 'GET /api/alarms/{id}', url: (i) => `/api/alarms/${i.alarmA}`, allowed: ALL, ok: [200], scope: 'item' },
  action('claim', ['ADMIN', 'SUPERVISOR', 'OPERATOR']),
  action('release', ['ADMIN', 'SUPERVISOR', 'OPERATOR']),
  action('ack', ['ADMIN', 'SUPERVISOR', 'OPERATOR']),
  action('resolve', ['ADMIN', 'SUPERVISOR', 'OPERATOR']),
  action('close', ['ADMIN', 'SUPERVISOR', 'OPERATOR']),
  action('takeover', ['ADMIN', 'SUPERVISOR']),
  { route: 'GET /api/objects', url: () => '/api/objects', allowed: ALL, ok: [200], scope: 'list', listed: (i) => i.objectA },
  { route: 'GET /api/objects/{id}', url: (i) => `/api/objects/${i.objectA}`, allowed: ALL, ok: [200], scope: 'item' },
  { route: 'POST /api/objects', url: () => '/api/objects', body: (_i, n) => ({ code: `NEW-${n}`, name: 'New site' }), allowed: ['ADMIN'], ok: [201], scope: 'none' },
  { route: 'PATCH /api/objects/{id}', url: (i) => `/api/objects/${i.objectA}`, body: () => ({ address: 'ul. Nowa 1' }), allowed: ['ADMIN'], ok: [200], scope: 'item' },
  { route: 'PUT /api/objects/{id}/service-mode', url: (i) => `/api/objects/${i.objectA}/service-mode`, body: () => ({ active: false }), allowed: ['ADMIN', 'SUPERVISOR', 'TECHNICIAN'], ok: [200], scope: 'item' },
  { route: 'PUT /api/objects/{id}/test-mode', url: (i) => `/api/objects/${i.objectA}/test-mode`, body: () => ({ active: false }), allowed: ['ADMIN', 'SUPERVISOR', 'TECHNICIAN'], ok: [200], scope: 'item' },
  { route: 'GET /api/panels', url: () => '/api/panels', allowed: ALL, ok: [200], scope: 'list', listed: (i) => i.panelA },
  { route: 'GET /api/panels/{id}', url: (i) => `/api/panels/${i.panelA}`, allowed: ALL, ok: [200], scope: 'item' },
  { route: 'GET /api/panels/{id}/state', url: (i) => `/api/panels/${i.panelA}/state`, allowed: ALL, ok: [200], scope: 'item' },
  { route: 'POST /api/panels', url: () => '/api/panels', body: (i, n) => ({ object_id: i.objectA, name: `P${n}`, host: '10.0.0.9', port: 7094 }), allowed: ['ADMIN'], ok: [201], scope: 'none' },
  { route: 'PATCH /api/panels/{id}', url: (i) => `/api/panels/${i.panelA}`, body: () => ({ name: 'Main panel' }), allowed: ['ADMIN'], ok: [200], scope: 'item' },
  { route: 'GET /api/sensors', url: () => '/api/sensors', allowed: ALL, ok: [200], scope: 'list', listed: (i) => i.sensorA },
  { route: 'GET /api/sensors/{id}', url: (i) => `/api/sensors/${i.sensorA}`, allowed: ALL, ok: [200], scope: 'item' },
  { route: 'POST /api/sensors', url: () => '/api/sensors', body: (i, n) => ({ object_id: i.objectA, vendor: 'efento', sender: '+48600100200', sensor_ref: `S-${n}`, name: 'Freezer' }), allowed: ['ADMIN'], ok: [201], scope: 'none' },
  { route: 'PATCH /api/sensors/{id}', url: (i) => `/api/sensors/${i.sensorA}`, body: () => ({ name: 'Fridge' }), allowed: ['ADMIN'], ok: [200], scope: 'item' },
  { route: 'GET /api/recorders', url: () => '/api/recorders', allowed: ALL, ok: [200], scope: 'list', listed: (i) => i.recorderA },
  { route: 'GET /api/recorders/{id}', url: (i) => `/api/recorders/${i.recorderA}`, allowed: ALL, ok: [200], scope: 'item' },
  { route: 'POST /api/recorders', url: () => '/api/recorders', body: (i, n) => ({ object_id: i.objectA, name: `DVR ${n}`, host: '10.0.0.7', port: 80, login: 'admin', password: 'dvr-pass' }), allowed: ['ADMIN'], ok: [201], scope: 'none' },
  { route: 'PATCH /api/recorders/{id}', url: (i) => `/api/recorders/${i.recorderA}`, body: () => ({ name: 'DVR hall' }), allowed: ['ADMIN'], ok: [200], scope: 'item' },
  { route: 'POST /api/recorders/{id}/reveal', url: (i) => `/api/recorders/${i.recorderA}/reveal`, body: () => ({ reason: 'authorization walk' }), allowed: ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN'], ok: [200], scope: 'item' },
  { route: 'GET /api/audit', url: () => '/api/audit', allowed: ['ADMIN', 'SUPERVISOR'], ok: [200], scope: 'none' },
  { route: 'POST /api/ws-ticket', url: () => '/api/ws-ticket', allowed: ALL, ok: [200], scope: 'none' },
  {
    route: 'POST /api/devices', url: () => '/api/devices', body: (_i, n) => ({ token: `fcm-token-of-the-walk-${n}`, platform: 'android', app_version: '1.0.0' }),
    allowed: PHONE_USERS, ok: [201], scope: 'none',
  },
  { route: 'GET /api/devices', url: () => '/api/devices', allowed: PHONE_USERS, ok: [200], scope: 'none' },
  // ADMIN removes the phone (anyone's); the others reach the handler and are told it is not theirs to see.
  { route: 'DELETE /api/devices/{id}', url: (i) => `/api/devices/${i.deviceOfAdmin}`, allowed: PHONE_USERS, ok: [204, 404], scope: 'none' },
  ...['response-times', 'alarms', 'availability', 'operators', 'commands'].map((name): RouteCase => ({
    route: `GET /api/reports/${name}`, url: () => `/api/reports/${name}?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`,
    allowed: ['ADMIN', 'SUPERVISOR', 'ANALYST'], ok: [200], scope: 'none',
  })),
  // The console: intents, accounts, passkeys, the PIN.
  { route: 'POST /api/intents', url: () => '/api/intents', body: (_i, n) => ({ intents: [{ client_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, alarm_id: 99999999, action: 'claim', seen_version: 1, recorded_at: new Date().toISOString() }] }), allowed: ['ADMIN', 'SUPERVISOR', 'OPERATOR'], ok: [200], scope: 'none' },
  { route: 'GET /api/intents', url: () => '/api/intents', allowed: ['ADMIN', 'SUPERVISOR', 'OPERATOR'], ok: [200], scope: 'none' },
  { route: 'GET /api/users', url: () => '/api/users', allowed: ['ADMIN', 'SUPERVISOR'], ok: [200], scope: 'none' },
  { route: 'POST /api/users', url: () => '/api/users', body: (_i, n) => ({ username: `walk.${n}`, role: 'OPERATOR', password: 'a-long-password-1' }), allowed: ['ADMIN'], ok: [201], scope: 'none' },
  { route: 'PATCH /api/users/{id}', url: (i) => `/api/users/${i.userX}`, body: () => ({ display_name: 'Walked' }), allowed: ['ADMIN'], ok: [200], scope: 'none' },
  { route: 'PUT /api/users/{id}/objects', url: (i) => `/api/users/${i.userX}/objects`, body: (i) => ({ objects: [i.objectA] }), allowed: ['ADMIN'], ok: [200], scope: 'none' },
  { route: 'POST /api/passkeys/register/options', url: () => '/api/passkeys/register/options', body: () => ({}), allowed: ALL, ok: [200], scope: 'none' },
  { route: 'POST /api/passkeys', url: () => '/api/passkeys', body: () => ({ response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: {} }, label: 'walk' }), allowed: ALL, ok: [400, 401], scope: 'none' },
  { route: 'GET /api/passkeys', url: () => '/api/passkeys', allowed: ALL, ok: [200], scope: 'none' },
  { route: 'DELETE /api/passkeys/{id}', url: () => '/api/passkeys/99999999', allowed: ALL, ok: [404], scope: 'none' },
  { route: 'PUT /api/me/pin', url: () => '/api/me/pin', body: (i) => ({ pin: '1357', password: i.password }), allowed: ALL, ok: [204], scope: 'none' },
  { route: 'POST /api/auth/unlock', url: () => '/api/auth/unlock', body: () => ({ pin: '1357' }), allowed: ALL, ok: [204], scope: 'none' },
  { route: 'DELETE /api/me/pin', url: () => '/api/me/pin', allowed: ALL, ok: [204], scope: 'none' },
];
const PUBLIC = ['POST /api/auth/login', 'POST /api/auth/refresh', 'POST /api/auth/logout', 'POST /api/auth/passkey/options', 'POST /api/auth/passkey', 'GET /api/console/settings'];

describe('authorization: every route × every role', () => {
  let env: TestEnv;
  let gw: GatewayUnderTest;
  let ids: Ids;
  let reports: ReportDatabases | undefined;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    env = await createTestEnv();
    // Reports read the primary here (no replica): the walk is about who may ask, not where the answer comes from.
    reports = await createReportDatabases({ primaryUrl: env.config.DATABASE_URL, poolSize: 1, statementTimeoutMs: 10_000, maxLagS: 10, log: createLogger('authz-test', 'silent') });
    gw = await startGateway(env, { reports: { databases: reports, claimDeadlineS: 60 } });
    const obj = async (code: string) => (await env.pool.query<{ id: number }>('INSERT INTO objects (code, name) VALUES ($1, $1) RETURNING id', [code])).rows[0]!.id;
    const objectA = await obj('A');
    const objectB = await obj('B');
    const panelA = (await env.pool.query<{ id: number }>(`INSERT INTO panels (object_id, name, host, port) VALUES ($1, 'pA', '10.0.0.1', 7094) RETURNING id`, [objectA])).rows[0]!.id;
    const sensorA = (await env.pool.query<{ id: number }>(`INSERT INTO sensors (object_id, vendor, sender, sensor_ref, name) VALUES ($1, 'efento', '+48', 'SA', 's') RETURNING id`, [objectA])).rows[0]!.id;
    const recorderA = (await env.pool.query<{ id: number }>(`INSERT INTO recorders (object_id, name, host, port, login, password_enc) VALUES ($1, 'r', '10.0.0.2', 80, 'admin', $2) RETURNING id`, [objectA, gw.secrets.encrypt('rec-pass')])).rows[0]!.id;
    const alarmA = await insertAlarm(env.pool, objectA);
    await insertAlarm(env.pool, objectB);
    const userX = await createUser(env.pool, 'walk.target', 'OPERATOR');
    const users = new Map<Role, number>();
    for (const role of ROLES) {
      const u = await createUser(env.pool, role.toLowerCase(), role, role === 'TECHNICIAN' || role === 'FIELD_WORKER' ? [objectA] : []);
      users.set(role, u.id);
      tokens.set(role, (await loginInject(gw.app, u)).access_token);
    }
    const deviceOfAdmin = (await env.pool.query<{ id: number }>(
      `INSERT INTO user_devices (user_id, fcm_token, platform, app_version) VALUES ($1, 'fcm-token-of-the-admin-phone', 'android', '1.0.0') RETURNING id`,
      [users.get('ADMIN')])).rows[0]!.id;
    ids = { objectA, objectB, alarmA, panelA, sensorA, recorderA, deviceOfAdmin, userX: userX.id, password: userX.password };
    const foreign = await createUser(env.pool, 'technician.b', 'TECHNICIAN', [objectB]);
    tokens.set('FOREIGN_TECHNICIAN', (await loginInject(gw.app, foreign)).access_token);
  });
  afterAll(async () => {
    await gw?.close();
    await reports?.close();
    await env?.cleanup();
  });

  it('the walk covers every documented /api route, and every route is documented', () => {
    const spec = gw.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths).filter(([p]) => p.startsWith('/api/'))
      .flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(documented).toEqual([...CASES.map((c) => c.route), ...PUBLIC].sort());
  });

  let n = 0;
  for (const c of CASES) {
    it(`${c.route}: allowed for ${c.allowed.join(', ')}; 403 for the others`, async () => {
      for (const role of ROLES) {
        const res = await call(gw.app, tokens.get(role), c.route.split(' ')[0]!, c.url(ids), c.body?.(ids, ++n));
        if (c.allowed.includes(role)) {
          expect({ role, status: res.status }, JSON.stringify(res.body)).toEqual({ role, status: expect.toSatisfy((s: number) => c.ok.includes(s)) });
        } else {
          expect({ role, status: res.status, code: (res.body as { code?: string }).code }).toEqual({ role, status: 403, code: 'E_FORBIDDEN' });
        }
      }
      // No token at all is always a 401.
      expect((await call(gw.app, undefined, c.route.split(' ')[0]!, c.url(ids), c.body?.(ids, ++n))).status).toBe(401);
    });

    if (c.allowed.includes('TECHNICIAN') && c.scope !== 'none') {
      it(`${c.route}: a technician of another object ${c.scope === 'item' ? 'gets 404' : 'does not see object A\'s item'}`, async () => {
        const res = await call<{ items: { id: number }[]; code?: string }>(gw.app, tokens.get('FOREIGN_TECHNICIAN'), c.route.split(' ')[0]!, c.url(ids), c.body?.(ids, ++n));
        if (c.scope === 'item') {
          expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'E_NOT_FOUND' });
        } else {
          expect(res.status).toBe(200);
          expect(res.body.items.map((x) => x.id)).not.toContain(c.listed!(ids));
          // …while the technician of object A does see it.
          const own = await call<{ items: { id: number }[] }>(gw.app, tokens.get('TECHNICIAN'), 'GET', c.url(ids));
          expect(own.body.items.map((x) => x.id)).toContain(c.listed!(ids));
        }
      });
    }
  }

  it('scoped lists hold only the assigned objects\' records', async () => {
    const fw = await call<{ items: { object_id: number }[] }>(gw.app, tokens.get('FIELD_WORKER'), 'GET', '/api/alarms');
    expect(fw.body.items.map((a) => a.object_id)).toEqual([ids.objectA]);
    const foreign = await call<{ items: { id: number }[] }>(gw.app, tokens.get('FOREIGN_TECHNICIAN'), 'GET', '/api/objects');
    expect(foreign.body.items.map((o) => o.id)).toEqual([ids.objectB]);
    const all = await call<{ items: { object_id: number }[] }>(gw.app, tokens.get('OPERATOR'), 'GET', '/api/alarms');
    expect(all.body.items.map((a) => a.object_id).sort()).toEqual([ids.objectA, ids.objectB].sort());
  });
});
