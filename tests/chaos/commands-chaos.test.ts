import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser } from '../helpers/gateway.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createPanel, login, openWs, waitUntil, type WsClient } from '../helpers/system.ts';
import {
  commandRow, createVhost, rabbitAnswers, rabbitmqctl, recordFrames, sendCommand, startRoles, storeUserCode, terminal, testSecrets,
} from '../helpers/commands.ts';

const CODE = '2580';
const DRIVER = 'chaos-driver';

/**
 * Commands under failure: the driver SIGKILLed after it took a command, and RabbitMQ stopped and started
 * again with commands in flight, queued and being published. Each command must run on the panel at most
 * once and end in exactly one terminal state, reaching the operator once.
 */
describe('arm/disarm commands under failure', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let sim: Simulator;
  let roles: Awaited<ReturnType<typeof startRoles>>;
  let driver: RoleProcess;
  const extra: RoleProcess[] = [];
  let token: string;
  let ws: WsClient;
  const secrets = testSecrets();
  const panels: number[] = [];
  let frames: ReturnType<typeof recordFrames>[] = [];

  const connected = async (n: number) => (await (await fetch(`${sim.controlUrl}/panels`)).json() as { connected: boolean }[])[n - 1]!.connected;
  const claimed = async (id: string) => (await env.pool.query('SELECT 1 FROM command_executions WHERE command_id = $1', [id])).rowCount === 1;
  const outboxRows = async (id: string) => (await env.pool.query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'command.result' AND key = $1`, [id])).rows[0].n as number;
  const wsFinals = (id: string) => ws.messages.filter((e) => e.msg.type === 'command.result' && (e.msg.result as { command_id: string }).command_id === id);

  beforeAll(async () => {
    vhost = await createVhost();
    env = await createTestEnv({
      RABBITMQ_URL: vhost.url, FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_REALTIME_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false',
      FEATURE_HA_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false', SECRETS_KEYS: secrets.keys, SATEL_POLL_INTERVAL_MS: '200',
      SATEL_ANSWER_TIMEOUT_MS: '3000', SATEL_PANEL_REFRESH_MS: '1000', COMMANDS_SWEEP_INTERVAL_S: '1', COMMANDS_GRACE_S: '30',
      COMMANDS_TTL_S: '60', COMMANDS_PUBLISH_TIMEOUT_MS: '30000',
    });
    env.vars.COMMAND_RESULTS_GROUP = `${env.id}-command-results`;
    sim = createSimulator({ panels: 3, basePort: 0, controlPort: 0, userCode: CODE, log: createLogger('sim', 'silent') });
    await sim.start();
    frames = [1, 2, 3].map((n) => recordFrames(sim.panel(n)));
    for (let n = 1; n <= 3; n++) {
      const { panelId } = await createPanel(env.pool, sim.ports[n - 1]!, `CHAOS-${n}`);
      await storeUserCode(env.pool, panelId, secrets.box.encrypt(CODE));
      panels.push(panelId);
    }
    roles = await startRoles(env.vars, { SATEL_DRIVER_ID: DRIVER });
    driver = roles.driver;
    const sup = await createUser(env.pool, 'sup1', 'SUPERVISOR');
    token = await login(roles.base, { username: sup.username, password: sup.password });
    ws = await openWs(roles.base, token);
    await waitUntil('all panels polled', async () => (await Promise.all([1, 2, 3].map(connected))).every(Boolean), 30_000);
  });

  afterAll(async () => {
    ws?.close();
    await Promise.all([...(roles?.all() ?? []), driver, ...extra].map((r) => r?.stop()));
    await sim?.stop();
    await env?.cleanup();
    await vhost?.remove();
  });

  it('the driver SIGKILLed after taking a command: the panel got the arm once, and the restarted driver settles it by read-back without sending it again', async () => {
    sim.perform(1, 'link-delay', { ms: 1_500 }); // the panel acts at once but answers late: the driver dies waiting
    const r = await sendCommand(roles.base, token, panels[0]!, { action: 'arm', partitions: [1] });
    expect(r.status).toBe(202);
    const id = r.body.command_id;
    await waitUntil('command claimed and its arm frame at the panel', async () => (await claimed(id)) && frames[0]!.controls().length === 1, 20_000, 20);
    await driver.stop('SIGKILL');
    expect((await commandRow(env.pool, id)).status).toBe('PENDING');
    sim.perform(1, 'link-restore');
    expect(sim.panel(1).snapshot().partitionStates.armed).toEqual([1]); // it did act

    driver = startRole('satel-ingest', { ...env.vars, SATEL_DRIVER_ID: DRIVER });
    const row = await terminal(env.pool, id, 30_000);
    expect(row.status).toBe('SUCCEEDED');
    expect(row.result_reason).toBe('partitions 1 armed (confirmed by read-back after the executing driver was interrupted; not repeated)');
    expect(frames[0]!.controls()).toEqual([0x80]);
    await ws.waitFor((m) => m.type === 'command.result' && (m.result as { command_id: string }).command_id === id);
    await new Promise((res) => setTimeout(res, 500));
    expect(wsFinals(id)).toHaveLength(1);
    expect(await outboxRows(id)).toBe(1);
  });

  it('RabbitMQ stopped and started mid-command: nothing lost, nothing run twice, one terminal state each', async () => {
    await waitUntil('panel 2 polled by the restarted driver', () => connected(2), 30_000);
    await driver.waitForLog(msgIs('command consumer started'));
    sim.perform(2, 'link-delay', { ms: 1_000 });
    const ids: string[] = [];
    try {
      // In flight: claimed and at the panel when the broker goes away.
      ids.push((await sendCommand(roles.base, token, panels[1]!, { action: 'arm', partitions: [1] })).body.command_id);
      // Queued behind it for the same panel (delivered or still in the queue).
      ids.push((await sendCommand(roles.base, token, panels[1]!, { action: 'outputs_on', outputs: [7] })).body.command_id);
      await waitUntil('first command at the panel', () => frames[1]!.controls().length === 1, 20_000, 20);
      await rabbitmqctl('stop_app');
      // Published while the broker is down: the API keeps trying (COMMANDS_PUBLISH_TIMEOUT_MS) and gets it through after the restart.
      const during = sendCommand(roles.base, token, panels[2]!, { action: 'arm', partitions: [2] });
      await new Promise((res) => setTimeout(res, 3_000));
      await rabbitmqctl('start_app');
      await rabbitAnswers(vhost.url);
      const third = await during;
      expect(third.status).toBe(202);
      ids.push(third.body.command_id);
    } finally {
      await rabbitmqctl('start_app').catch(() => undefined); // never leave the broker stopped
      sim.perform(2, 'link-restore');
    }
    const rows = await Promise.all(ids.map((id) => terminal(env.pool, id, 60_000)));
    expect(rows.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(frames[1]!.controls()).toEqual([0x80, 0x88]);
    expect(frames[2]!.controls()).toEqual([0x80]);
    expect(sim.panel(2).snapshot()).toMatchObject({ partitionStates: { armed: [1] }, outputsOn: [7] });
    expect(sim.panel(3).snapshot().partitionStates.armed).toEqual([2]);
    for (const id of ids) {
      expect(await outboxRows(id)).toBe(1);
      await ws.waitFor((m) => m.type === 'command.result' && (m.result as { command_id: string }).command_id === id, 30_000);
    }
    const { rows: ledger } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM command_executions WHERE command_id = ANY($1) AND result IS NOT NULL', [ids]);
    expect(ledger[0]!.n).toBe(3);
    // The command in flight when the broker went away was delivered again afterwards, and answered from the
    // ledger (the frames above show it ran once). Which of the two it was depends on how long `stop_app`
    // takes: the arm may finish (and be acknowledged) before the broker is down, and then it is the output.
    await driver.waitForLog((l) => l.msg === 'command answered' && ids.slice(0, 2).includes(l.command as string) && l.how === 'answered' && l.redelivered === true, 10_000);
  });
});
