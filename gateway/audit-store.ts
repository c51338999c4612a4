import { writeAudit, type AuditRecord, type Pool } from '../platform/index.ts';

export interface AuditFilter {
  username?: string | undefined;
  /** An exact action, or a prefix ending in "." (`alarm.`). */
  action?: string | undefined;
  target_type?: string | undefined; target_id?: string | undefined; request_id?: string | undefined;
  from?: string | undefined; to?: string | undefined;
  /** Rows with a smaller id (the last id of the previous page). */
  cursor?: number | undefined;
  limit: number;
}

export interface AuditEntry {
  id: number; at: string; user_id: number | null; username: string | null; action: string;
  target_type: string | null; target_id: string | null; request_id: string | null; ip: string | null; details: unknown;
}

/** The audit trail as the gateway reads it, and its rows written outside a store's transaction. */
export function createAuditStore(pool: Pool) {
  return {
    /** One row on its own (a refused login, a revealed password …); changes write theirs in their own transaction. */
    record(r: AuditRecord): Promise<void> {
      return writeAudit(pool, r);
    },

    /** Newest first, keyset-paged by id. */
    async list(f: AuditFilter): Promise<AuditEntry[]> {
      const prefix = f.action?.endsWith('.') ? `${f.action.replace(/[%_\\]/g, '\\$&')}%` : null;
      const { rows } = await pool.query<AuditEntry>(
        `SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, user_id, username, action, target_type, target_id, request_id, ip, details
           FROM audit_log
          WHERE ($1::text IS NULL OR username = $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR action LIKE $3)
            AND ($4::text IS NULL OR target_type = $4) AND ($5::text IS NULL OR target_id = $5) AND ($6::text IS NULL OR request_id = $6)
            AND ($7::timestamptz IS NULL OR at >= $7) AND ($8::timestamptz IS NULL OR at < $8) AND ($9::bigint IS NULL OR id < $9)
          ORDER BY id DESC LIMIT $10`,
        [f.username ?? null, prefix ? null : f.action ?? null, prefix, f.target_type ?? null, f.target_id ?? null, f.request_id ?? null,
          f.from ?? null, f.to ?? null, f.cursor ?? null, f.limit],
      );
      return rows;
    },
  };
}

export type AuditStore = ReturnType<typeof createAuditStore>;
