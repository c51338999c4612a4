import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../gateway/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, startGateway, type GatewayUnderTest, type TestUser } from '../helpers/gateway.ts';
import { startRole } from '../../load-tests/index.ts';
import { waitUntil } from '../helpers/system.ts';

describe('gateway authentication', () => {
  let env: TestEnv;
  let gw: GatewayUnderTest;
  let op: TestUser;

  beforeAll(async () => {
    env = await createTestEnv();
    gw = await startGateway(env, { settings: { loginMaxFailures: 3, loginLockS: 2, loginAddressMaxFailures: 6, loginAddressWindowS: 60 } });
    op = await createUser(env.pool, 'op.anna', 'OPERATOR');
  });
  afterAll(async () => {
    await gw?.close();
    await env?.cleanup();
  });

  it('login answers a short-lived RS256 token with a kid and a refresh token that is stored only as a hash', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: op.username, password: op.password }, headers: { 'x-request-id': 'req-login-1' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-login-1');
    const body = res.json<{ access_token: string; refresh_token: string; expires_in: number; user: unknown }>();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, user: { id: op.id, username: op.username, role: 'OPERATOR' } });
    const header = JSON.parse(Buffer.from(body.access_token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    expect(header).toMatchObject({ alg: 'RS256', kid: gw.keys.activeKid });
    const { rows } = await env.pool.query<{ token_hash: string }>('SELECT token_hash FROM refresh_tokens WHERE user_id = $1', [op.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).not.toContain(body.refresh_token);
    // The request id travels into the audit log.
    const audit = await env.pool.query('SELECT action, username, request_id FROM audit_log WHERE request_id = $1', ['req-login-1']);
    expect(audit.rows).toEqual([{ action: 'auth.login', username: op.username, request_id: 'req-login-1' }]);
  });

  it('a wrong password is a 401 with the one error shape; a malformed body is a 400 naming the problem', async () => {
    const bad = await gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: 'x' }, remoteAddress: '10.9.9.9' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toEqual({ code: 'E_AUTH_INVALID', message: 'wrong username or password' });
    const malformed = await gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'x' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'E_VALIDATION', message: expect.stringContaining('password') });
  });

  it('refresh rotates the refresh token; presenting a spent one revokes the whole family', async () => {
    const first = await loginInject(gw.app, op);
    const r1 = await call<{ access_token: string; refresh_token: string }>(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: first.refresh_token });
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).not.toBe(first.refresh_token);
    expect((await call(gw.app, r1.body.access_token, 'GET', '/api/me')).body).toMatchObject({ username: op.username, role: 'OPERATOR' });
    // The spent token comes back (stolen copy): refused, and the newer token of the same login dies with it.
    const reuse = await call(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: first.refresh_token });
    expect(reuse).toMatchObject({ status: 401, body: { code: 'E_AUTH_REFRESH', message: expect.stringContaining('every session of this login was revoked') } });
    const after = await call(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: r1.body.refresh_token });
    expect(after).toMatchObject({ status: 401, body: { code: 'E_AUTH_REFRESH' } });
    const audit = await env.pool.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.refresh_reused' AND user_id = $1", [op.id]);
    expect(audit.rows[0]).toEqual({ n: 1 });
  });

  it('logout revokes the refresh token family; another login of the same user is unaffected', async () => {
    const a = await loginInject(gw.app, op);
    const b = await loginInject(gw.app, op);
    expect((await call(gw.app, undefined, 'POST', '/api/auth/logout', { refresh_token: a.refresh_token })).status).toBe(204);
    expect((await call(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: a.refresh_token })).status).toBe(401);
    expect((await call(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: b.refresh_token })).status).toBe(200);
  });

  it('an account locks after 3 failures and says so, even to the right password, and unlocks after the lock time', async () => {
    const user = await createUser(env.pool, 'op.lock', 'OPERATOR');
    const attempt = (password: string) => gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password }, remoteAddress: '10.1.1.1' });
    expect((await attempt('wrong-1')).statusCode).toBe(401);
    expect((await attempt('wrong-2')).statusCode).toBe(401);
    const third = await attempt('wrong-3');
    expect(third.statusCode).toBe(423);
    expect(third.json()).toMatchObject({ code: 'E_AUTH_LOCKED', message: expect.stringMatching(/^account locked after too many failed logins until /), details: { locked_until: expect.any(String) } });
    const right = await attempt(user.password);
    expect(right.statusCode).toBe(423);
    expect(right.json<{ code: string }>().code).toBe('E_AUTH_LOCKED');
    await new Promise((r) => setTimeout(r, 2100));
    // After the lock, one mistake is just a mistake again.
    expect((await attempt('wrong-4')).statusCode).toBe(401);
    expect((await attempt(user.password)).statusCode).toBe(200);
    const { rows } = await env.pool.query('SELECT failed_logins, locked_until FROM users WHERE id = $1', [user.id]);
    expect(rows[0]).toEqual({ failed_logins: 0, locked_until: null });
  });

  it('an address with too many failures is throttled for everyone it tries, other addresses are not', async () => {
    const ip = '10.2.2.2';
    for (let i = 0; i < 6; i++) {
      const r = await gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: `ghost${i}`, password: 'guess' }, remoteAddress: ip });
      expect(r.statusCode).toBe(401);
    }
    const blocked = await gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: op.username, password: op.password }, remoteAddress: ip });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'E_AUTH_THROTTLED', message: expect.stringContaining('too many failed logins from this address') });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await loginInject(gw.app, op, '10.3.3.3')).user.id).toBe(op.id);
  });

  it('a disabled account is refused at login, its refresh tokens and (within seconds) its access tokens stop working', async () => {
    const user = await createUser(env.pool, 'op.leaver', 'OPERATOR');
    const session = await loginInject(gw.app, user);
    expect((await call(gw.app, session.access_token, 'GET', '/api/me')).status).toBe(200);
    await env.pool.query('UPDATE users SET disabled = true WHERE id = $1', [user.id]);
    expect((await gw.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password: user.password } })).statusCode).toBe(401);
    expect((await call(gw.app, undefined, 'POST', '/api/auth/refresh', { refresh_token: session.refresh_token })).status).toBe(401);
    await waitUntil('access token refused', async () => (await call(gw.app, session.access_token, 'GET', '/api/me')).status === 401, 8000, 250);
  });

  it('requests without a token or with a forged one are 401; the JWKS publishes only public keys', async () => {
    expect(await call(gw.app, undefined, 'GET', '/api/alarms')).toMatchObject({ status: 401, body: { code: 'E_AUTH_TOKEN' } });
    expect(await call(gw.app, 'abc.def.ghi', 'GET', '/api/alarms')).toMatchObject({ status: 401, body: { code: 'E_AUTH_TOKEN' } });
    const jwks = await call<{ keys: Record<string, unknown>[] }>(gw.app, undefined, 'GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of jwks.body.keys) expect(Object.keys(k).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('a signing key rotation logs nobody out: old tokens keep working, new ones carry the new kid, JWKS lists both', async () => {
    const before = await loginInject(gw.app, op);
    const oldKid = gw.keys.activeKid;
    const { kid } = rotateSigningKey(env.config.JWT_KEY_DIR);
    expect((await call(gw.app, before.access_token, 'GET', '/api/me')).status).toBe(200);
    await gw.keys.reload();
    const after = await loginInject(gw.app, op);
    expect(JSON.parse(Buffer.from(after.access_token.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid });
    expect((await call(gw.app, before.access_token, 'GET', '/api/me')).status).toBe(200);
    expect((await call(gw.app, after.access_token, 'GET', '/api/me')).status).toBe(200);
    const jwks = await call<{ keys: { kid: string }[] }>(gw.app, undefined, 'GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.map((k) => k.kid)).toEqual([kid, oldKid]);
  });

  it('`stam keys rotate` adds a signing key from the command line, audited; sessions survive it', async () => {
    const session = await loginInject(gw.app, op);
    const before = gw.keys.activeKid;
    const cli = startRole('keys', env.vars, ['rotate']);
    expect((await cli.exited).code, JSON.stringify(cli.lines)).toBe(0);
    const out = cli.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('new signing key '));
    const kid = /new signing key (\S+);/.exec(String(out?.msg))?.[1];
    expect(kid).toBeDefined();
    await gw.keys.reload();
    expect(gw.keys.activeKid).toBe(kid);
    expect(gw.keys.publicJwks().keys.map((k) => k.kid)).toEqual([kid, before]);
    expect((await call(gw.app, session.access_token, 'GET', '/api/me')).status).toBe(200);
    const audit = await env.pool.query(`SELECT username, target_id FROM audit_log WHERE action = 'keys.rotate'`);
    expect(audit.rows).toEqual([{ username: 'cli', target_id: kid }]);
  });

  it('OpenAPI is served at /docs and documents the error shape', async () => {
    expect((await gw.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    const spec = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/alarms', '/api/alarms/{id}/claim', '/api/recorders/{id}/reveal', '/api/audit']));
    expect(JSON.stringify(spec.components.schemas)).toContain('"code"');
  });
});
