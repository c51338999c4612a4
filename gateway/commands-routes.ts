import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  COMMAND_ACTIONS, getCommand, listPanelCommands, paramsProblem, requestCommand, type CommandAction, type CommandApiOptions,
} from '../commands/index.ts';
import { StamError, counter } from '../platform/index.ts';
import { createAuditStore } from './audit-store.ts';
import { IdParams, Nullable, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { createPanelStore } from './panels-store.ts';
import { inScope } from './rbac.ts';

const m = { refused: counter('stam_gateway_commands_refused_total', 'commands refused before reaching RabbitMQ', ['why']) };

const CommandBody = Type.Object({
  action: Type.Union(COMMAND_ACTIONS.map((a) => Type.Literal(a))),
  mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 3, description: 'arm mode 0–3 (arm, force_arm; default 0)' })),
  partitions: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 32 }), { minItems: 1, maxItems: 32, uniqueItems: true })),
  outputs: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 256 }), { minItems: 1, maxItems: 256, uniqueItems: true })),
  reason: Type.String({ minLength: 3, maxLength: 500, description: 'why (audited)' }),
  expires_in_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'never executed later than this (default COMMANDS_TTL_S)' })),
}, { additionalProperties: false });

const CommandOut = Type.Object({
  id: Type.String(), panel_id: Type.Integer(), object_id: Type.Integer(), action: Type.String(), params: Type.Unknown(), reason: Type.String(),
  status: Type.String(), result_reason: Nullable(Type.String()), panel_result_code: Nullable(Type.Integer()),
  requested_by: Nullable(Type.Integer()), requested_by_name: Nullable(Type.String()),
  created_at: Timestamp, expires_at: Timestamp, published_at: Nullable(Timestamp), finished_at: Nullable(Timestamp),
});
const Accepted = Type.Object({
  command_id: Type.String(), status: Type.Literal('PENDING'), expires_at: Timestamp,
  queued: Type.Boolean({ description: 'false: RabbitMQ did not confirm; the outcome still arrives (command.result)' }),
});
const CommandIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  before: Type.Optional(Type.String({ format: 'date-time', description: 'created_at of the last command of the previous page' })),
}, { additionalProperties: false });

/**
 * `POST /api/panels/:id/commands` (arm, force_arm, disarm, clear_alarm, outputs_on, outputs_off) → 202 with
 * the command id; the outcome arrives as `command.result` on the WebSocket and in `GET /api/commands/:id`.
 * Refused before anything reaches RabbitMQ: a role without `panel.command` (the permission hook), OPERATOR
 * unless COMMANDS_OPERATOR_ALLOWED, the FEATURE_ARM_DISARM_ENABLED flag off, a panel outside the user's
 * scope (404, as elsewhere) or disabled. The panel's user code is never sent by or to a client.
 */
export function commandRoutes(app: FastifyInstance, deps: RouteDeps, opts: CommandApiOptions): void {
  const { pool } = deps;
  const panels = createPanelStore({ pool, secrets: deps.secrets });
  const audit = createAuditStore(pool);

  const refuse = async (req: FastifyRequest, panelId: number, why: string, err: StamError): Promise<never> => {
    m.refused.inc({ why });
    await audit.record({ ...actorOf(req), action: 'command.refused', targetType: 'panel', targetId: panelId, details: { why, message: err.message } });
    throw err;
  };
  const panelInScope = async (req: FastifyRequest, panelId: number): Promise<number> => {
    const objectId = await panels.objectIdOf(panelId);
    if (objectId === undefined || !inScope(principalOf(req), objectId)) throw notFound('panel', panelId);
    return objectId;
  };

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CommandBody> }>('/api/panels/:id/commands', {
    config: { permission: 'panel.command' },
    schema: {
      tags: ['commands'], summary: 'Arm, disarm, clear an alarm or switch outputs on a panel (202: outcome follows on the WebSocket)',
      security: [{ bearer: [] }], params: IdParams, body: CommandBody, response: { 202: Accepted, ...errors(404, 409, 503) },
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    const panelId = req.params.id;
    const b = req.body;
    if (!opts.enabled || !opts.publisher) {
      await refuse(req, panelId, 'disabled', new StamError('E_FORBIDDEN', 'remote arm/disarm is disabled (FEATURE_ARM_DISARM_ENABLED)'));
    }
    if (p.role === 'OPERATOR' && !opts.operatorAllowed) {
      await refuse(req, panelId, 'role', new StamError('E_FORBIDDEN', 'role OPERATOR may not send panel commands here (COMMANDS_OPERATOR_ALLOWED)'));
    }
    const objectId = await panels.objectIdOf(panelId);
    if (objectId === undefined || !inScope(p, objectId)) await refuse(req, panelId, objectId === undefined ? 'unknown_panel' : 'scope', notFound('panel', panelId));
    if (!await panels.isEnabled(panelId)) await refuse(req, panelId, 'panel_disabled', new StamError('E_CONFLICT', `panel ${panelId} is disabled`));
    const action: CommandAction = b.action;
    const params = { ...(b.mode === undefined ? {} : { mode: b.mode as 0 | 1 | 2 | 3 }), ...(b.partitions ? { partitions: b.partitions } : {}), ...(b.outputs ? { outputs: b.outputs } : {}) };
    const problem = paramsProblem(action, params);
    if (problem) throw new StamError('E_VALIDATION', problem);
    // A command waits at most as long as the centre allows: a longer expiry could arm a panel long after anyone asked.
    if (b.expires_in_s !== undefined && b.expires_in_s > opts.defaultTtlS) {
      throw new StamError('E_VALIDATION', `expires_in_s ${b.expires_in_s} exceeds COMMANDS_TTL_S (${opts.defaultTtlS} s)`);
    }
    const out = await requestCommand(pool, opts.publisher!, {
      panelId, action, params, reason: b.reason, ttlS: b.expires_in_s ?? opts.defaultTtlS, requester: { id: p.id, username: p.username }, requestId: req.id, ip: req.ip,
    });
    if (out.kind === 'not-sent') throw new StamError('E_UNAVAILABLE', `command ${out.command.command_id} failed: ${out.reason}`, { details: { command_id: out.command.command_id } });
    return reply.status(202).send({
      command_id: out.command.command_id, status: 'PENDING', expires_at: new Date(out.command.expires_at).toISOString(), queued: out.kind === 'queued',
    });
  });

  app.get<{ Params: Static<typeof CommandIdParams> }>('/api/commands/:id', {
    config: { permission: 'object.read' },
    schema: {
      tags: ['commands'], summary: 'One command with its status and result', security: [{ bearer: [] }], params: CommandIdParams,
      response: { 200: CommandOut, ...errors(404) },
    },
  }, async (req) => {
    const c = await getCommand(pool, req.params.id);
    if (!c || !inScope(principalOf(req), c.object_id)) throw notFound('command', req.params.id);
    return c;
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ListQuery> }>('/api/panels/:id/commands', {
    config: { permission: 'object.read' },
    schema: {
      tags: ['commands'], summary: 'A panel\'s commands, newest first', security: [{ bearer: [] }], params: IdParams, querystring: ListQuery,
      response: { 200: Type.Object({ items: Type.Array(CommandOut) }), ...errors(404) },
    },
  }, async (req) => {
    await panelInScope(req, req.params.id);
    return { items: await listPanelCommands(pool, req.params.id, req.query.limit, req.query.before) };
  });
}
