import { randomUUID } from 'node:crypto';
import { inTransaction, writeAudit, type Pool, type PoolClient } from '../platform/index.ts';
import { commandResult, normalizeParams, type CommandAction, type CommandMessage, type CommandParams } from './contract.ts';
import { createCommandLedger } from './ledger.ts';
import type { CommandPublisher } from './publisher.ts';
import { recordCommandResult } from './store.ts';

/** What the gateway's command routes need (built by the gateway role from the configuration). */
export interface CommandApiOptions {
  /** FEATURE_ARM_DISARM_ENABLED: when false every command is refused (listing old ones still works). */
  enabled: boolean;
  /** COMMANDS_OPERATOR_ALLOWED: OPERATOR may command too (SUPERVISOR and ADMIN always may). */
  operatorAllowed: boolean;
  /** COMMANDS_TTL_S: a command's lifetime unless the request asks for less. */
  defaultTtlS: number;
  /** Present when enabled. */
  publisher?: CommandPublisher;
}

export interface CommandView {
  id: string; panel_id: number; object_id: number; action: CommandAction; params: CommandParams; reason: string;
  status: 'PENDING' | 'SUCCEEDED' | 'REJECTED' | 'FAILED' | 'EXPIRED'; result_reason: string | null; panel_result_code: number | null;
  requested_by: number | null; requested_by_name: string | null;
  created_at: string; expires_at: string; published_at: string | null; finished_at: string | null;
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const SELECT_COMMAND = `SELECT c.id, c.panel_id, p.object_id, c.action, c.params, c.reason, c.status, c.result_reason, c.panel_result_code,
  c.requested_by, u.username AS requested_by_name, ${iso('c.created_at')} AS created_at, ${iso('c.expires_at')} AS expires_at,
  ${iso('c.published_at')} AS published_at, ${iso('c.finished_at')} AS finished_at
  FROM commands c JOIN panels p ON p.id = c.panel_id LEFT JOIN users u ON u.id = c.requested_by`;

export async function getCommand(pool: Pool, id: string): Promise<CommandView | undefined> {
  return (await pool.query<CommandView>(`${SELECT_COMMAND} WHERE c.id = $1`, [id])).rows[0];
}

/** A panel's commands, newest first; `before` = the created_at of the last one seen (keyset paging). */
export async function listPanelCommands(pool: Pool, panelId: number, limit: number, before?: string): Promise<CommandView[]> {
  return (await pool.query<CommandView>(
    `${SELECT_COMMAND} WHERE c.panel_id = $1 AND ($2::timestamptz IS NULL OR c.created_at < $2) ORDER BY c.created_at DESC, c.id LIMIT $3`,
    [panelId, before ?? null, limit],
  )).rows;
}

export interface CommandRequest {
  panelId: number;
  action: CommandAction;
  params: CommandParams;
  reason: string;
  ttlS: number;
  requester: { id: number; username: string };
  requestId?: string | undefined;
  ip?: string | undefined;
}

export type CommandRequestOutcome =
  | { kind: 'queued'; command: CommandMessage }
  /** A copy may have reached RabbitMQ without a confirm: still PENDING, its driver or the sweeper will answer. */
  | { kind: 'unconfirmed'; command: CommandMessage; reason: string }
  /** Nothing left this process: failed at once (recorded, audited, sent to the operator like any result). */
  | { kind: 'not-sent'; command: CommandMessage; reason: string };

/**
 * The publishing side: the `commands` row (PENDING) and its audit row are committed first, then the
 * message is published with confirms. Whatever happens after the commit, the command ends in one terminal
 * state: a confirmed one is answered by its driver or the dead-letter consumer, an unconfirmed one by
 * whichever copy arrives or by the sweeper, and one that never left is failed here.
 */
export async function requestCommand(pool: Pool, publisher: CommandPublisher, r: CommandRequest): Promise<CommandRequestOutcome> {
  const now = Date.now();
  const command: CommandMessage = {
    v: 1, command_id: randomUUID(), panel_id: r.panelId, action: r.action, params: normalizeParams(r.action, r.params), requested_by: r.requester,
    created_at: now, expires_at: now + r.ttlS * 1000, trace: null,
  };
  const audit = (action: string, details: Record<string, unknown>, db: Pool | PoolClient = pool) => writeAudit(db, {
    userId: r.requester.id, username: r.requester.username, action, targetType: 'command', targetId: command.command_id,
    requestId: r.requestId ?? null, ip: r.ip ?? null, details,
  });
  await inTransaction(pool, async (db) => {
    await db.query(
      `INSERT INTO commands (id, panel_id, action, params, requested_by, reason, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), to_timestamp($8 / 1000.0))`,
      [command.command_id, command.panel_id, command.action, command.params, r.requester.id, r.reason, command.created_at, command.expires_at],
    );
    await audit('command.requested', {
      panel_id: r.panelId, action: r.action, params: command.params, reason: r.reason, expires_at: new Date(command.expires_at).toISOString(),
    }, db);
  });
  const out = await publisher.publish(command);
  if (out.confirmed) {
    await pool.query('UPDATE commands SET published_at = now() WHERE id = $1', [command.command_id]);
    await audit('command.published', { attempts: out.attempts });
    return { kind: 'queued', command };
  }
  if (out.written) {
    await audit('command.publish_unconfirmed', { error: out.reason });
    return { kind: 'unconfirmed', command, reason: out.reason };
  }
  const reason = `not sent: the command broker is unavailable (${out.reason})`;
  const winner = await createCommandLedger(pool).settle(commandResult(command, 'FAILED', reason), 'gateway');
  if (winner) await recordCommandResult(pool, winner, 'gateway');
  return { kind: 'not-sent', command, reason };
}
