import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { writeAudit, type Pool, type PoolClient } from '../platform/index.ts';
import { Nullable, Timestamp, errors, type RouteDeps } from './http.ts';

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string | number;
  details?: Record<string, unknown>;
  /** Defaults to the request's principal. */
  userId?: number | null;
  username?: string | null;
}

/** One audit row, carrying the request id and address; run it in the caller's transaction when there is one. */
export async function audit(db: Pool | PoolClient, req: FastifyRequest | undefined, e: AuditEntry): Promise<void> {
  await writeAudit(db, {
    userId: e.userId !== undefined ? e.userId : req?.principal?.id ?? null, username: e.username !== undefined ? e.username : req?.principal?.username ?? null,
    action: e.action, targetType: e.targetType ?? null, targetId: e.targetId ?? null, requestId: req?.id ?? null, ip: req?.ip ?? null, details: e.details ?? {},
  });
}

const AuditQuery = Type.Object({
  username: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64, description: 'exact action, or a prefix ending in "." (e.g. "alarm.")' })),
  target_type: Type.Optional(Type.String({ maxLength: 32 })),
  target_id: Type.Optional(Type.String({ maxLength: 64 })),
  request_id: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  cursor: Type.Optional(Type.Integer({ minimum: 1, description: 'next_cursor of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false });

const AuditRow = Type.Object({
  id: Type.Integer(), at: Type.String(), user_id: Nullable(Type.Integer()), username: Nullable(Type.String()), action: Type.String(),
  target_type: Nullable(Type.String()), target_id: Nullable(Type.String()), request_id: Nullable(Type.String()), ip: Nullable(Type.String()),
  details: Type.Unknown(),
});

export function auditRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: Static<typeof AuditQuery> }>('/api/audit', {
    config: { permission: 'audit.read' },
    schema: {
      tags: ['audit'], summary: 'Audit log, newest first, with filters and keyset paging', security: [{ bearer: [] }], querystring: AuditQuery,
      response: { 200: Type.Object({ items: Type.Array(AuditRow), next_cursor: Nullable(Type.Integer()) }), ...errors() },
    },
  }, async (req) => {
    const q = req.query;
    const prefix = q.action?.endsWith('.') ? `${q.action.replace(/[%_\\]/g, '\\$&')}%` : null;
    const { rows } = await deps.pool.query<Static<typeof AuditRow>>(
      `SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, user_id, username, action, target_type, target_id, request_id, ip, details
         FROM audit_log
        WHERE ($1::text IS NULL OR username = $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR action LIKE $3)
          AND ($4::text IS NULL OR target_type = $4) AND ($5::text IS NULL OR target_id = $5) AND ($6::text IS NULL OR request_id = $6)
          AND ($7::timestamptz IS NULL OR at >= $7) AND ($8::timestamptz IS NULL OR at < $8) AND ($9::bigint IS NULL OR id < $9)
        ORDER BY id DESC LIMIT $10`,
      [q.username ?? null, prefix ? null : q.action ?? null, prefix, q.target_type ?? null, q.target_id ?? null, q.request_id ?? null,
        q.from ?? null, q.to ?? null, q.cursor ?? null, q.limit],
    );
    return { items: rows, next_cursor: rows.length === q.limit ? rows[rows.length - 1]!.id : null };
  });
}
