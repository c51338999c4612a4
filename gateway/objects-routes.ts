import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StamError } from '../platform/index.ts';
import { Id, IdParams, Nullable, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { MODES, createObjectStore, type ModeName } from './objects-store.ts';
import { inScope, scopeParam } from './rbac.ts';

const ObjectFields = {
  code: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9._-]+$' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  address: Type.String({ maxLength: 500 }),
  latitude: Nullable(Type.Number({ minimum: -90, maximum: 90 })),
  longitude: Nullable(Type.Number({ minimum: -180, maximum: 180 })),
  contacts: Type.String({ maxLength: 4000, description: 'who to call, one contact a line (name, phone, role)' }),
  notes: Type.String({ maxLength: 4000, description: 'standing notes for operators: keys, access, dogs …' }),
};
const ObjectCreate = Type.Object({
  code: ObjectFields.code, name: ObjectFields.name, address: Type.Optional(ObjectFields.address),
  latitude: Type.Optional(ObjectFields.latitude), longitude: Type.Optional(ObjectFields.longitude),
  contacts: Type.Optional(ObjectFields.contacts), notes: Type.Optional(ObjectFields.notes),
}, { additionalProperties: false });
const ObjectUpdate = Type.Partial(Type.Object(ObjectFields), { additionalProperties: false, minProperties: 1 });

const Mode = Type.Object({
  active: Type.Boolean(), until: Nullable(Timestamp), since: Nullable(Timestamp), by: Nullable(Type.String()), reason: Nullable(Type.String()),
});
const ObjectOut = Type.Object({
  id: Type.Integer(), code: Type.String(), name: Type.String(), address: Type.String(), latitude: Nullable(Type.Number()), longitude: Nullable(Type.Number()), contacts: Type.String(), notes: Type.String(),
  service_mode: Mode, test_mode: Mode, created_at: Timestamp, updated_at: Timestamp,
});
const ModeBody = Type.Object({
  active: Type.Boolean(),
  until: Type.Optional(Timestamp),
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
}, { additionalProperties: false, description: 'switching on needs `until` (at most 7 days ahead) and a reason; the mode ends by itself then' });
const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 100, description: 'code or name contains' })),
  cursor: Type.Optional(Id({ minimum: 0, description: 'next_cursor of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false });

const MAX_MODE_MS = 7 * 86_400_000;

export function objectRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const objects = createObjectStore(deps.pool);
  const visibleObject = async (req: FastifyRequest, id: number) => {
    if (!inScope(principalOf(req), id)) throw notFound('object', id);
    const o = await objects.get(id);
    if (!o) throw notFound('object', id);
    return o;
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/objects', {
    config: { permission: 'object.read' },
    schema: { tags: ['objects'], summary: 'Protected sites (scoped roles: only their own)', security: [{ bearer: [] }], querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(ObjectOut), next_cursor: Nullable(Type.Integer()) }), ...errors() } },
  }, async (req) => {
    const { q, cursor, limit } = req.query;
    const rows = await objects.list({ scope: scopeParam(principalOf(req)), q, cursor, limit });
    return { items: rows, next_cursor: rows.length === limit ? rows[rows.length - 1]!.id : null };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/objects/:id', {
    config: { permission: 'object.read' },
    schema: { tags: ['objects'], summary: 'One site with its mode settings', security: [{ bearer: [] }], params: IdParams, response: { 200: ObjectOut, ...errors(404) } },
  }, (req) => visibleObject(req, req.params.id));

  app.post<{ Body: Static<typeof ObjectCreate> }>('/api/objects', {
    config: { permission: 'object.write' },
    schema: { tags: ['objects'], summary: 'Create a site', security: [{ bearer: [] }], body: ObjectCreate, response: { 201: ObjectOut, ...errors(409) } },
  }, async (req, res) => {
    const id = await objects.create(req.body, actorOf(req));
    return res.status(201).send(await objects.get(id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof ObjectUpdate> }>('/api/objects/:id', {
    config: { permission: 'object.write' },
    schema: { tags: ['objects'], summary: 'Change a site', security: [{ bearer: [] }], params: IdParams, body: ObjectUpdate, response: { 200: ObjectOut, ...errors(404, 409) } },
  }, async (req) => {
    const found = await objects.update(req.params.id, req.body, actorOf(req));
    if (!found) throw notFound('object', req.params.id);
    return objects.get(req.params.id);
  });

  for (const path of Object.keys(MODES) as ModeName[]) {
    app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof ModeBody> }>(`/api/objects/:id/${path}`, {
      config: { permission: 'object.mode' },
      schema: {
        tags: ['objects'], summary: `Switch ${path.replace('-', ' ')} on (until a time, with a reason) or off; audited`,
        security: [{ bearer: [] }], params: IdParams, body: ModeBody, response: { 200: ObjectOut, ...errors(404) },
      },
    }, async (req) => {
      const { active, until, reason } = req.body;
      await visibleObject(req, req.params.id);
      if (active) {
        const t = until ? Date.parse(until) : NaN;
        if (!reason) throw new StamError('E_VALIDATION', `switching ${path} on needs a reason`);
        if (!(t > Date.now()) || t - Date.now() > MAX_MODE_MS) throw new StamError('E_VALIDATION', `switching ${path} on needs "until" in the future, at most 7 days ahead`);
      }
      await objects.setMode(req.params.id, path, { active, until: until ?? null, reason: reason ?? null }, actorOf(req));
      return objects.get(req.params.id);
    });
  }
}
