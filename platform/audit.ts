import type { Pool, PoolClient } from './db.ts';

/**
 * The audit trail (`audit_log`): who did what to which record, from which request. This module is the
 * one place that knows the table's columns. A row is written with `writeAudit` (in the caller's
 * transaction when it passes one); where the row belongs to a larger statement, for one round trip,
 * `auditInsertSelect` gives the `INSERT … SELECT` to put in it.
 */
export interface AuditRecord {
  /** `object.create`, `auth.login_failed`, `command.executed` … */
  action: string;
  userId?: number | null;
  /** The user's name, or who acted without an account: `cli`, `system`, `system:<driver>`. */
  username?: string | null;
  targetType?: string | null;
  targetId?: string | number | null;
  requestId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Who acted and from where: the part of a row that comes from the request (or the process), not the action. */
export type AuditActor = Pick<AuditRecord, 'userId' | 'username' | 'requestId' | 'ip'>;

type Field = keyof AuditRecord;

/** Column of each field, and what an `INSERT … SELECT` writes when the caller gives no expression. */
const COLUMNS: readonly { field: Field; column: string; absent: string }[] = [
  { field: 'userId', column: 'user_id', absent: 'NULL::bigint' },
  { field: 'username', column: 'username', absent: 'NULL::text' },
  { field: 'action', column: 'action', absent: 'NULL::text' },
  { field: 'targetType', column: 'target_type', absent: 'NULL::text' },
  { field: 'targetId', column: 'target_id', absent: 'NULL::text' },
  { field: 'requestId', column: 'request_id', absent: 'NULL::text' },
  { field: 'ip', column: 'ip', absent: 'NULL::text' },
  { field: 'details', column: 'details', absent: `'{}'::jsonb` },
];

const INTO = `INSERT INTO audit_log (${COLUMNS.map((c) => c.column).join(', ')})`;
const INSERT = `${INTO} VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;

/** Writes one audit row; pass the transaction's client to have it commit (or roll back) with the change it records. */
export async function writeAudit(db: Pool | PoolClient, r: AuditRecord): Promise<void> {
  await db.query(INSERT, [
    r.userId ?? null, r.username ?? null, r.action, r.targetType ?? null, r.targetId === undefined || r.targetId === null ? null : String(r.targetId),
    r.requestId ?? null, r.ip ?? null, r.details ?? {},
  ]);
}

/** SQL expressions (statement text written by the caller, never input) for the fields of an audit row. */
export type AuditSelect = { action: string } & { [F in Exclude<Field, 'action'>]?: string };

/**
 * `INSERT INTO audit_log (…) SELECT <expressions> FROM <from>`: one audit row per row of `from` (a CTE of
 * the same statement), for statements that record a change and its audit row in one round trip.
 * Fields without an expression are NULL (details: `{}`). `target_id` is text: cast ids (`id::text`).
 */
export function auditInsertSelect(select: AuditSelect, from: string): string {
  return `${INTO}\n       SELECT ${COLUMNS.map((c) => select[c.field] ?? c.absent).join(', ')} FROM ${from}`;
}
