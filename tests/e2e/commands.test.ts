import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { COMMANDS_EXCHANGE, encodeCommand, type CommandMessage } from '../../commands/index.ts';
import { createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser } from '../helpers/gateway.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { api, createPanel, login, openWs, waitUntil, type WsClient } from '../helpers/system.ts';
import {
  auditTrail, createVhost, deadPort, recordFrames, sendCommand, startRoles, storeUserCode, terminal, testSecrets,
} from '../helpers/commands.ts';

const CODE = '9081726354';
const WRONG_CODE = '5550001112';

/**
 * The whole loop against the simulator over TCP: `stam gateway` → RabbitMQ → `stam satel-ingest` (the panel's
 * driver) → panel → command.results.v1 → `stam command-processor` → commands + outbox → `stam outbox-relay` →
 * the requesting operator's WebSocket.
 */
describe('arm/disarm commands end to end', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let sim: Simulator;
  let roles: Awaited<ReturnType<typeof startRoles>>;
  const extra: RoleProcess[] = [];
  let token: string;
  let ws: WsClient;
  const secrets = testSecrets();
  const panel: Record<'ok' | 'wrongCode' | 'down' | 'busy', number> = { ok: 0, wrongCode: 0, down: 0, busy: 0 };
  let frames: ReturnType<typeof recordFrames>[] = [];

  beforeAll(async () => {
    vhost = await createVhost();
    env = await createTestEnv({
      RABBITMQ_URL: vhost.url, FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_REALTIME_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false',
      FEATURE_HA_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false', SECRETS_KEYS: secrets.keys, SATEL_POLL_INTERVAL_MS: '200',
      SATEL_ANSWER_TIMEOUT_MS: '1000', SATEL_PANEL_REFRESH_MS: '1000', SATEL_DRIVER_ID: 'e2e-driver', COMMANDS_SWEEP_INTERVAL_S: '1',
      COMMANDS_GRACE_S: '10',
    });
    env.vars.COMMAND_RESULTS_GROUP = `${env.id}-command-results`;
    sim = createSimulator({ panels: 3, basePort: 0, controlPort: 0, userCode: CODE, log: createLogger('sim', 'silent') });
    await sim.start();
    frames = [1, 2, 3].map((n) => recordFrames(sim.panel(n)));
    panel.ok = (await createPanel(env.pool, sim.ports[0]!, 'CMD-OK')).panelId;
    panel.wrongCode = (await createPanel(env.pool, sim.ports[1]!, 'CMD-WRONG')).panelId;
    panel.busy = (await createPanel(env.pool, sim.ports[2]!, 'CMD-SERIAL')).panelId;
    panel.down = (await createPanel(env.pool, await deadPort(), 'CMD-DOWN')).panelId;
    for (const id of [panel.ok, panel.busy, panel.down]) await storeUserCode(env.pool, id, secrets.box.encrypt(CODE));
    await storeUserCode(env.pool, panel.wrongCode, secrets.box.encrypt(WRONG_CODE));
    roles = await startRoles(env.vars);
    const sup = await createUser(env.pool, 'sup1', 'SUPERVISOR');
    token = await login(roles.base, { username: sup.username, password: sup.password });
    ws = await openWs(roles.base, token);
    await waitUntil('driver polls the three simulated panels', async () =>
      (await (await fetch(`${sim.controlUrl}/panels`)).json() as { connected: boolean }[]).every((p) => p.connected), 30_000);
  });

  afterAll(async () => {
    ws?.close();
    await Promise.all([...(roles?.all() ?? []), ...extra].map((r) => r.stop()));
    await sim?.stop();
    await env?.cleanup();
    await vhost?.remove();
  });

  const resultOnWs = (id: string) => ws.waitFor((m) => m.type === 'command.result' && (m.result as { command_id: string }).command_id === id, 30_000);

  it('arm: the partition is armed, the command SUCCEEDED, the operator sees it on the WebSocket, every step audited, the panel got one arm frame', async () => {
    const r = await sendCommand(roles.base, token, panel.ok, { action: 'arm', partitions: [1] });
    expect(r.status).toBe(202);
    const id = r.body.command_id;
    const { msg } = await resultOnWs(id);
    expect(msg.result).toMatchObject({ command_id: id, panel_id: panel.ok, action: 'arm', status: 'SUCCEEDED', reason: 'partitions 1 armed', panel_result_code: 0 });
    expect(sim.panel(1).snapshot().partitionStates.armed).toEqual([1]);
    // The arming is pushed to operators as the panel's new live state (driver → Redis channel → gateway).
    const state = await ws.waitFor((m) => m.type === 'panel.state' && m.panel_id === panel.ok
      && ((m.state as { partitionsArmed?: number[] }).partitionsArmed ?? []).includes(1), 10_000);
    expect(state.msg).toMatchObject({ link: 'up', object_id: expect.any(Number) });
    expect(await terminal(env.pool, id)).toMatchObject({ status: 'SUCCEEDED', result_reason: 'partitions 1 armed', panel_result_code: 0 });
    expect(frames[0]!.controls()).toEqual([0x80]);
    const trail = await auditTrail(env.pool, id);
    expect([trail[0], trail[trail.length - 1]]).toEqual(['command.requested', 'command.succeeded']);
    expect([...trail].sort()).toEqual(['command.executed', 'command.executing', 'command.published', 'command.requested', 'command.succeeded']);
    // Exactly one final result reached the screen, and the driver's own report never did.
    await new Promise((res) => setTimeout(res, 500));
    expect(ws.messages.filter((e) => e.msg.type === 'command.result' && (e.msg.result as { command_id: string }).command_id === id)).toHaveLength(1);
  });

  it('a wrong user code: REJECTED with the panel\'s reason; nothing armed', async () => {
    const r = await sendCommand(roles.base, token, panel.wrongCode, { action: 'arm', partitions: [1] });
    const { msg } = await resultOnWs(r.body.command_id);
    expect(msg.result).toMatchObject({ status: 'REJECTED', panel_result_code: 1 });
    expect((msg.result as { reason: string }).reason).toMatch(/^wrong user code: the panel does not know the stored user code \(panel result 0x01\)$/);
    expect(await terminal(env.pool, r.body.command_id)).toMatchObject({ status: 'REJECTED', panel_result_code: 1 });
    expect(sim.panel(2).snapshot().partitionStates.armed).toBeUndefined();
  });

  it('arming with a violated zone: REJECTED "cannot arm: zones violated (force arm possible)"; force_arm then SUCCEEDED', async () => {
    sim.perform(1, 'violate', { zone: 12 }); // zone 12 is in partition 2
    const r = await sendCommand(roles.base, token, panel.ok, { action: 'arm', partitions: [2] });
    const row = await terminal(env.pool, r.body.command_id);
    expect(row).toMatchObject({ status: 'REJECTED', panel_result_code: 0x11 });
    expect(row.result_reason).toMatch(/^cannot arm: zones violated \(force arm possible\)/);
    const f = await sendCommand(roles.base, token, panel.ok, { action: 'force_arm', partitions: [2] });
    expect(await terminal(env.pool, f.body.command_id)).toMatchObject({ status: 'SUCCEEDED', result_reason: 'partitions 2 armed' });
  });

  it('link down: FAILED with "no link to the panel", right away', async () => {
    const r = await sendCommand(roles.base, token, panel.down, { action: 'disarm', partitions: [1] });
    const { msg } = await resultOnWs(r.body.command_id);
    expect(msg.result).toMatchObject({ status: 'FAILED', panel_result_code: null });
    expect((msg.result as { reason: string }).reason).toMatch(/^no link to the panel: connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });

  it('two commands for one panel run one after the other: the second\'s frame goes out only after the first was read back', async () => {
    sim.perform(3, 'link-delay', { ms: 150 });
    try {
      const [a, b] = await Promise.all([
        sendCommand(roles.base, token, panel.busy, { action: 'arm', partitions: [1] }),
        sendCommand(roles.base, token, panel.busy, { action: 'outputs_on', outputs: [5] }),
      ]);
      const [ra, rb] = await Promise.all([terminal(env.pool, a.body.command_id), terminal(env.pool, b.body.command_id)]);
      expect([ra.status, rb.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      const seq = frames[2]!.frames.map((f) => f.cmd).filter((c) => c === 0x80 || c === 0x88 || c === 0x0a || c === 0x17);
      const first = seq.findIndex((c) => c === 0x80 || c === 0x88);
      const second = seq.findIndex((c, i) => i > first && (c === 0x80 || c === 0x88));
      // Between the two control frames: the first command's read-back (0x0A after arm, 0x17 after outputs).
      expect(seq.slice(first + 1, second)).toContain(seq[first] === 0x80 ? 0x0a : 0x17);
      expect(frames[2]!.controls()).toHaveLength(2);
      const { rows } = await env.pool.query<{ command_id: string; started: number; finished: number }>(
        `SELECT command_id, extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM finished_at) * 1000 AS finished
           FROM command_executions WHERE command_id = ANY($1) ORDER BY started_at`, [[a.body.command_id, b.body.command_id]]);
      expect(rows).toHaveLength(2);
      expect(Number(rows[1]!.started)).toBeGreaterThanOrEqual(Number(rows[0]!.finished));
    } finally {
      sim.perform(3, 'link-restore');
    }
  });

  it('a command the driver receives after its deadline (x-deadline passed) is EXPIRED and never sent to the panel', async () => {
    // A command whose lifetime in PostgreSQL is long but whose deadline header says it is late (held up in transit).
    const id = crypto.randomUUID();
    const now = Date.now();
    await env.pool.query(`INSERT INTO commands (id, panel_id, action, params, reason, expires_at) VALUES ($1, $2, 'disarm', '{"partitions":[1]}', 'late', now() + interval '1 minute')`, [id, panel.ok]);
    const cmd: CommandMessage = { v: 1, command_id: id, panel_id: panel.ok, action: 'disarm', params: { partitions: [1] }, requested_by: { id: 0, username: 'test' }, created_at: now - 60_000, expires_at: now + 60_000, trace: null };
    const e = encodeCommand(cmd, now);
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    ch.publish(COMMANDS_EXCHANGE, e.routingKey, e.content, { ...e.options, headers: { ...e.options.headers, 'x-deadline': now - 1_000 } });
    await ch.waitForConfirms();
    await conn.close();
    const row = await terminal(env.pool, id);
    expect(row.status).toBe('EXPIRED');
    expect(row.result_reason).toMatch(/^expired before the driver could execute it/);
    expect(frames[0]!.controls().filter((c) => c === 0x84)).toEqual([]);
    expect(sim.panel(1).snapshot().partitionStates.armed).toEqual([1, 2]); // still armed: the disarm never ran
  });

  it('a command older than its expiry while its driver is dead: EXPIRED from the dead-letter queue; the driver back never runs it', async () => {
    await roles.driver.stop('SIGKILL'); // its queue stays bound: the command waits there and expires
    sim.perform(1, 'disarm', { partition: 1 });
    sim.perform(1, 'disarm', { partition: 2 });
    const controlsBefore = frames[0]!.controls().length;
    const r = await sendCommand(roles.base, token, panel.ok, { action: 'arm', partitions: [1], expires_in_s: 2 });
    expect(r.body.queued).toBe(true);
    const row = await terminal(env.pool, r.body.command_id, 30_000);
    expect(row.status).toBe('EXPIRED');
    expect(row.result_reason).toMatch(/^expired in the queue before a driver took it/);
    const back = startRole('satel-ingest', env.vars);
    extra.push(back);
    await back.waitForLog(msgIs('command consumer started'));
    await waitUntil('panel 1 polled again', async () => (await (await fetch(`${sim.controlUrl}/panels`)).json() as { connected: boolean }[])[0]!.connected, 30_000);
    await new Promise((res) => setTimeout(res, 1_000));
    expect(frames[0]!.controls().length).toBe(controlsBefore);
    expect(sim.panel(1).snapshot().partitionStates.armed).toBeUndefined();
    expect((await terminal(env.pool, r.body.command_id)).status).toBe('EXPIRED');
    expect(await auditTrail(env.pool, r.body.command_id)).toEqual(['command.requested', 'command.published', 'command.executed', 'command.expired']);
  });

  it('the user codes appear in no log line, audit row, command record, result or API answer', async () => {
    const lines = [...roles.all(), ...extra].flatMap((r) => r.lines).map((l) => JSON.stringify(l));
    expect(lines.length).toBeGreaterThan(50);
    const stored = await Promise.all(['audit_log', 'commands', 'command_executions', 'outbox'].map(async (t) => JSON.stringify((await env.pool.query(`SELECT * FROM ${t}`)).rows)));
    const answers = await Promise.all([panel.ok, panel.wrongCode].flatMap((id) => [`/api/panels/${id}/commands`, `/api/panels/${id}`])
      .map(async (path) => JSON.stringify((await api(roles.base, path, { token })).body)));
    for (const code of [CODE, WRONG_CODE]) {
      expect(lines.filter((l) => l.includes(code))).toEqual([]);
      expect(stored.filter((t) => t.includes(code))).toEqual([]);
      expect(answers.filter((t) => t.includes(code))).toEqual([]);
      expect(ws.messages.filter((m) => JSON.stringify(m.msg).includes(code))).toEqual([]);
    }
    expect(answers.join('')).toContain('"has_user_code":true');
  });
});
