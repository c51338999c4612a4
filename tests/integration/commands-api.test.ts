import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandPublisher, type CommandApiOptions, type CommandPublisher } from '../../commands/index.ts';
import { createLogger } from '../../platform/index.ts';
import { KeyRing, buildGateway, type Gateway } from '../../gateway/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, type TestUser } from '../helpers/gateway.ts';
import { createPanel } from '../helpers/system.ts';
import { commandProbe, createVhost } from '../helpers/commands.ts';

/**
 * The API side of arm/disarm commands, in-process: who may command which panel, and that every refusal
 * happens before anything reaches RabbitMQ (a probe queue bound to every panel key counts what arrives).
 */
describe('command API: refusals before RabbitMQ, the command record, listing', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let probe: Awaited<ReturnType<typeof commandProbe>>;
  let publisher: CommandPublisher;
  let keys: KeyRing;
  const gateways: Gateway[] = [];
  let on: Gateway; // FEATURE_ARM_DISARM_ENABLED, OPERATOR not allowed
  let off: Gateway; // flag off
  let operators: Gateway; // COMMANDS_OPERATOR_ALLOWED
  let mine: { objectId: number; panelId: number };
  let other: { objectId: number; panelId: number };
  let disabledPanel: number;
  const users: Record<string, TestUser> = {};
  const tokens: Record<string, string> = {};

  const gateway = async (commands: CommandApiOptions) => {
    const app = await buildGateway({ pool: env.pool, redis: env.redis, keys, log: createLogger('gw', 'silent'), checks: [], lifecycle: { state: 'running' }, commands });
    await app.ready();
    gateways.push(app);
    return app;
  };

  beforeAll(async () => {
    vhost = await createVhost();
    env = await createTestEnv({ RABBITMQ_URL: vhost.url });
    probe = await commandProbe(vhost.url);
    publisher = await createCommandPublisher({ url: vhost.url, log: createLogger('pub', 'silent'), quorum: false, timeoutMs: 5_000, waitForConnect: true });
    keys = await KeyRing.open({ dir: env.config.JWT_KEY_DIR, issuer: env.config.JWT_ISSUER, audience: env.config.JWT_AUDIENCE, ttlS: 900, minReloadMs: 0 });
    on = await gateway({ enabled: true, operatorAllowed: false, defaultTtlS: 30, publisher });
    off = await gateway({ enabled: false, operatorAllowed: true, defaultTtlS: 30 });
    operators = await gateway({ enabled: true, operatorAllowed: true, defaultTtlS: 30, publisher });
    mine = await createPanel(env.pool, 17001, 'CMD-MINE');
    other = await createPanel(env.pool, 17002, 'CMD-OTHER');
    disabledPanel = (await createPanel(env.pool, 17003, 'CMD-OFF')).panelId;
    await env.pool.query('UPDATE panels SET enabled = false WHERE id = $1', [disabledPanel]);
    for (const [name, role, objects] of [
      ['admin1', 'ADMIN', []], ['sup1', 'SUPERVISOR', []], ['op1', 'OPERATOR', []], ['tech-own', 'TECHNICIAN', [mine.objectId]],
      ['tech-foreign', 'TECHNICIAN', [other.objectId]], ['field1', 'FIELD_WORKER', [mine.objectId]], ['system1', 'SYSTEM', []],
    ] as const) {
      users[name] = await createUser(env.pool, name, role, [...objects]);
      tokens[name] = (await loginInject(on, users[name])).access_token;
    }
  });

  afterAll(async () => {
    for (const g of gateways) await g.close();
    keys?.close();
    await publisher?.close();
    await probe?.close();
    await env?.cleanup();
    await vhost?.remove();
  });

  const arm = (app: Gateway, user: string, panelId = mine.panelId, body: Record<string, unknown> = {}) =>
    call<{ command_id?: string; code?: string; message?: string }>(app, tokens[user], 'POST', `/api/panels/${panelId}/commands`, { action: 'arm', partitions: [1], reason: 'night arming', ...body });

  it('denied roles, a disabled flag, a foreign-scope user, an unknown or disabled panel and bad parameters are refused, and RabbitMQ sees nothing', async () => {
    const refusals: [Gateway, string, number, number, RegExp][] = [
      [on, 'tech-own', mine.panelId, 403, /needs panel.command/],
      [on, 'tech-foreign', mine.panelId, 403, /needs panel.command/],
      [on, 'field1', mine.panelId, 403, /needs panel.command/],
      [on, 'system1', mine.panelId, 403, /needs panel.command/],
      [on, 'op1', mine.panelId, 403, /OPERATOR may not send panel commands/],
      [off, 'sup1', mine.panelId, 403, /FEATURE_ARM_DISARM_ENABLED/],
      [off, 'admin1', mine.panelId, 403, /FEATURE_ARM_DISARM_ENABLED/],
      [on, 'sup1', 999_999, 404, /panel 999999 not found/],
      [on, 'sup1', disabledPanel, 409, /disabled/],
    ];
    for (const [app, user, panel, status, message] of refusals) {
      const r = await arm(app, user, panel);
      expect({ user, status: r.status }).toEqual({ user, status });
      expect(r.body.message).toMatch(message);
    }
    for (const [body, message] of [
      [{ action: 'disarm', partitions: undefined }, /disarm needs partitions/], [{ action: 'outputs_on' }, /outputs_on needs outputs/],
      [{ mode: 1, action: 'disarm' }, /disarm takes no mode/], [{ partitions: [40] }, /partitions\/0 must be <= 32/], [{ action: 'self_destruct' }, /action/],
      [{ user_code: '1234' }, /additional/], [{ reason: '' }, /reason/],
    ] as const) {
      const r = await arm(on, 'sup1', mine.panelId, body);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(message);
    }
    expect(await probe.count()).toBe(0);
    expect((await env.pool.query('SELECT count(*)::int AS n FROM commands')).rows[0].n).toBe(0);
    const { rows } = await env.pool.query<{ username: string; why: string }>(
      `SELECT username, details->>'why' AS why FROM audit_log WHERE action = 'command.refused' ORDER BY id`);
    expect(rows).toEqual([
      { username: 'op1', why: 'role' }, { username: 'sup1', why: 'disabled' }, { username: 'admin1', why: 'disabled' },
      { username: 'sup1', why: 'unknown_panel' }, { username: 'sup1', why: 'panel_disabled' },
    ]);
  });

  it('a supervisor\'s command is recorded PENDING, audited and published once to panel.{id}; OPERATOR only where configured', async () => {
    const before = await probe.count();
    const r = await arm(on, 'sup1', mine.panelId, { mode: 2, partitions: [2, 1], expires_in_s: 20 });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: 'PENDING', queued: true });
    expect(await probe.count()).toBe(before + 1);
    const id = r.body.command_id!;
    const got = await call<Record<string, unknown>>(on, tokens.sup1, 'GET', `/api/commands/${id}`);
    expect(got.body).toMatchObject({
      id, panel_id: mine.panelId, object_id: mine.objectId, action: 'arm', params: { mode: 2, partitions: [1, 2] }, reason: 'night arming',
      status: 'PENDING', requested_by: users.sup1!.id, requested_by_name: 'sup1', result_reason: null,
    });
    expect(Date.parse(got.body.expires_at as string) - Date.parse(got.body.created_at as string)).toBe(20_000);
    expect(got.body.published_at).not.toBeNull();
    const { rows } = await env.pool.query<{ action: string; username: string }>(`SELECT action, username FROM audit_log WHERE target_id = $1 ORDER BY id`, [id]);
    expect(rows).toEqual([{ action: 'command.requested', username: 'sup1' }, { action: 'command.published', username: 'sup1' }]);

    const byOperator = await arm(operators, 'op1', mine.panelId, { action: 'outputs_on', partitions: undefined, outputs: [3] });
    expect(byOperator.status).toBe(202);
    expect(await probe.count()).toBe(before + 2);
  });

  it('command records are read with the panel\'s scope: a foreign-scope technician gets 404, its own panel\'s list works', async () => {
    const { rows } = await env.pool.query<{ id: string }>('SELECT id FROM commands WHERE panel_id = $1 ORDER BY created_at', [mine.panelId]);
    expect(rows).toHaveLength(2);
    expect((await call(on, tokens['tech-foreign'], 'GET', `/api/commands/${rows[0]!.id}`)).status).toBe(404);
    expect((await call(on, tokens['tech-foreign'], 'GET', `/api/panels/${mine.panelId}/commands`)).status).toBe(404);
    const list = await call<{ items: { id: string; action: string }[] }>(on, tokens['tech-own'], 'GET', `/api/panels/${mine.panelId}/commands?limit=1`);
    expect(list.body.items.map((c) => c.action)).toEqual(['outputs_on']);
    const page2 = await call<{ items: { id: string }[] }>(on, tokens['tech-own'], 'GET',
      `/api/panels/${mine.panelId}/commands?limit=1&before=${encodeURIComponent((list.body.items[0] as unknown as { created_at: string }).created_at)}`);
    expect(page2.body.items.map((c) => c.id)).toEqual([rows[0]!.id]);
    expect((await call(on, tokens['tech-own'], 'GET', '/api/commands/not-a-uuid')).status).toBe(400);
  });

  it('an expiry beyond COMMANDS_TTL_S is refused with the limit named, and nothing is published', async () => {
    const before = await probe.count();
    const r = await arm(on, 'sup1', mine.panelId, { expires_in_s: 31 });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/expires_in_s 31 exceeds COMMANDS_TTL_S \(30 s\)/);
    expect(await probe.count()).toBe(before);
  });
});
