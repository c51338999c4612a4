import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createAuditStore } from './audit-store.ts';
import { Id, Nullable, Timestamp, errors, type RouteDeps } from './http.ts';

const AuditQuery = Type.Object({
  username: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64, description: 'exact action, or a prefix ending in "." (e.g. "alarm.")' })),
  target_type: Type.Optional(Type.String({ maxLength: 32 })),
  target_id: Type.Optional(Type.String({ maxLength: 64 })),
  request_id: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  cursor: Type.Optional(Id({ description: 'next_cursor of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false });

const AuditRow = Type.Object({
  id: Type.Integer(), at: Type.String(), user_id: Nullable(Type.Integer()), username: Nullable(Type.String()), action: Type.String(),
  target_type: Nullable(Type.String()), target_id: Nullable(Type.String()), request_id: Nullable(Type.String()), ip: Nullable(Type.String()),
  details: Type.Unknown(),
});

export function auditRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const audit = createAuditStore(deps.pool);

  app.get<{ Querystring: Static<typeof AuditQuery> }>('/api/audit', {
    config: { permission: 'audit.read' },
    schema: {
      tags: ['audit'], summary: 'Audit log, newest first, with filters and keyset paging', security: [{ bearer: [] }], querystring: AuditQuery,
      response: { 200: Type.Object({ items: Type.Array(AuditRow), next_cursor: Nullable(Type.Integer()) }), ...errors() },
    },
  }, async (req) => {
    const rows = await audit.list(req.query);
    return { items: rows, next_cursor: rows.length === req.query.limit ? rows[rows.length - 1]!.id : null };
  });
}
