import { NOTIFY_OUTBOX_SQL, auditInsertSelect, writeAudit, type Pool, type PoolClient } from '../platform/index.ts';
import type { CommandResult } from '../schemas/index.ts';
import { isCommandId } from './contract.ts';

/**
 * - `recorded`: the command was PENDING and now holds this terminal state; an outbox row carries it to
 *   operators (`command.result` on the WebSocket) and the audit log has the step;
 * - `duplicate`: already terminal with the same status (a repeated report) — nothing changes;
 * - `conflict`: already terminal with another status — nothing changes, the ignored report is audited;
 * - `unknown`: no such command.
 */
export type RecordOutcome = 'recorded' | 'duplicate' | 'conflict' | 'unknown';

const AUDIT_RESULT = auditInsertSelect({
  username: `'system:' || $7`, action: `'command.' || lower($2)`, targetType: `'command'`, targetId: 'id::text',
  details: `jsonb_build_object('panel_id', panel_id, 'requested_by', requested_by, 'reason', $3::text, 'panel_result_code', $4::int)`,
}, 'upd');

/**
 * Writes the one terminal state of a command: first result wins. Run it in the caller's transaction (the
 * processor commits its Kafka offsets in the same one). `origin` names who decided (audit).
 */
export async function recordCommandResult(db: Pool | PoolClient, r: CommandResult, origin: string): Promise<RecordOutcome> {
  if (!isCommandId(r.command_id)) return 'unknown';
  const { rows } = await db.query<{ outcome: RecordOutcome; status: string | null }>(
    `WITH upd AS (
       UPDATE commands SET status = $2, result_reason = $3, panel_result_code = $4, finished_at = to_timestamp($5 / 1000.0)
        WHERE id = $1 AND status = 'PENDING' RETURNING id, panel_id, requested_by),
     box AS (INSERT INTO outbox (kind, key, payload) SELECT 'command.result', id::text, $6::jsonb FROM upd),
     aud AS (${AUDIT_RESULT})
     SELECT 'recorded' AS outcome, NULL AS status FROM upd
     UNION ALL
     SELECT CASE WHEN status = $2 THEN 'duplicate' ELSE 'conflict' END, status FROM commands WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM upd)`,
    [r.command_id, r.status, r.reason, r.panel_result_code, r.finished_at, JSON.stringify(r), origin],
  );
  const outcome = rows[0]?.outcome ?? 'unknown';
  if (outcome === 'recorded') await db.query(NOTIFY_OUTBOX_SQL);
  if (outcome === 'conflict') {
    await writeAudit(db, {
      username: `system:${origin}`, action: 'command.result_ignored', targetType: 'command', targetId: r.command_id,
      details: { reported: r.status, reason: r.reason, recorded: rows[0]?.status },
    });
  }
  return outcome;
}
