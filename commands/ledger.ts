import { auditInsertSelect, type Pool, type PoolClient } from '../platform/index.ts';
import type { CommandResult } from '../schemas/index.ts';
import { isCommandId, normalizeParams, type CommandAction, type CommandMessage, type CommandParams } from './contract.ts';

/** A command as PostgreSQL knows it: what a driver executes (never the message's copy of it). */
export type CommandRecord = Omit<CommandMessage, 'v' | 'trace'> & { trace: null };

/**
 * What a claim found (see migrations/005_commands.sql):
 * - `claimed`: this caller owns the execution now and must settle it;
 * - `answered`: executed (or decided) before — answer with this result, send nothing;
 * - `interrupted`: claimed before but never settled — settle it by read-back, never repeat it;
 * - `expired`: still pending but past its expiry — settle as EXPIRED;
 * - `closed`: already terminal without an execution (nothing to answer);
 * - `unknown`: no such command for that panel (forged or foreign message).
 */
export type ClaimOutcome =
  | { kind: 'claimed'; record: CommandRecord }
  | { kind: 'answered'; result: CommandResult }
  | { kind: 'interrupted'; record: CommandRecord; driverId: string; startedAt: number }
  | { kind: 'expired'; record: CommandRecord }
  | { kind: 'closed'; status: string }
  | { kind: 'unknown' };

interface Row {
  id: string; panel_id: number; action: CommandAction; params: CommandParams; status: string; requested_by: number | null; username: string | null;
  created_ms: number; expires_ms: number; due: boolean; claimed: boolean; driver_id: string | null; started_ms: number | null; result: CommandResult | null;
}

const toRecord = (r: Row): CommandRecord => ({
  command_id: r.id, panel_id: r.panel_id, action: r.action, params: normalizeParams(r.action, r.params),
  requested_by: { id: r.requested_by ?? 0, username: r.username ?? '' }, created_at: r.created_ms, expires_at: r.expires_ms, trace: null,
});

/** The record a message claims to be, as far as the message says (for answers about commands PostgreSQL does not know). */
export const recordOf = (m: CommandMessage): CommandRecord => ({ ...m, trace: null });

export interface CommandLedger {
  /**
   * Claims the execution for `driverId`: only a PENDING command of that panel that has not expired (by the
   * database clock, and by the caller's clock when `expiredHere`), and only if nobody claimed it before.
   * Writes the audit row of the claim in the same statement.
   */
  claim(a: { commandId: string; panelId: number; driverId: string; fencing: number; expiredHere: boolean }): Promise<ClaimOutcome>;
  /**
   * Records `result` unless a result is already recorded, and returns the one that is (first wins): every
   * path that answers a command answers with what this returns. Unknown command → undefined.
   */
  settle(result: CommandResult, actor: string, db?: Pool | PoolClient): Promise<CommandResult | undefined>;
  read(commandId: string): Promise<{ driverId: string; startedAt: number; result: CommandResult | null } | undefined>;
  /**
   * Gives back a claim that provably never reached the panel (the driver lost the panel before the command's
   * turn came), so the new holder may claim it. Only the claimer's own claim without a result.
   */
  release(commandId: string, driverId: string): Promise<boolean>;
}

// The audit row of each step, written by the statement that takes the step.
const AUDIT_CLAIM = auditInsertSelect({
  username: `'system:' || $3`, action: `'command.executing'`, targetType: `'command'`, targetId: 'command_id::text',
  details: `jsonb_build_object('driver', $3::text, 'fencing', $4::bigint)`,
}, 'ins');
const AUDIT_SETTLE = auditInsertSelect({
  username: `'system:' || $2`, action: `'command.executed'`, targetType: `'command'`, targetId: '$1::text',
  details: `jsonb_build_object('status', $4::text, 'reason', $5::text, 'panel_result_code', $6::int)`,
}, 's');
const AUDIT_RELEASE = auditInsertSelect({
  username: `'system:' || $2`, action: `'command.released'`, targetType: `'command'`, targetId: 'command_id::text',
  details: `'{"why":"panel lost before the command was sent"}'::jsonb`,
}, 'd');

