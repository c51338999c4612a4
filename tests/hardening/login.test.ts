import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser } from '../helpers/gateway.ts';
import { waitUntil } from '../helpers/system.ts';

/**
 * Black-box, against running gateways: how logins are throttled and recorded when clients come through
 * a reverse proxy, and when they do not.
 */
describe('hardening: logins', () => {
  let env: TestEnv;
  const procs: RoleProcess[] = [];
  let behindProxy: string;
  let direct: string;

  const gateway = async (vars: Record<string, string>) => {
    const proc = startRole('gateway', { ...env.vars, ...vars });
    procs.push(proc);
    const line = await proc.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    const url = `http://127.0.0.1:${line.port as number}`;
    await waitUntil('gateway ready', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000, 200);
    return url;
  };
  const attempt = async (base: string, username: string, password: string, forwardedFor?: string) => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST', body: JSON.stringify({ username, password }),
      headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    });
    return { status: res.status, body: (await res.json()) as { code?: string } };
  };
  const auditIps = async (username: string) =>
    (await env.pool.query<{ ip: string }>(`SELECT ip FROM audit_log WHERE username = $1 ORDER BY id`, [username])).rows.map((r) => r.ip);

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false', LOGIN_ADDRESS_MAX_FAILURES: '3' });
    [behindProxy, direct] = await Promise.all([gateway({ TRUSTED_PROXIES: '127.0.0.1, ::1' }), gateway({})]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await env?.cleanup();
  });

  it('behind a trusted proxy, the throttle and the audit see the forwarded client address: one client\'s failures do not block the others', async () => {
    const user = await createUser(env.pool, 'proxied', 'OPERATOR');
    for (let i = 0; i < 3; i++) expect((await attempt(behindProxy, 'proxied', 'wrong password', '203.0.113.7')).status).toBe(401);
    const blocked = await attempt(behindProxy, 'proxied', user.password, '203.0.113.7');
    expect({ status: blocked.status, code: blocked.body.code }).toEqual({ status: 429, code: 'E_AUTH_THROTTLED' });
    // Another workstation behind the same proxy logs in.
    expect((await attempt(behindProxy, 'proxied', user.password, '203.0.113.8')).status).toBe(200);
    expect(await auditIps('proxied')).toEqual([...Array<string>(4).fill('203.0.113.7'), '203.0.113.8']);
  });

  it('without a trusted proxy, X-Forwarded-For is ignored: a client cannot pick the address it is throttled and audited under', async () => {
    const user = await createUser(env.pool, 'direct', 'OPERATOR');
    for (let i = 0; i < 3; i++) expect((await attempt(direct, 'direct', 'wrong password', `198.51.100.${i}`)).status).toBe(401);
    const blocked = await attempt(direct, 'direct', user.password, '198.51.100.99');
    expect({ status: blocked.status, code: blocked.body.code }).toEqual({ status: 429, code: 'E_AUTH_THROTTLED' });
    expect(new Set(await auditIps('direct'))).toEqual(new Set(['127.0.0.1']));
  });

  it('a TRUSTED_PROXIES entry that is not an address stops the gateway with its name', async () => {
    const proc = startRole('gateway', { ...env.vars, TRUSTED_PROXIES: '10.0.0.0/33' });
    procs.push(proc);
    const exit = await proc.exited;
    expect(exit.code).not.toBe(0);
    expect(proc.lines.map((l) => (l.err as { message?: string } | undefined)?.message ?? '').join('\n')).toMatch(/TRUSTED_PROXIES: "10\.0\.0\.0\/33" is not an address or a CIDR/);
  });
});
