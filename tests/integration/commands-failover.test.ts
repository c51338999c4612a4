import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser } from '../helpers/gateway.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createPanel, login, waitUntil } from '../helpers/system.ts';
import { createVhost, recordFrames, sendCommand, startGatewayRole, storeUserCode, terminal, testSecrets } from '../helpers/commands.ts';

const CODE = '1357';

/**
 * Two drivers share one panel through leases (FEATURE_HA_ENABLED): a command goes to the lease holder's
 * queue only; a driver that died keeps a stale binding, and what lands there is handed back to the holder
 * (and the binding dropped) when it returns; with no driver at all a command is answered "undeliverable" —
 * even when the dead-letter consumer was away longer than the command lived.
 */
describe('commands follow the panel lease', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let sim: Simulator;
  let panelId: number;
  let frames: ReturnType<typeof recordFrames>;
  let base: string;
  let token: string;
  const drivers: Record<string, RoleProcess> = {};
  const others: RoleProcess[] = [];
  const secrets = testSecrets();

  const owner = async () => ((await env.redis.get(`lease:panel:${panelId}`)) ?? '').split(':')[0] ?? '';
  const executedBy = async (id: string) => (await env.pool.query<{ driver_id: string }>('SELECT driver_id FROM command_executions WHERE command_id = $1', [id])).rows[0]?.driver_id;
  const startDriver = (name: string) => {
    drivers[name] = startRole('satel-ingest', { ...env.vars, SATEL_DRIVER_ID: name });
    return drivers[name];
  };

  beforeAll(async () => {
    vhost = await createVhost();
    env = await createTestEnv({
      RABBITMQ_URL: vhost.url, FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_REALTIME_ENABLED: 'false', FEATURE_PUSH_ENABLED: 'false',
      FEATURE_HA_ENABLED: 'true', SATEL_LEASE_TTL_MS: '3000', SATEL_LEASE_RENEW_MS: '1000', FEATURE_SMS_ENABLED: 'false', SECRETS_KEYS: secrets.keys,
      SATEL_POLL_INTERVAL_MS: '200', SATEL_ANSWER_TIMEOUT_MS: '1000', SATEL_PANEL_REFRESH_MS: '1000', COMMANDS_SWEEP_INTERVAL_S: '1', COMMANDS_GRACE_S: '10',
      COMMANDS_TTL_S: '60',
    });
    env.vars.COMMAND_RESULTS_GROUP = `${env.id}-command-results`;
    sim = createSimulator({ panels: 1, basePort: 0, controlPort: 0, userCode: CODE, log: createLogger('sim', 'silent') });
    await sim.start();
    frames = recordFrames(sim.panel(1));
    panelId = (await createPanel(env.pool, sim.ports[0]!, 'HA-1')).panelId;
    await storeUserCode(env.pool, panelId, secrets.box.encrypt(CODE));
    others.push(startRole('command-processor', env.vars));
    const gw = await startGatewayRole(env.vars);
    others.push(gw.role);
    base = gw.base;
    const sup = await createUser(env.pool, 'sup1', 'SUPERVISOR');
    token = await login(base, { username: sup.username, password: sup.password });
    await Promise.all([startDriver('ha-a'), startDriver('ha-b')].map((d) => d.waitForLog(msgIs('command consumer started'))));
  });

  afterAll(async () => {
    await Promise.all([...Object.values(drivers), ...others].map((r) => r.stop()));
    await sim?.stop();
    await env?.cleanup();
    await vhost?.remove();
  });

  it('the lease holder executes; after it dies the new holder does, and the stale copy is handed back, answered once', async () => {
    await waitUntil('a driver holds the panel and polls it', async () => ['ha-a', 'ha-b'].includes(await owner()) && (await (await fetch(`${sim.controlUrl}/panels`)).json() as { connected: boolean }[])[0]!.connected, 30_000);
    const first = await owner();
    const second = first === 'ha-a' ? 'ha-b' : 'ha-a';
    const c1 = await sendCommand(base, token, panelId, { action: 'arm', partitions: [1] });
    expect((await terminal(env.pool, c1.body.command_id)).status).toBe('SUCCEEDED');
    expect(await executedBy(c1.body.command_id)).toBe(first);

    await drivers[first]!.stop('SIGKILL'); // its queue keeps its binding to panel.{id}
    await waitUntil('the other driver took the lease over and polls', async () => (await owner()) === second
      && (await (await fetch(`${sim.controlUrl}/panels`)).json() as { connected: boolean }[])[0]!.connected, 30_000);
    await drivers[second]!.waitForLog((l) => l.msg === 'panel poller started' && l.panel === panelId);
    const c2 = await sendCommand(base, token, panelId, { action: 'disarm', partitions: [1], expires_in_s: 60 });
    expect((await terminal(env.pool, c2.body.command_id)).status).toBe('SUCCEEDED');
    expect(await executedBy(c2.body.command_id)).toBe(second);

    // The dead driver returns: the copy of c2 its queue kept goes back to the holder, which answers it from the ledger.
    const back = startDriver(first);
    await back.waitForLog((l) => l.msg === 'command for a panel this driver does not hold handed back to the exchange' && l.command === c2.body.command_id, 30_000);
    await drivers[second]!.waitForLog((l) => l.msg === 'command answered' && l.command === c2.body.command_id && l.how === 'answered', 30_000);
    expect(frames.controls()).toEqual([0x80, 0x84]);

    // The stale binding is gone: the next command reaches the holder only.
    const c3 = await sendCommand(base, token, panelId, { action: 'outputs_on', outputs: [2] });
    expect((await terminal(env.pool, c3.body.command_id)).status).toBe('SUCCEEDED');
    await new Promise((res) => setTimeout(res, 500));
    expect(back.lines.some((l) => l.command === c3.body.command_id)).toBe(false);
    expect(frames.controls()).toEqual([0x80, 0x84, 0x88]);
  });

  it('no driver holds the panel: EXPIRED "undeliverable", also when the answerer was away longer than the command lived', async () => {
    await Promise.all(Object.values(drivers).map((d) => d.stop('SIGTERM'))); // a graceful stop unbinds
    const now = await sendCommand(base, token, panelId, { action: 'arm', partitions: [1] });
    const row = await terminal(env.pool, now.body.command_id);
    expect(row.status).toBe('EXPIRED');
    expect(row.result_reason).toBe(`undeliverable: no driver holds panel ${panelId} (nothing executed)`);

    await others[0]!.stop('SIGTERM'); // the command processor (dead-letter consumer) goes away
    const late = await sendCommand(base, token, panelId, { action: 'arm', partitions: [1], expires_in_s: 1 });
    await new Promise((res) => setTimeout(res, 2_500)); // expired in commands.unroutable meanwhile
    others.push(startRole('command-processor', env.vars));
    const lateRow = await terminal(env.pool, late.body.command_id);
    expect(lateRow).toMatchObject({ status: 'EXPIRED', result_reason: `undeliverable: no driver holds panel ${panelId} (nothing executed)` });
    expect(frames.controls()).toEqual([0x80, 0x84, 0x88]);
  });
});
