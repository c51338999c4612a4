import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEALED, createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createVhost, sendCommand, startRoles, storeUserCode, terminal, testSecrets } from '../helpers/commands.ts';
import { api, createOperator, createPanel, login, waitUntil } from '../helpers/system.ts';

const USER_CODE = '4711';
const INTEGRATION_KEY = 'plus-key-31337';
const DVR_PASSWORD = 'Dvr-9931!secret';

/**
 * Black-box, against running roles: what the roles log and answer never carries a secret; a sealed secret
 * does not open outside its column; a panel without encryption is flagged where it is configured and in
 * /readyz; a panel without its own user code is never commanded with a default one.
 */
describe('hardening: secrets at rest, on the wire and in logs', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let roles: Awaited<ReturnType<typeof startRoles>>;
  let sim: Simulator;
  let token: string;
  let plainPanel: { panelId: number; objectId: number };
  let noCodePanel: { panelId: number; objectId: number };
  const secrets = testSecrets();

  beforeAll(async () => {
    vhost = await createVhost();
    env = await createTestEnv({
      RABBITMQ_URL: vhost.url, FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false', FEATURE_HA_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false',
      SECRETS_KEYS: secrets.keys, SECRET_REVEALS_PER_HOUR: '3', SATEL_POLL_INTERVAL_MS: '200', SATEL_PANEL_REFRESH_MS: '500',
    });
    env.vars.COMMAND_RESULTS_GROUP = `${env.id}-command-results`;
    sim = createSimulator({ panels: 2, basePort: 0, controlPort: 0, userCode: USER_CODE, log: createLogger('sim', 'silent') });
    await sim.start();
    plainPanel = await createPanel(env.pool, sim.ports[0]!, 'SEC-PLAIN');
    noCodePanel = await createPanel(env.pool, sim.ports[1]!, 'SEC-NOCODE');
    await storeUserCode(env.pool, plainPanel.panelId, secrets.box.encrypt(USER_CODE, SEALED.panelUserCode));
    roles = await startRoles(env.vars);
    const creds = await createOperator(env.pool, 'sup-sec', 'ADMIN');
    token = await login(roles.base, creds);
  });

  afterAll(async () => {
    for (const r of roles?.all() ?? []) await r.stop();
    await sim?.stop();
    await env?.cleanup();
    await vhost?.remove();
  });

  const everything = (list: RoleProcess[]) => list.flatMap((r) => r.lines.map((l) => JSON.stringify(l))).join('\n');

  it('a panel with a user code and no integration key is flagged when configured and in the driver\'s /readyz', async () => {
    const r = await api<{ warnings: string[] }>(roles.base, `/api/panels/${plainPanel.panelId}`, { token });
    expect(r.body.warnings).toEqual([expect.stringMatching(/no integration key: .*user code .* in clear/)]);
    const ops = roles.driver.lines.find((l) => l.msg === 'ops endpoints listening (/healthz /readyz /metrics)')!.port as number;
    await waitUntil('the driver warns in /readyz', async () => {
      const ready = await (await fetch(`http://127.0.0.1:${ops}/readyz`)).json() as { warnings: Record<string, string[]> };
      return (ready.warnings['panel-encryption'] ?? []).includes(`panel ${plainPanel.panelId}: user code sent in clear (no integration key)`);
    }, 15_000, 200);
    const withKey = await api<{ warnings: string[] }>(roles.base, `/api/panels/${plainPanel.panelId}`, { method: 'PATCH', token, body: { integration_key: INTEGRATION_KEY } });
    expect(withKey.body.warnings).toEqual([]);
    await api(roles.base, `/api/panels/${plainPanel.panelId}`, { method: 'PATCH', token, body: { integration_key: null } });
  });

  it('a panel without its own user code is never commanded with a default: the command is refused with the reason', async () => {
    const c = await sendCommand(roles.base, token, noCodePanel.panelId, { action: 'arm', partitions: [1] });
    expect(c.status).toBe(202);
    const row = await terminal(env.pool, c.body.command_id);
    expect(row.status).toMatch(/REJECTED|FAILED/);
    expect(row.result_reason).toMatch(/no user code is stored for this panel/);
  });

  it('a sealed secret copied into another column does not open there: the reveal fails instead of showing it', async () => {
    const rec = await api<{ id: number }>(roles.base, '/api/recorders', {
      token, body: { object_id: plainPanel.objectId, name: 'DVR', host: '10.0.0.9', port: 80, login: 'viewer', password: DVR_PASSWORD },
    });
    const ok = await api<{ password: string }>(roles.base, `/api/recorders/${rec.body.id}/reveal`, { token, body: { reason: 'checking the recording' } });
    expect(ok.body.password).toBe(DVR_PASSWORD);
    await env.pool.query('UPDATE recorders SET password_enc = (SELECT user_code_enc FROM panels WHERE id = $1) WHERE id = $2', [plainPanel.panelId, rec.body.id]);
    const moved = await api<{ password?: string; code: string }>(roles.base, `/api/recorders/${rec.body.id}/reveal`, { token, body: { reason: 'checking the recording' } });
    expect(moved.status).toBe(500);
    expect(JSON.stringify(moved.body)).not.toContain(USER_CODE);
  });

  it('a reveal says it is the stored password, and a user gets SECRET_REVEALS_PER_HOUR of them: then 429, audited once, counted', async () => {
    const rec = await api<{ id: number }>(roles.base, '/api/recorders', {
      token, body: { object_id: plainPanel.objectId, name: 'DVR 2', host: '10.0.0.10', port: 80, login: 'viewer', password: DVR_PASSWORD },
    });
    const supervisor = await login(roles.base, await createOperator(env.pool, 'sup-reveal', 'SUPERVISOR'));
    const reveal = (t = supervisor) => api<{ password?: string; stored?: boolean; code?: string }>(roles.base, `/api/recorders/${rec.body.id}/reveal`, { token: t, body: { reason: 'checking the recording' } });
    for (let i = 0; i < 3; i++) expect((await reveal()).body).toMatchObject({ password: DVR_PASSWORD, stored: true });
    const refused = [await reveal(), await reveal(), await reveal()];
    for (const r of refused) expect({ status: r.status, code: r.body.code, password: r.body.password }).toEqual({ status: 429, code: 'E_RATE_LIMITED', password: undefined });
    const { rows } = await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'secret.reveal.refused'`);
    expect(rows[0]!.n).toBe(1);
    const metrics = await (await fetch(`${roles.base}/metrics`)).text();
    expect(metrics).toMatch(/^stam_gateway_secret_reveals_refused_total 3$/m);
    // Another user is not affected.
    const other = await login(roles.base, await createOperator(env.pool, 'sup-reveal-2', 'SUPERVISOR'));
    expect((await reveal(other)).status).toBe(200);
  });

  it('no role logged a password, token, user code, integration key or the demo operator\'s password', async () => {
    await api(roles.base, '/api/auth/login', { body: { username: 'sup-sec', password: 'wrong-Password-123' } });
    const seed = startRole('seed', env.vars);
    const exit = await seed.exited;
    expect(exit.code).toBe(0);
    const demo = JSON.parse(readFileSync('.data/demo-credentials.json', 'utf8')) as { password: string };
    const logs = everything([...roles.all(), seed]);
    for (const secret of [USER_CODE, INTEGRATION_KEY, DVR_PASSWORD, 'wrong-Password-123', token, demo.password]) expect(logs).not.toContain(secret);
    expect(seed.lines.map((l) => String(l.msg)).join('\n')).toMatch(/operator login: operator \(password in \.data\/demo-credentials\.json\)/);
  });
});
