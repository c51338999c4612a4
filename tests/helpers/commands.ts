import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { COMMANDS_EXCHANGE, declareCommandTopology } from '../../commands/index.ts';
import { createSecretBox, generateSecretKey, parseSecretKeys, type Pool } from '../../platform/index.ts';
import type { Panel } from '../../simulator/index.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { api, waitUntil } from './system.ts';

const run = promisify(execFile);

/** RabbitMQ isolation per test file: a vhost of its own (guest may use it), deleted afterwards. */
export async function createVhost(): Promise<{ name: string; url: string; remove(): Promise<void> }> {
  const name = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  await run('rabbitmqctl', ['-q', 'add_vhost', name]);
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  return { name, url: `amqp://guest:guest@127.0.0.1:5672/${name}`, remove: async () => { await run('rabbitmqctl', ['-q', 'delete_vhost', name]).catch(() => undefined); } };
}

/** Waits until RabbitMQ accepts AMQP connections again (after start_app). */
export async function rabbitAnswers(url: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil('RabbitMQ accepting connections', async () => {
    try { const c = await amqp.connect(url); await c.close(); return true; } catch { return false; }
  }, timeoutMs, 250);
}

export const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', ['-q', ...args]);

/** A queue bound to every panel key of the commands exchange: what reached RabbitMQ, counted without taking it. */
export async function commandProbe(url: string): Promise<{ count(): Promise<number>; close(): Promise<void> }> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await declareCommandTopology(ch, { quorum: false });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, COMMANDS_EXCHANGE, 'panel.#');
  return { count: async () => (await ch.checkQueue(queue)).messageCount, close: () => conn.close() };
}

/** A secrets ring for the roles (SECRETS_KEYS) and the box the test seals user codes with. */
export function testSecrets() {
  const keys = generateSecretKey('cmdtest');
  return { keys, box: createSecretBox(parseSecretKeys(keys)) };
}

export async function storeUserCode(pool: Pool, panelId: number, sealed: Buffer): Promise<void> {
  await pool.query('UPDATE panels SET user_code_enc = $2 WHERE id = $1', [panelId, sealed]);
}

/** A TCP port nothing listens on (a panel whose link is down). */
export async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Records every frame a simulated panel receives: command byte and time; `controls()` = the control frames 0x80–0x8B (arm, disarm, clear, bypass, outputs), not reads such as 0x8C or 0xEE. */
export function recordFrames(panel: Panel): { frames: { cmd: number; at: number }[]; controls(): number[] } {
  const frames: { cmd: number; at: number }[] = [];
  const handle = panel.handle.bind(panel);
  panel.handle = (req) => { frames.push({ cmd: req.cmd, at: Date.now() }); return handle(req); };
  return { frames, controls: () => frames.filter((f) => f.cmd >= 0x80 && f.cmd <= 0x8b).map((f) => f.cmd) };
}

/** `stam gateway` as a child process; resolves with it and its base URL. */
export async function startGatewayRole(env: Record<string, string>): Promise<{ role: RoleProcess; base: string }> {
  const role = startRole('gateway', env);
  const line = await role.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('gateway listening'));
  return { role, base: `http://127.0.0.1:${String(line.port)}` };
}

export async function startRoles(env: Record<string, string>, driverEnv: Record<string, string> = {}) {
  const processor = startRole('command-processor', env);
  const relay = startRole('outbox-relay', env);
  const driver = startRole('satel-ingest', { ...env, ...driverEnv });
  const gw = await startGatewayRole(env);
  await Promise.all([
    processor.waitForLog(msgIs('command results processor consuming')), relay.waitForLog(msgIs('outbox relay publishing')),
    driver.waitForLog(msgIs('command consumer started')),
  ]);
  return { processor, relay, driver, gateway: gw.role, base: gw.base, all: () => [processor, relay, driver, gw.role] };
}

export interface CommandReply { command_id: string; status: string; queued: boolean; expires_at: string }

export async function sendCommand(base: string, token: string, panelId: number, body: Record<string, unknown>): Promise<{ status: number; body: CommandReply & { code?: string; message?: string } }> {
  return api<CommandReply & { code?: string; message?: string }>(base, `/api/panels/${panelId}/commands`, { body: { reason: 'integration test', ...body }, token });
}

export interface CommandRow { id: string; status: string; result_reason: string | null; panel_result_code: number | null }

export async function commandRow(pool: Pool, id: string): Promise<CommandRow> {
  return (await pool.query<CommandRow>('SELECT id, status, result_reason, panel_result_code FROM commands WHERE id = $1', [id])).rows[0]!;
}

/** Waits until the command is terminal in PostgreSQL and returns its row. */
export async function terminal(pool: Pool, id: string, timeoutMs = 60_000): Promise<CommandRow> {
  await waitUntil(`command ${id} terminal`, async () => (await commandRow(pool, id)).status !== 'PENDING', timeoutMs, 100);
  return commandRow(pool, id);
}

/** The audit trail of one command, oldest first. */
export async function auditTrail(pool: Pool, id: string): Promise<string[]> {
  const { rows } = await pool.query<{ action: string }>(`SELECT action FROM audit_log WHERE target_type = 'command' AND target_id = $1 ORDER BY id`, [id]);
  return rows.map((r) => r.action);
}
