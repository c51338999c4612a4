import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ALARM_STATUSES, SEVERITIES, type AlarmAction } from '../domain/index.ts';
import { CURSOR_PATTERN, alarmDetail, listAlarms, transition } from './alarm-store.ts';
import { Id, IdParams, Nullable, Version, Timestamp, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import type { Permission } from './rbac.ts';

const Status = Type.Union(ALARM_STATUSES.map((s) => Type.Literal(s)));
const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));

const AlarmsQuery = Type.Object({
  status: Type.Optional(Type.Array(Status, { maxItems: 5, uniqueItems: true, description: 'default: the open statuses NEW, CLAIMED, ACKNOWLEDGED' })),
  severity: Type.Optional(Type.Array(Severity, { maxItems: 3, uniqueItems: true })),
  object_id: Type.Optional(Id()),
  panel_id: Type.Optional(Id()),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'with from/to the list is ordered by first event time (else by arrival, newest first)' })),
  include_test: Type.Boolean({ default: false, description: 'test alarms (objects in test mode) are hidden unless asked for' }),
  mine: Type.Boolean({ default: false, description: 'only alarms I own' }),
  cursor: Type.Optional(Type.String({ pattern: CURSOR_PATTERN, maxLength: 40, description: 'next_cursor of the previous page (same filters)' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
}, { additionalProperties: false });

const Alarm = Type.Object({
  id: Type.Integer(), version: Type.Integer(), object_id: Type.Integer(), object_code: Type.String(), object_name: Type.String(),
  panel_id: Nullable(Type.Integer()), source: Type.String(), zone: Nullable(Type.Integer()), zone_name: Nullable(Type.String()),
  category: Type.String(), severity: Type.String(), status: Type.String(), owner: Nullable(Type.String()), claimed_at: Nullable(Timestamp),
  event_count: Type.Integer(), restore_count: Type.Integer(), first_event_at: Timestamp, last_event_at: Timestamp,
  test: Type.Boolean(), service: Type.Boolean(), flood: Type.Boolean(), title: Type.String(), resolution_code: Nullable(Type.String()),
});

const AlarmDetail = Type.Composite([Alarm, Type.Object({
  object: Type.Unknown(), panel: Type.Unknown(),
  events: Type.Array(Type.Unknown(), { description: 'newest first, at most 500' }),
  actions: Type.Array(Type.Object({
    id: Type.Integer(), action: Type.String(), from_status: Nullable(Type.String()), to_status: Type.String(), version: Type.Integer(),
    note: Nullable(Type.String()), created_at: Timestamp, username: Nullable(Type.String()),
  })),
})]);

const Note = Type.String({ maxLength: 2000 });
const ActionBody = Type.Object({
  version: Version({ description: 'the version the operator saw; another version is a 409' }),
  note: Type.Optional(Note),
}, { additionalProperties: false });
const ResolveBody = Type.Object({
  version: Version(), note: Type.Optional(Note),
  resolution_code: Type.String({ pattern: '^[A-Z][A-Z0-9_]{1,31}$', maxLength: 32, description: 'e.g. FALSE_ALARM, REAL_ALARM, TECHNICAL, TEST' }),
}, { additionalProperties: false });

const ACTIONS: { action: AlarmAction; permission: Permission; summary: string }[] = [
  { action: 'claim', permission: 'alarm.handle', summary: 'Claim a NEW alarm (one operator wins; the others get 409 with the owner)' },
  { action: 'release', permission: 'alarm.handle', summary: 'Give a claimed alarm back to the queue (owner, or a supervisor)' },
  { action: 'ack', permission: 'alarm.handle', summary: 'Acknowledge a claimed alarm (owner)' },
  { action: 'resolve', permission: 'alarm.handle', summary: 'Resolve an acknowledged alarm with a resolution code (owner)' },
  { action: 'close', permission: 'alarm.handle', summary: 'Close a resolved alarm (owner, or a supervisor)' },
  { action: 'takeover', permission: 'alarm.takeover', summary: "Take over another operator's claimed or acknowledged alarm (supervisor)" },
];

export function alarmRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { pool } = deps;

  app.get<{ Querystring: Static<typeof AlarmsQuery> }>('/api/alarms', {
    config: { permission: 'alarm.read' },
    schema: {
      tags: ['alarms'], summary: 'Alarms, newest first: filters and keyset pagination', security: [{ bearer: [] }], querystring: AlarmsQuery,
      response: { 200: Type.Object({ items: Type.Array(Alarm), next_cursor: Nullable(Type.String()) }), ...errors() },
    },
  }, async (req, reply) => reply.type('application/json; charset=utf-8').send(await listAlarms(pool, principalOf(req), req.query)));

  app.get<{ Params: Static<typeof IdParams> }>('/api/alarms/:id', {
    config: { permission: 'alarm.read' },
    schema: { tags: ['alarms'], summary: 'One alarm with its object, events and actions', security: [{ bearer: [] }], params: IdParams, response: { 200: AlarmDetail, ...errors(404) } },
  }, async (req) => {
    const detail = await alarmDetail(pool, principalOf(req), req.params.id);
    if (!detail) throw notFound('alarm', req.params.id);
    return detail;
  });

  for (const { action, permission, summary } of ACTIONS) {
    const body = action === 'resolve' ? ResolveBody : ActionBody;
    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ResolveBody> }>(`/api/alarms/:id/${action}`, {
      config: { permission },
      schema: {
        tags: ['alarms'], summary, security: [{ bearer: [] }], params: IdParams, body,
        response: { 200: Type.Object({ alarm: Type.Unknown() }), ...errors(404, 409) },
      },
    }, async (req) => {
      const alarm = await transition(pool, principalOf(req), req.params.id, {
        action, version: req.body.version, note: req.body.note, resolutionCode: req.body.resolution_code, requestId: req.id, ip: req.ip,
      });
      return { alarm };
    });
  }
}
