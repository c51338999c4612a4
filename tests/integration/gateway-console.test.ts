import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, insertAlarm, loginInject, startGateway, type GatewayUnderTest, type TestUser } from '../helpers/gateway.ts';

/**
 * The API side of the operator console: the intent queue (arbitration of what was recorded offline),
 * accounts and their object assignments, the quick-unlock PIN, passkey ceremonies, the console's settings.
 */
describe('console API: intents, users, PIN, passkeys', () => {
  let env: TestEnv;
  let gw: GatewayUnderTest;
  let objectId: number;
  const u: Record<string, TestUser> = {};
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    env = await createTestEnv();
    gw = await startGateway(env, { settings: { pinMaxFailures: 3, consoleIdleLockS: 120, consoleMapTileUrl: 'https://tiles.example/{z}/{x}/{y}.png' } });
    objectId = (await env.pool.query<{ id: number }>("INSERT INTO objects (code, name) VALUES ('CON-1', 'Console site') RETURNING id")).rows[0]!.id;
    for (const [name, role] of [['op.a', 'OPERATOR'], ['op.b', 'OPERATOR'], ['admin.c', 'ADMIN'], ['sup.c', 'SUPERVISOR'], ['tech.c', 'TECHNICIAN']] as const) {
      u[name] = await createUser(env.pool, name, role);
      tok[name] = (await loginInject(gw.app, u[name])).access_token;
    }
  });

  afterAll(async () => {
    await gw?.close();
    await env?.cleanup();
  });

  const audit = async (action: string) => (await env.pool.query<{ username: string; target_id: string; details: Record<string, unknown> }>(
    'SELECT username, target_id, details FROM audit_log WHERE action = $1 ORDER BY id', [action])).rows;
  const intent = (alarmId: number, over: Record<string, unknown> = {}) => ({ client_id: randomUUID(), alarm_id: alarmId, action: 'claim', seen_version: 1, recorded_at: new Date(Date.now() - 60_000).toISOString(), ...over });

  it('intents: a free alarm is claimed for the operator; one someone else took is refused with who has it; an unknown or stale one is refused', async () => {
    const free = await insertAlarm(env.pool, objectId);
    const taken = await insertAlarm(env.pool, objectId);
    expect((await call(gw.app, tok['op.b'], 'POST', `/api/alarms/${taken}/claim`, { version: 1 })).status).toBe(200);
    const old = await insertAlarm(env.pool, objectId);
    const list = [intent(free), intent(taken), intent(old, { recorded_at: new Date(Date.now() - 13 * 3_600_000).toISOString() })];
    const r = await call<{ results: Record<string, unknown>[] }>(gw.app, tok['op.a'], 'POST', '/api/intents', { intents: list });
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      expect.objectContaining({ client_id: list[0]!.client_id, alarm_id: free, outcome: 'claimed', reason: null, owner: 'op.a', status: 'CLAIMED', version: 2 }),
      expect.objectContaining({ alarm_id: taken, outcome: 'refused', reason: 'taken', owner: 'op.b', status: 'CLAIMED' }),
      expect.objectContaining({ alarm_id: old, outcome: 'refused', reason: 'stale', status: 'NEW' }),
    ]);
    const { rows } = await env.pool.query<{ status: string; username: string }>('SELECT a.status, u.username FROM alarms a JOIN users u ON u.id = a.claimed_by WHERE a.id = $1', [free]);
    expect(rows).toEqual([{ status: 'CLAIMED', username: 'op.a' }]);
    // The claim went through the one transition: its action row names the intent.
    const note = (await env.pool.query<{ note: string }>("SELECT note FROM alarm_actions WHERE alarm_id = $1 AND action = 'claim'", [free])).rows[0]!.note;
    expect(note).toMatch(/^intent recorded offline at /);
    expect((await audit('intent.claimed')).map((a) => [a.username, a.target_id])).toEqual([['op.a', String(free)]]);
    expect((await audit('intent.refused')).map((a) => a.details.reason)).toEqual(['taken', 'stale']);
  });

  it('intents: sending the same intent again answers the first decision (no second claim); GET lists mine', async () => {
    const id = await insertAlarm(env.pool, objectId);
    const it1 = intent(id);
    const first = await call<{ results: { outcome: string }[] }>(gw.app, tok['op.a'], 'POST', '/api/intents', { intents: [it1] });
    expect(first.body.results[0]!.outcome).toBe('claimed');
    await call(gw.app, tok['op.a'], 'POST', `/api/alarms/${id}/release`, { version: 2 });
    const again = await call<{ results: { outcome: string; reason: string | null }[] }>(gw.app, tok['op.a'], 'POST', '/api/intents', { intents: [it1] });
    expect(again.body.results[0]).toMatchObject({ outcome: 'claimed', reason: null });
    expect((await env.pool.query<{ status: string }>('SELECT status FROM alarms WHERE id = $1', [id])).rows[0]!.status).toBe('NEW');
    const mine = await call<{ items: { client_id: string }[] }>(gw.app, tok['op.a'], 'GET', '/api/intents');
    expect(mine.body.items[0]!.client_id).toBe(it1.client_id);
    expect((await call<{ items: unknown[] }>(gw.app, tok['op.b'], 'GET', '/api/intents')).body.items).toEqual([]);
  });

  it('intents: refused for roles that do not handle alarms, and for an alarm out of scope; bad input is a 400', async () => {
    const id = await insertAlarm(env.pool, objectId);
    expect((await call(gw.app, tok['tech.c'], 'POST', '/api/intents', { intents: [intent(id)] })).status).toBe(403);
    expect((await call(gw.app, tok['op.a'], 'POST', '/api/intents', { intents: [] })).status).toBe(400);
    expect((await call(gw.app, tok['op.a'], 'POST', '/api/intents', { intents: [intent(id, { action: 'close' })] })).status).toBe(400);
    const r = await call<{ results: { outcome: string; reason: string }[] }>(gw.app, tok['op.a'], 'POST', '/api/intents', { intents: [intent(99_999_999)] });
    expect(r.body.results[0]).toMatchObject({ outcome: 'refused', reason: 'not_found' });
  });

  it('users: admins create, change, disable and assign; supervisors only read; every change audited', async () => {
    const created = await call<{ id: number; role: string; objects: number[] }>(gw.app, tok['admin.c'], 'POST', '/api/users', { username: 'fw.new', display_name: 'Field Worker', role: 'FIELD_WORKER', password: 'a-long-password-1' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'FIELD_WORKER', objects: [], has_pin: false, passkeys: 0 });
    expect(JSON.stringify(created.body)).not.toContain('scrypt');
    const assigned = await call<{ objects: number[] }>(gw.app, tok['admin.c'], 'PUT', `/api/users/${created.body.id}/objects`, { objects: [objectId] });
    expect(assigned.body.objects).toEqual([objectId]);
    const fw = await loginInject(gw.app, { username: 'fw.new', password: 'a-long-password-1' });
    expect((await call<{ objects: number[] }>(gw.app, fw.access_token, 'GET', '/api/me')).body.objects).toEqual([objectId]);
    expect((await call(gw.app, tok['admin.c'], 'PATCH', `/api/users/${created.body.id}`, { disabled: true })).status).toBe(200);
    expect((await call(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: fw.refresh_token })).status).toBe(401);
    expect((await call(gw.app, tok['admin.c'], 'POST', '/api/users', { username: 'fw.new', role: 'OPERATOR', password: 'another-password' })).status).toBe(409);
    expect((await call(gw.app, tok['admin.c'], 'PATCH', `/api/users/${u['admin.c']!.id}`, { role: 'OPERATOR' })).status).toBe(400);
    expect((await call<{ items: unknown[] }>(gw.app, tok['sup.c'], 'GET', '/api/users')).body.items.length).toBe(6);
    expect((await call(gw.app, tok['sup.c'], 'POST', '/api/users', { username: 'x1', role: 'OPERATOR', password: 'a-long-password-1' })).status).toBe(403);
    expect((await call(gw.app, tok['op.a'], 'GET', '/api/users')).status).toBe(403);
    expect((await audit('user.add')).length).toBe(1);
    expect((await audit('user.assign'))[0]!.details).toEqual({ added: [objectId], removed: [] });
    expect((await audit('user.update'))[0]!.details).toEqual({ changed: ['disabled'], disabled: true });
  });

  it('PIN: set with the password, unlocks; wrong PINs are counted and the last allowed one clears it', async () => {
    const t = tok['op.b']!;
    expect((await call(gw.app, t, 'PUT', '/api/me/pin', { pin: '4821', password: 'wrong' })).status).toBe(403);
    expect((await call(gw.app, t, 'PUT', '/api/me/pin', { pin: '48a1', password: u['op.b']!.password })).status).toBe(400);
    expect((await call(gw.app, t, 'PUT', '/api/me/pin', { pin: '4821', password: u['op.b']!.password })).status).toBe(204);
    const stored = (await env.pool.query<{ pin_hash: string }>('SELECT pin_hash FROM users WHERE id = $1', [u['op.b']!.id])).rows[0]!.pin_hash;
    expect(stored).toMatch(/^scrypt\$/);
    expect((await call(gw.app, t, 'POST', '/api/auth/unlock', { pin: '4821' })).status).toBe(204);
    const wrong = await call<{ details: { tries_left: number } }>(gw.app, t, 'POST', '/api/auth/unlock', { pin: '0000' });
    expect([wrong.status, wrong.body.details.tries_left]).toEqual([403, 2]);
    expect((await call(gw.app, t, 'POST', '/api/auth/unlock', { pin: '4821' })).status).toBe(204); // a right one resets the count
    for (const n of [2, 1]) expect((await call<{ details: { tries_left: number } }>(gw.app, t, 'POST', '/api/auth/unlock', { pin: '1111' })).body.details.tries_left).toBe(n);
    const cleared = await call<{ details: { reason: string } }>(gw.app, t, 'POST', '/api/auth/unlock', { pin: '1111' });
    expect([cleared.status, cleared.body.details.reason]).toEqual([423, 'cleared']);
    expect((await call(gw.app, t, 'POST', '/api/auth/unlock', { pin: '4821' })).status).toBe(423);
    expect((await audit('pin.set')).length).toBe(1);
    expect((await audit('auth.unlock_failed')).map((a) => a.details.reason)).toEqual(['wrong', 'wrong', 'wrong', 'cleared', 'no_pin']);
  });

  it('passkeys: registration options exclude nothing yet and ask for a platform authenticator; a made-up response is refused; a login challenge is single use', async () => {
    const opts = await call<{ rp: { id: string }; challenge: string; authenticatorSelection: Record<string, string>; excludeCredentials: unknown[] }>(gw.app, tok['op.a'], 'POST', '/api/passkeys/register/options', {});
    expect(opts.status).toBe(200);
    expect(opts.body).toMatchObject({ rp: { id: 'localhost' }, excludeCredentials: [], authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'required', userVerification: 'required' } });
    const fake = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' }, clientExtensionResults: {} };
    const reg = await call<{ code: string }>(gw.app, tok['op.a'], 'POST', '/api/passkeys', { response: fake, label: 'desk' });
    expect([reg.status, reg.body.code]).toEqual([400, 'E_VALIDATION']);
    const login = await call<{ challenge_id: string; options: { rpId: string; userVerification: string } }>(gw.app, undefined, 'POST', '/api/auth/passkey/options', {});
    expect(login.body.options).toMatchObject({ rpId: 'localhost', userVerification: 'required' });
    const attempt = { challenge_id: login.body.challenge_id, response: { ...fake, response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' } } };
    expect((await call(gw.app, undefined, 'POST', '/api/auth/passkey', attempt)).status).toBe(401);
    const reused = await call<{ message: string }>(gw.app, undefined, 'POST', '/api/auth/passkey', attempt);
    expect([reused.status, reused.body.message]).toEqual([401, 'the passkey request expired or was used: start again']);
    expect((await audit('auth.passkey_failed')).map((a) => a.details.reason)).toEqual(['unknown credential']);
    expect((await call<{ items: unknown[] }>(gw.app, tok['op.a'], 'GET', '/api/passkeys')).body.items).toEqual([]);
  });

  it('console settings are public and name nothing secret; objects carry contacts and notes', async () => {
    const s = await call(gw.app, undefined, 'GET', '/api/console/settings');
    expect(s.body).toEqual({ idle_lock_s: 120, map_tile_url: 'https://tiles.example/{z}/{x}/{y}.png', webauthn_rp_id: 'localhost' });
    const o = await call<{ contacts: string; notes: string }>(gw.app, tok['admin.c'], 'PATCH', `/api/objects/${objectId}`, { contacts: 'Jan Kowalski, +48 600 100 200, owner', notes: 'Key in box 4' });
    expect(o.body).toMatchObject({ contacts: 'Jan Kowalski, +48 600 100 200, owner', notes: 'Key in box 4' });
  });

  it('serves the built console: the page and service worker revalidated, hashed assets immutable; unknown /api paths stay JSON 404s', async () => {
    const page = await gw.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<div id="root"></div>');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)![1]!;
    const js = await gw.app.inject({ url: asset });
    expect([js.statusCode, js.headers['cache-control']]).toEqual([200, 'public, max-age=31536000, immutable']);
    const sw = await gw.app.inject({ url: '/sw.js' });
    expect([sw.statusCode, sw.headers['cache-control']]).toEqual([200, 'no-cache']);
    expect(sw.body).toContain(asset);
    expect((await gw.app.inject({ url: '/manifest.webmanifest' })).json()).toMatchObject({ start_url: '/', display: 'standalone' });
    const missing = await gw.app.inject({ url: '/api/nothing-here' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'E_NOT_FOUND']);
  });
});
