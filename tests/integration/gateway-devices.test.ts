import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneStaleDevices } from '../../processors/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';

const TOKEN_A = `fcm-token-a-${'x'.repeat(140)}A1b2C3`;
const TOKEN_B = `fcm-token-b-${'y'.repeat(140)}D4e5F6`;

describe('phone registry for push: /api/devices', () => {
  let env: TestEnv;
  let gw: GatewayUnderTest;
  const tokens: Record<string, string> = {};
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    env = await createTestEnv();
    gw = await startGateway(env);
    for (const [name, role] of [['fw.one', 'FIELD_WORKER'], ['fw.two', 'FIELD_WORKER'], ['admin.dev', 'ADMIN'], ['system.dev', 'SYSTEM']] as const) {
      const u = await createUser(env.pool, name, role);
      ids[name] = u.id;
      tokens[name] = (await loginInject(gw.app, u)).access_token;
    }
  });

  afterAll(async () => {
    await gw?.close();
    await env?.cleanup();
  });

  const audit = async (action: string) => (await env.pool.query<{ user_id: number; target_id: string; details: Record<string, unknown> }>(
    'SELECT user_id, target_id, details FROM audit_log WHERE action = $1 ORDER BY id', [action])).rows;

  it('a user registers a phone with platform and app version; the token itself is never shown back', async () => {
    const r = await call<Record<string, unknown>>(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: TOKEN_A, platform: 'android', app_version: '2.3.1' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ user_id: ids['fw.one'], username: 'fw.one', platform: 'android', app_version: '2.3.1', token_hint: '…A1b2C3', quarantined: false });
    expect(JSON.stringify(r.body)).not.toContain(TOKEN_A);
    const again = await call<Record<string, unknown>>(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: TOKEN_A, platform: 'android', app_version: '2.4.0' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: r.body.id, app_version: '2.4.0' });
    expect((await audit('device.register')).map((a) => a.details.new)).toEqual([true, false]);
  });

  it('a token registered by another user moves to that newest user (audited)', async () => {
    const r = await call<{ id: number; user_id: number }>(gw.app, tokens['fw.two'], 'POST', '/api/devices', { token: TOKEN_A, platform: 'android', app_version: '2.4.0' });
    expect(r.status).toBe(200);
    expect(r.body.user_id).toBe(ids['fw.two']);
    const mine = await call<{ items: unknown[] }>(gw.app, tokens['fw.one'], 'GET', '/api/devices');
    expect(mine.body.items).toEqual([]);
    expect((await audit('device.move')).map((a) => a.details)).toEqual([expect.objectContaining({ from_user_id: ids['fw.one'], to_user_id: ids['fw.two'] })]);
  });

  it('GET lists only my own phones; ADMIN sees everybody\'s', async () => {
    await call(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: TOKEN_B, platform: 'ios', app_version: '1.0' });
    const one = await call<{ items: { username: string }[] }>(gw.app, tokens['fw.one'], 'GET', '/api/devices');
    expect(one.body.items.map((d) => d.username)).toEqual(['fw.one']);
    const all = await call<{ items: { username: string }[] }>(gw.app, tokens['admin.dev'], 'GET', '/api/devices');
    expect(all.body.items.map((d) => d.username).sort()).toEqual(['fw.one', 'fw.two']);
  });

  it('DELETE removes my own phone; someone else\'s is 404 (ADMIN may remove any); every removal audited', async () => {
    const theirs = (await call<{ items: { id: number }[] }>(gw.app, tokens['fw.two'], 'GET', '/api/devices')).body.items[0]!;
    expect((await call(gw.app, tokens['fw.one'], 'DELETE', `/api/devices/${theirs.id}`)).status).toBe(404);
    const mine = (await call<{ items: { id: number }[] }>(gw.app, tokens['fw.one'], 'GET', '/api/devices')).body.items[0]!;
    expect((await call(gw.app, tokens['fw.one'], 'DELETE', `/api/devices/${mine.id}`)).status).toBe(204);
    expect((await call(gw.app, tokens['fw.one'], 'DELETE', `/api/devices/${mine.id}`)).status).toBe(404);
    expect((await call(gw.app, tokens['admin.dev'], 'DELETE', `/api/devices/${theirs.id}`)).status).toBe(204);
    expect((await audit('device.remove')).map((a) => [a.user_id, a.details.user_id])).toEqual([[ids['fw.one'], ids['fw.one']], [ids['admin.dev'], ids['fw.two']]]);
  });

  it('bad input gets a clear 400; SYSTEM accounts and anonymous callers have no phones', async () => {
    const bad = await call<{ code: string; message: string }>(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: TOKEN_A, platform: 'nokia', app_version: '1' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('E_VALIDATION');
    expect((await call(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: 'short', platform: 'ios', app_version: '1' })).status).toBe(400);
    expect((await call(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: TOKEN_A, platform: 'ios', app_version: '1', extra: 1 })).status).toBe(400);
    expect((await call(gw.app, tokens['system.dev'], 'GET', '/api/devices')).status).toBe(403);
    expect((await call(gw.app, undefined, 'GET', '/api/devices')).status).toBe(401);
  });

  it('tokens not registered or refreshed for 270 days are pruned, audited; fresher ones stay', async () => {
    await call(gw.app, tokens['fw.one'], 'POST', '/api/devices', { token: TOKEN_A, platform: 'android', app_version: '3.0' });
    await call(gw.app, tokens['fw.two'], 'POST', '/api/devices', { token: TOKEN_B, platform: 'android', app_version: '3.0' });
    await env.pool.query(`UPDATE user_devices SET last_seen_at = now() - interval '271 days' WHERE fcm_token = $1`, [TOKEN_A]);
    await env.pool.query(`UPDATE user_devices SET last_seen_at = now() - interval '269 days' WHERE fcm_token = $1`, [TOKEN_B]);
    expect(await pruneStaleDevices(env.pool, 270)).toBe(1);
    const { rows } = await env.pool.query<{ fcm_token: string }>('SELECT fcm_token FROM user_devices');
    expect(rows.map((r) => r.fcm_token)).toEqual([TOKEN_B]);
    expect((await audit('device.pruned')).map((a) => a.details.stale_days)).toEqual([270]);
  });
});