export function createCommandLedger(pool: Pool): CommandLedger {
  async function read(commandId: string) {
    if (!isCommandId(commandId)) return undefined;
    const { rows } = await pool.query<{ driver_id: string; started_ms: number; result: CommandResult | null }>(
      'SELECT driver_id, (extract(epoch FROM started_at) * 1000)::float8 AS started_ms, result FROM command_executions WHERE command_id = $1', [commandId]);
    const r = rows[0];
    return r ? { driverId: r.driver_id, startedAt: r.started_ms, result: r.result } : undefined;
  }

  return {
    async claim({ commandId, panelId, driverId, fencing, expiredHere }) {
      if (!isCommandId(commandId)) return { kind: 'unknown' };
      const { rows } = await pool.query<Row>(
        `WITH c AS (
           SELECT c.id, c.panel_id, c.action, c.params, c.status, c.requested_by, u.username,
                  (extract(epoch FROM c.created_at) * 1000)::float8 AS created_ms, (extract(epoch FROM c.expires_at) * 1000)::float8 AS expires_ms,
                  (c.expires_at <= now() OR $5::boolean) AS due
             FROM commands c LEFT JOIN users u ON u.id = c.requested_by WHERE c.id = $1 AND c.panel_id = $2),
         ins AS (
           INSERT INTO command_executions (command_id, driver_id, fencing)
           SELECT id, $3, $4 FROM c WHERE status = 'PENDING' AND NOT due
           ON CONFLICT (command_id) DO NOTHING RETURNING command_id),
         aud AS (${AUDIT_CLAIM})
         SELECT c.*, EXISTS (SELECT 1 FROM ins) AS claimed, e.driver_id, (extract(epoch FROM e.started_at) * 1000)::float8 AS started_ms, e.result
           FROM c LEFT JOIN command_executions e ON e.command_id = c.id`,
        [commandId, panelId, driverId, fencing, expiredHere],
      );
      const r = rows[0];
      if (!r) return { kind: 'unknown' };
      if (r.claimed) return { kind: 'claimed', record: toRecord(r) };
      let e = r.driver_id === null ? undefined : { driverId: r.driver_id, startedAt: r.started_ms ?? 0, result: r.result };
      // A claim that committed after this statement's snapshot blocked our insert but is not in the join: read it now.
      if (!e && r.status === 'PENDING' && !r.due) e = await read(commandId);
      if (e?.result) return { kind: 'answered', result: e.result };
      if (e) return { kind: 'interrupted', record: toRecord(r), driverId: e.driverId, startedAt: e.startedAt };
      if (r.status !== 'PENDING') return { kind: 'closed', status: r.status };
      if (!r.due) throw new Error(`claim of command ${commandId} raced with another and found nothing; retry`);
      return { kind: 'expired', record: toRecord(r) };
    },

    async settle(result, actor, db = pool) {
      if (!isCommandId(result.command_id)) return undefined;
      try {
        const { rows } = await db.query<{ result: CommandResult; won: boolean }>(
          `WITH s AS (
             INSERT INTO command_executions AS e (command_id, driver_id, finished_at, result) VALUES ($1, $2, now(), $3)
             ON CONFLICT (command_id) DO UPDATE SET finished_at = now(), result = EXCLUDED.result WHERE e.result IS NULL
             RETURNING result),
           aud AS (${AUDIT_SETTLE})
           SELECT result, true AS won FROM s
           UNION ALL SELECT result, false FROM command_executions WHERE command_id = $1 AND NOT EXISTS (SELECT 1 FROM s)`,
          [result.command_id, actor, JSON.stringify(result), result.status, result.reason, result.panel_result_code],
        );
        // Lost to a settle that committed after this statement's snapshot: read the winner now.
        return rows[0]?.result ?? (await read(result.command_id))?.result ?? undefined;
      } catch (err) {
        if ((err as { code?: string }).code === '23503') return undefined; // no such command
        throw err;
      }
    },

    read,

    async release(commandId, driverId) {
      const { rowCount } = await pool.query(
        `WITH d AS (DELETE FROM command_executions WHERE command_id = $1 AND driver_id = $2 AND result IS NULL RETURNING command_id)
         ${AUDIT_RELEASE}`,
        [commandId, driverId],
      );
      return (rowCount ?? 0) > 0;
    },
  };
}
