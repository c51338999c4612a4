import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEALED, createLogger, createSecretBox, generateSecretKey, loadSecretKeyRing, parseSecretKeys } from '../../platform/index.ts';
import { rotateStoredSecrets, sweepExpiredModes } from '../../gateway/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';
import { startRole } from '../../load-tests/index.ts';

const K1 = generateSecretKey('k1');
const K2 = generateSecretKey('k2');
const INTEGRATION_KEY = 'integration-key-0042';
const USER_CODE = '7788';
const DVR_PASSWORD = 'Dvr!Pass-9931';

describe('objects, panels, sensors, recorders, modes and secrets', () => {
  let env: TestEnv;
  let gw: GatewayUnderTest;
  let admin: string;
  let operator: string;
  let tech: string;
  let techUser: { id: number };
  const seen: string[] = []; // every response body, to prove no secret ever leaves except through reveal
  const req = async <T = Record<string, unknown>>(token: string, method: string, url: string, body?: unknown) => {
    const r = await call<T>(gw.app, token, method, url, body);
    if (!url.endsWith('/reveal')) seen.push(JSON.stringify(r.body));
    return r;
  };

  beforeAll(async () => {
    env = await createTestEnv();
    gw = await startGateway(env, { secrets: createSecretBox(parseSecretKeys(K1)) });
    admin = (await loginInject(gw.app, await createUser(env.pool, 'admin', 'ADMIN'))).access_token;
    operator = (await loginInject(gw.app, await createUser(env.pool, 'operator', 'OPERATOR'))).access_token;
    const t = await createUser(env.pool, 'tech', 'TECHNICIAN');
    techUser = t;
    tech = (await loginInject(gw.app, t)).access_token;
  });
  afterAll(async () => {
    // No response other than a reveal ever carried a secret.
    for (const body of seen) for (const secret of [INTEGRATION_KEY, USER_CODE, DVR_PASSWORD]) expect(body).not.toContain(secret);
    await gw?.close();
    await env?.cleanup();
  });

  let objectId: number;
  let panelId: number;
  let recorderId: number;

  it('an admin creates a site and a panel with names; secrets are stored sealed and shown only as "has_…"', async () => {
    const o = await req<{ id: number }>(admin, 'POST', '/api/objects', { code: 'POZ-001', name: 'Warehouse', address: 'ul. Polna 1', latitude: 52.4, longitude: 16.9 });
    expect(o.status).toBe(201);
    objectId = o.body.id;
    await env.pool.query('INSERT INTO user_objects (user_id, object_id) VALUES ($1, $2)', [techUser.id, objectId]);
    const p = await req<Record<string, unknown> & { id: number }>(admin, 'POST', '/api/panels', {
      object_id: objectId, name: 'INTEGRA 64', host: '10.1.2.3', port: 7094, integration_key: INTEGRATION_KEY, user_code: USER_CODE,
      zones: [{ number: 1, name: 'Front door' }, { number: 2, name: 'Hall PIR' }], partitions: [{ number: 1, name: 'Main' }], outputs: [{ number: 3, name: 'Siren' }],
    });
    expect(p.status).toBe(201);
    panelId = p.body.id;
    expect(p.body).toMatchObject({
      has_integration_key: true, has_user_code: true, zones: [{ number: 1, name: 'Front door' }, { number: 2, name: 'Hall PIR' }],
      partitions: [{ number: 1, name: 'Main' }], outputs: [{ number: 3, name: 'Siren' }],
    });
    const { rows } = await env.pool.query<{ k: Buffer; c: Buffer }>('SELECT integration_key_enc AS k, user_code_enc AS c FROM panels WHERE id = $1', [panelId]);
    expect(rows[0]!.k.includes(Buffer.from(INTEGRATION_KEY))).toBe(false);
    expect(gw.secrets.decrypt(rows[0]!.k, SEALED.panelIntegrationKey)).toBe(INTEGRATION_KEY);
    expect(gw.secrets.decrypt(rows[0]!.c, SEALED.panelUserCode)).toBe(USER_CODE);
  });

  it('a panel update replaces the zone names and can clear a secret; the audit says which secret, never its value', async () => {
    const r = await req<Record<string, unknown>>(admin, 'PATCH', `/api/panels/${panelId}`, { zones: [{ number: 5, name: 'Garage' }], user_code: null });
    expect(r.body).toMatchObject({ zones: [{ number: 5, name: 'Garage' }], has_user_code: false, has_integration_key: true, partitions: [{ number: 1, name: 'Main' }] });
    const audit = await env.pool.query<{ details: unknown }>(`SELECT details FROM audit_log WHERE target_type = 'panel' AND target_id = $1 ORDER BY id`, [String(panelId)]);
    expect(audit.rows.map((a) => a.details)).toEqual([
      { object_id: objectId, names: ['zones', 'partitions', 'outputs'], secrets: ['integration_key:set', 'user_code:set'] },
      { changed: ['zones'], secrets: ['user_code:cleared'] },
    ]);
    const all = await env.pool.query('SELECT details::text AS d FROM audit_log');
    for (const row of all.rows as { d: string }[]) for (const s of [INTEGRATION_KEY, USER_CODE]) expect(row.d).not.toContain(s);
    expect((await req(admin, 'PATCH', `/api/panels/${panelId}`, { port: 70000 })).status).toBe(400);
    expect((await req(admin, 'PATCH', `/api/panels/${panelId}`, {})).status).toBe(400);
  });

  it('sensors: created, renamed, a duplicate vendor reference is a 409', async () => {
    const s = await req<{ id: number }>(admin, 'POST', '/api/sensors', { object_id: objectId, vendor: 'efento', sender: '+48600700800', sensor_ref: 'EF-1', name: 'Freezer 1' });
    expect(s.status).toBe(201);
    expect((await req(admin, 'PATCH', `/api/sensors/${s.body.id}`, { name: 'Freezer A' })).body).toMatchObject({ name: 'Freezer A', sensor_ref: 'EF-1' });
    const dup = await req(admin, 'POST', '/api/sensors', { object_id: objectId, vendor: 'efento', sender: '+48600700800', sensor_ref: 'EF-1', name: 'again' });
    expect(dup).toMatchObject({ status: 409, body: { code: 'E_CONFLICT' } });
    expect((await req<{ items: unknown[] }>(operator, 'GET', `/api/sensors?object_id=${objectId}`)).body.items).toHaveLength(1);
  });

  it('sensors carry the SMS template they are tried with first and the other names their SMS use', async () => {
    const s = await req<{ id: number }>(admin, 'POST', '/api/sensors', { object_id: objectId, vendor: 'blulog', sender: '+48600700900', sensor_ref: 'BL-1', name: 'Fridge', aliases: ['Lodówka apteka T1'] });
    expect(s.status).toBe(201);
    expect((await req(admin, 'GET', `/api/sensors/${s.body.id}`)).body).toMatchObject({ template: null, aliases: ['Lodówka apteka T1'] });
    expect((await req(admin, 'PATCH', `/api/sensors/${s.body.id}`, { template: 'blulog-temperature-alarm', aliases: [] })).body).toMatchObject({ template: 'blulog-temperature-alarm', aliases: [] });
    expect((await req(admin, 'PATCH', `/api/sensors/${s.body.id}`, { template: 'Not A Name!' })).status).toBe(400);
  });

  it('recorders never show their password; a permitted user reveals it with a reason, uncached, short-lived and audited', async () => {
    const r = await req<{ id: number }>(admin, 'POST', '/api/recorders', { object_id: objectId, name: 'DVR hall', host: '10.1.2.9', port: 8000, login: 'viewer', password: DVR_PASSWORD });
    expect(r.status).toBe(201);
    recorderId = r.body.id;
    expect(r.body).toEqual({ id: recorderId, object_id: objectId, name: 'DVR hall', host: '10.1.2.9', port: 8000, login: 'viewer' });
    await req(operator, 'GET', `/api/recorders/${recorderId}`);
    await req(operator, 'GET', '/api/recorders');
    expect((await req(operator, 'POST', `/api/recorders/${recorderId}/reveal`, {})).status).toBe(400);
    const t0 = Date.now();
    const res = await gw.app.inject({ method: 'POST', url: `/api/recorders/${recorderId}/reveal`, headers: { authorization: `Bearer ${operator}`, 'x-request-id': 'reveal-1' }, payload: { reason: 'verify alarm 17 on camera' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ password: string; login: string; expires_at: string }>();
    expect(body).toMatchObject({ password: DVR_PASSWORD, login: 'viewer' });
    expect(Date.parse(body.expires_at) - t0).toBeGreaterThan(50_000);
    expect(Date.parse(body.expires_at) - t0).toBeLessThanOrEqual(61_000);
    const audit = await env.pool.query(`SELECT username, action, target_id, request_id, details->>'reason' AS reason FROM audit_log WHERE action = 'secret.reveal'`);
    expect(audit.rows).toEqual([{ username: 'operator', action: 'secret.reveal', target_id: String(recorderId), request_id: 'reveal-1', reason: 'verify alarm 17 on camera' }]);
    // A password change is sealed again.
    await req(admin, 'PATCH', `/api/recorders/${recorderId}`, { password: `${DVR_PASSWORD}-2` });
    const again = await call<{ password: string }>(gw.app, operator, 'POST', `/api/recorders/${recorderId}/reveal`, { reason: 'after change' });
    expect(again.body.password).toBe(`${DVR_PASSWORD}-2`);
    await req(admin, 'PATCH', `/api/recorders/${recorderId}`, { password: DVR_PASSWORD });
  });

  it('key rotation re-seals every stored secret under the new key; the old key can then be dropped', async () => {
    const ring = createSecretBox(parseSecretKeys(`${K2},${K1}`));
    const moved = await rotateStoredSecrets(env.pool, ring);
    expect(moved).toEqual({ 'panels.integration_key_enc': 1, 'panels.user_code_enc': 0, 'recorders.password_enc': 1 });
    expect(await rotateStoredSecrets(env.pool, ring)).toEqual({ 'panels.integration_key_enc': 0, 'panels.user_code_enc': 0, 'recorders.password_enc': 0 });
    const onlyNew = createSecretBox(parseSecretKeys(K2));
    const { rows } = await env.pool.query<{ k: Buffer; p: Buffer }>('SELECT p.integration_key_enc AS k, r.password_enc AS p FROM panels p, recorders r WHERE p.id = $1 AND r.id = $2', [panelId, recorderId]);
    expect(onlyNew.decrypt(rows[0]!.k, SEALED.panelIntegrationKey)).toBe(INTEGRATION_KEY);
    expect(onlyNew.decrypt(rows[0]!.p, SEALED.recorderPassword)).toBe(DVR_PASSWORD);
  });

  it('`stam secrets rotate --new-key` (development key file) re-seals the stored secrets under a fresh key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stam-secrets-cli-'));
    const keyFile = join(dir, 'secrets.keys');
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(keyFile, `${K2}\n`, { mode: 0o600 });
      const cli = startRole('secrets', { ...env.vars, SECRETS_KEY_FILE: keyFile }, ['rotate', '--new-key']);
      const exit = await cli.exited;
      expect(exit.code, JSON.stringify(cli.lines)).toBe(0);
      const line = cli.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('active key '));
      expect(line?.msg).toMatch(/re-encrypted panels\.integration_key_enc: 1, panels\.user_code_enc: 0, recorders\.password_enc: 1/);
      for (const l of cli.lines) expect(JSON.stringify(l)).not.toContain(K2.split('=')[1]);
      const ring = createSecretBox(loadSecretKeyRing({ keyFile, generate: false }));
      const { rows } = await env.pool.query<{ p: Buffer }>('SELECT password_enc AS p FROM recorders WHERE id = $1', [recorderId]);
      expect(ring.keyIdOf(rows[0]!.p)).toBe(ring.activeKid);
      expect(ring.activeKid).not.toBe('k2');
      expect(ring.decrypt(rows[0]!.p, SEALED.recorderPassword)).toBe(DVR_PASSWORD);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a technician puts an assigned site in service mode until a time, with a reason; it ends by itself, audited', async () => {
    expect((await req(tech, 'PUT', `/api/objects/${objectId}/service-mode`, { active: true, reason: 'battery swap' })).status).toBe(400);
    expect((await req(tech, 'PUT', `/api/objects/${objectId}/service-mode`, { active: true, reason: 'battery swap', until: new Date(Date.now() + 8 * 86_400_000).toISOString() })).status).toBe(400);
    const until = new Date(Date.now() + 1500).toISOString();
    const on = await req<{ service_mode: Record<string, unknown>; test_mode: Record<string, unknown> }>(tech, 'PUT', `/api/objects/${objectId}/service-mode`, { active: true, reason: 'battery swap', until });
    expect(on.status).toBe(200);
    expect(on.body.service_mode).toMatchObject({ active: true, by: 'tech', reason: 'battery swap', since: expect.any(String) });
    expect(Date.parse(on.body.service_mode.until as string)).toBe(Date.parse(until));
    expect(on.body.test_mode).toMatchObject({ active: false });
    expect(await sweepExpiredModes(env.pool, createLogger('t', 'silent'))).toBe(0);
    await new Promise((r) => setTimeout(r, 1600));
    expect(await sweepExpiredModes(env.pool, createLogger('t', 'silent'))).toBe(1);
    const after = await req<{ service_mode: { active: boolean } }>(operator, 'GET', `/api/objects/${objectId}`);
    expect(after.body.service_mode.active).toBe(false);
    const audit = await env.pool.query(`SELECT action, username FROM audit_log WHERE target_type = 'object' AND target_id = $1 AND action LIKE 'object.service_mode%' ORDER BY id`, [String(objectId)]);
    expect(audit.rows).toEqual([{ action: 'object.service_mode_on', username: 'tech' }, { action: 'object.service_mode.expired', username: 'system' }]);
    const testOn = await req<{ test_mode: Record<string, unknown> }>(admin, 'PUT', `/api/objects/${objectId}/test-mode`, { active: true, reason: 'commissioning', until: new Date(Date.now() + 3_600_000).toISOString() });
    expect(testOn.body.test_mode).toMatchObject({ active: true, by: 'admin', reason: 'commissioning' });
    const testOff = await req<{ test_mode: Record<string, unknown> }>(admin, 'PUT', `/api/objects/${objectId}/test-mode`, { active: false });
    expect(testOff.body.test_mode).toMatchObject({ active: false, until: null });
  });

  it('the audit log filters by action prefix, user and target, newest first, with paging', async () => {
    const byPrefix = await req<{ items: { action: string }[] }>(admin, 'GET', '/api/audit?action=object.&limit=500');
    expect(byPrefix.body.items.length).toBeGreaterThanOrEqual(4);
    expect(byPrefix.body.items.every((i) => i.action.startsWith('object.'))).toBe(true);
    const byUser = await req<{ items: { username: string }[] }>(admin, 'GET', '/api/audit?username=tech');
    expect(byUser.body.items.length).toBeGreaterThan(0);
    expect(byUser.body.items.every((i) => i.username === 'tech')).toBe(true);
    const page1 = await req<{ items: { id: number }[]; next_cursor: number }>(admin, 'GET', '/api/audit?limit=2');
    const page2 = await req<{ items: { id: number }[] }>(admin, 'GET', `/api/audit?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items[0]!.id).toBeLessThan(page1.body.items[1]!.id);
    expect((await req(admin, 'GET', '/api/audit?from=yesterday')).status).toBe(400);
  });
});

describe('panel live state with a circuit breaker', () => {
  let env: TestEnv;
  let panelId: number;
  let token: string;

  beforeAll(async () => {
    env = await createTestEnv();
    const o = (await env.pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('S', 'S') RETURNING id`)).rows[0]!.id;
    panelId = (await env.pool.query<{ id: number }>(`INSERT INTO panels (object_id, name, host, port) VALUES ($1, 'p', '10.0.0.1', 7094) RETURNING id`, [o])).rows[0]!.id;
  });
  afterAll(() => env?.cleanup());

  it('serves Redis live state and keeps a copy in PostgreSQL', async () => {
    const gw = await startGateway(env);
    try {
      token = (await loginInject(gw.app, await createUser(env.pool, 'op', 'OPERATOR'))).access_token;
      const state = { partitions: { 1: 'armed' }, zones: { violated: [3] } };
      await env.redis.hset(`panel:${panelId}:state`, { state: JSON.stringify(state), link: 'connected', last_seen: String(Date.now()) });
      const r = await call(gw.app, token, 'GET', `/api/panels/${panelId}/state`);
      expect(r.body).toMatchObject({ panel_id: panelId, state, link: 'connected', stale: false, source: 'redis' });
      await expect.poll(async () => (await env.pool.query<{ state: unknown }>('SELECT state FROM panel_state WHERE panel_id = $1', [panelId])).rows[0]).toMatchObject({ state: { state, link: 'connected' } });
    } finally {
      await gw.close();
    }
  });

  it('after three Redis failures the breaker opens: PostgreSQL state with stale: true, Redis left alone, retried after the open time', async () => {
    const dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => undefined);
    let calls = 0;
    const original = dead.hgetall.bind(dead);
    Object.assign(dead, { hgetall: (key: string) => { calls++; return original(key); } });
    const gw = await startGateway(env, { liveRedis: dead, settings: { breakerOpenMs: 700 } });
    try {
      for (let i = 1; i <= 5; i++) {
        const r = await call(gw.app, token, 'GET', `/api/panels/${panelId}/state`);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ panel_id: panelId, link: 'connected', stale: true, source: 'postgres', state: { partitions: { 1: 'armed' } } });
      }
      expect(calls).toBe(3);
      await new Promise((r) => setTimeout(r, 800));
      await call(gw.app, token, 'GET', `/api/panels/${panelId}/state`);
      expect(calls).toBe(4); // one trial after the open time; it failed, so open again
      await call(gw.app, token, 'GET', `/api/panels/${panelId}/state`);
      expect(calls).toBe(4);
    } finally {
      await gw.close();
      dead.disconnect();
    }
  });
});
