import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StamError, inTransaction, type Logger, type Pool } from '../platform/index.ts';
import { audit } from './audit.ts';
import { updateColumns } from './crud.ts';
import { IdParams, Nullable, Timestamp, errors, mapDbError, notFound, principalOf, type RouteDeps } from './http.ts';
import { inScope, scopeParam } from './rbac.ts';

const ObjectFields = {
  code: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9._-]+$' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  address: Type.String({ maxLength: 500 }),
  latitude: Nullable(Type.Number({ minimum: -90, maximum: 90 })),
  longitude: Nullable(Type.Number({ minimum: -180, maximum: 180 })),
};
const ObjectCreate = Type.Object({
  code: ObjectFields.code, name: ObjectFields.name, address: Type.Optional(ObjectFields.address),
  latitude: Type.Optional(ObjectFields.latitude), longitude: Type.Optional(ObjectFields.longitude),
}, { additionalProperties: false });
const ObjectUpdate = Type.Partial(Type.Object(ObjectFields), { additionalProperties: false, minProperties: 1 });
const OBJECT_COLUMNS = ['code', 'name', 'address', 'latitude', 'longitude'] as const;

const Mode = Type.Object({
  active: Type.Boolean(), until: Nullable(Timestamp), since: Nullable(Timestamp), by: Nullable(Type.String()), reason: Nullable(Type.String()),
});
const ObjectOut = Type.Object({
  id: Type.Integer(), code: Type.String(), name: Type.String(), address: Type.String(), latitude: Nullable(Type.Number()), longitude: Nullable(Type.Number()),
  service_mode: Mode, test_mode: Mode, created_at: Timestamp, updated_at: Timestamp,
});
const ModeBody = Type.Object({
  active: Type.Boolean(),
  until: Type.Optional(Timestamp),
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
}, { additionalProperties: false, description: 'switching on needs `until` (at most 7 days ahead) and a reason; the mode ends by itself then' });
const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 100, description: 'code or name contains' })),
  cursor: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false });

const SELECT_OBJECT = `SELECT o.id, o.code, o.name, o.address, o.latitude, o.longitude, o.created_at, o.updated_at,
  json_build_object('active', o.service_mode_active, 'until', o.service_mode_until, 'since', o.service_mode_at, 'by', su.username, 'reason', o.service_mode_reason) AS service_mode,
  json_build_object('active', o.test_mode, 'until', o.test_mode_until, 'since', o.test_mode_at, 'by', tu.username, 'reason', o.test_mode_reason) AS test_mode
  FROM objects o LEFT JOIN users su ON su.id = o.service_mode_by LEFT JOIN users tu ON tu.id = o.test_mode_by`;

const MAX_MODE_MS = 7 * 86_400_000;
const MODES = {
  'service-mode': { active: 'service_mode_active', until: 'service_mode_until', by: 'service_mode_by', at: 'service_mode_at', reason: 'service_mode_reason', audit: 'object.service_mode' },
  'test-mode': { active: 'test_mode', until: 'test_mode_until', by: 'test_mode_by', at: 'test_mode_at', reason: 'test_mode_reason', audit: 'object.test_mode' },
} as const;

/** Switches off modes whose time is up (any gateway instance may run it; each expiry is audited once). */
export async function sweepExpiredModes(pool: Pool, log: Logger): Promise<number> {
  let n = 0;
  for (const mode of Object.values(MODES)) {
    const { rows } = await pool.query<{ id: number; until: Date }>(
      `UPDATE objects SET ${mode.active} = false, updated_at = now() WHERE ${mode.active} AND ${mode.until} <= now() RETURNING id, ${mode.until} AS until`);
    for (const r of rows) {
      await audit(pool, undefined, { action: `${mode.audit}.expired`, userId: null, username: 'system', targetType: 'object', targetId: r.id, details: { until: r.until.toISOString() } });
      log.info({ object: r.id, mode: mode.audit }, 'mode expired');
    }
    n += rows.length;
  }
  return n;
}

export function objectRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { pool } = deps;
  const getObject = async (id: number) => (await pool.query<Static<typeof ObjectOut>>(`${SELECT_OBJECT} WHERE o.id = $1`, [id])).rows[0];
  const visibleObject = async (req: FastifyRequest, id: number) => {
    if (!inScope(principalOf(req), id)) throw notFound('object', id);
    const o = await getObject(id);
    if (!o) throw notFound('object', id);
    return o;
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/objects', {
    config: { permission: 'object.read' },
    schema: { tags: ['objects'], summary: 'Protected sites (scoped roles: only their own)', security: [{ bearer: [] }], querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(ObjectOut), next_cursor: Nullable(Type.Integer()) }), ...errors() } },
  }, async (req) => {
    const { q, cursor, limit } = req.query;
    const like = q ? `%${q.replace(/[%_\\]/g, '\\$&')}%` : null;
    const { rows } = await pool.query<{ id: number }>(
      `${SELECT_OBJECT} WHERE ($1::bigint[] IS NULL OR o.id = ANY($1)) AND ($2::text IS NULL OR o.code ILIKE $2 OR o.name ILIKE $2) AND o.id > $3 ORDER BY o.id LIMIT $4`,
      [scopeParam(principalOf(req)), like, cursor ?? 0, limit]);
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
    const b = req.body;
    const id = await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number }>('INSERT INTO objects (code, name, address, latitude, longitude) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [b.code, b.name, b.address ?? '', b.latitude ?? null, b.longitude ?? null]).catch((err) => { throw mapDbError(err); });
      await audit(db, req, { action: 'object.create', targetType: 'object', targetId: rows[0]!.id, details: { code: b.code, name: b.name } });
      return rows[0]!.id;
    });
    return res.status(201).send(await getObject(id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof ObjectUpdate> }>('/api/objects/:id', {
    config: { permission: 'object.write' },
    schema: { tags: ['objects'], summary: 'Change a site', security: [{ bearer: [] }], params: IdParams, body: ObjectUpdate, response: { 200: ObjectOut, ...errors(404, 409) } },
  }, async (req) => {
    await inTransaction(pool, async (db) => {
      const { found, changed } = await updateColumns(db, 'objects', req.params.id, req.body, OBJECT_COLUMNS).catch((err) => { throw mapDbError(err); });
      if (!found) throw notFound('object', req.params.id);
      await audit(db, req, { action: 'object.update', targetType: 'object', targetId: req.params.id, details: { changed } });
    });
    return getObject(req.params.id);
  });

  for (const [path, mode] of Object.entries(MODES)) {
    app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof ModeBody> }>(`/api/objects/:id/${path}`, {
      config: { permission: 'object.mode' },
      schema: {
        tags: ['objects'], summary: `Switch ${path.replace('-', ' ')} on (until a time, with a reason) or off; audited`,
        security: [{ bearer: [] }], params: IdParams, body: ModeBody, response: { 200: ObjectOut, ...errors(404) },
      },
    }, async (req) => {
      const p = principalOf(req);
      const { active, until, reason } = req.body;
      await visibleObject(req, req.params.id);
      if (active) {
        const t = until ? Date.parse(until) : NaN;
        if (!reason) throw new StamError('E_VALIDATION', `switching ${path} on needs a reason`);
        if (!(t > Date.now()) || t - Date.now() > MAX_MODE_MS) throw new StamError('E_VALIDATION', `switching ${path} on needs "until" in the future, at most 7 days ahead`);
      }
      await inTransaction(pool, async (db) => {
        await db.query(
          `UPDATE objects SET ${mode.active} = $2, ${mode.until} = $3, ${mode.by} = $4, ${mode.at} = now(), ${mode.reason} = $5, updated_at = now() WHERE id = $1`,
          [req.params.id, active, active ? until : null, p.id, reason ?? null]);
        await audit(db, req, { action: `${mode.audit}_${active ? 'on' : 'off'}`, targetType: 'object', targetId: req.params.id, details: { until: active ? until : null, reason: reason ?? null } });
      });
      return getObject(req.params.id);
    });
  }
}
