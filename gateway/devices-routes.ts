import { Type, type Static, type TObject } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decryptSecret, encryptSecret, inTransaction } from '../platform/index.ts';
import { audit } from './audit.ts';
import { objectIdOf, updateColumns } from './crud.ts';
import { IdParams, Timestamp, errors, mapDbError, notFound, principalOf, type RouteDeps } from './http.ts';
import { inScope, scopeParam } from './rbac.ts';

const ByObject = Type.Object({ object_id: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false });

const SensorFields = {
  object_id: Type.Integer({ minimum: 1 }),
  vendor: Type.Union([Type.Literal('efento'), Type.Literal('blulog'), Type.Literal('other')]),
  sender: Type.String({ minLength: 1, maxLength: 32, description: 'phone number or alphanumeric sender of its SMS' }),
  sensor_ref: Type.String({ minLength: 1, maxLength: 64, description: 'the vendor id/serial as it appears in the SMS' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
};
const SensorCreate = Type.Object(SensorFields, { additionalProperties: false });
const SensorUpdate = Type.Partial(Type.Object(SensorFields), { additionalProperties: false, minProperties: 1 });
const SensorOut = Type.Object({ id: Type.Integer(), object_id: Type.Integer(), vendor: Type.String(), sender: Type.String(), sensor_ref: Type.String(), name: Type.String() });

const RecorderFields = {
  object_id: Type.Integer({ minimum: 1 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  login: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 128, description: 'stored encrypted; only POST /api/recorders/:id/reveal returns it' }),
};
const RecorderCreate = Type.Object(RecorderFields, { additionalProperties: false });
const RecorderUpdate = Type.Partial(Type.Object(RecorderFields), { additionalProperties: false, minProperties: 1 });
const RecorderOut = Type.Object({ id: Type.Integer(), object_id: Type.Integer(), name: Type.String(), host: Type.String(), port: Type.Integer(), login: Type.String() });
const RevealBody = Type.Object({ reason: Type.String({ minLength: 5, maxLength: 500, description: 'why the password is needed (audited)' }) }, { additionalProperties: false });
const RevealOut = Type.Object({
  recorder_id: Type.Integer(), host: Type.String(), port: Type.Integer(), login: Type.String(), password: Type.String(),
  expires_at: Timestamp,
});

/** list / read / create / update of one table of per-object devices, scoped, audited. */
function deviceCrud<C extends TObject, U extends TObject>(app: FastifyInstance, deps: RouteDeps, d: {
  table: 'sensors' | 'recorders'; tag: string; noun: string; select: string; out: TObject; create: C; update: U;
  insert: (b: Static<C>) => { columns: string[]; values: unknown[] };
  columns: readonly string[]; toColumns?: (b: Static<U>) => Record<string, unknown>;
}): void {
  const { pool } = deps;
  const one = async (req: FastifyRequest, id: number) => {
    const objectId = await objectIdOf(pool, d.table, id);
    if (objectId === undefined || !inScope(principalOf(req), objectId)) throw notFound(d.noun, id);
    return (await pool.query(`SELECT ${d.select} FROM ${d.table} WHERE id = $1`, [id])).rows[0] as unknown;
  };
  const path = `/api/${d.table}`;

  app.get<{ Querystring: Static<typeof ByObject> }>(path, {
    config: { permission: 'object.read' },
    schema: { tags: [d.tag], summary: `${d.noun}s (optionally of one object)`, security: [{ bearer: [] }], querystring: ByObject, response: { 200: Type.Object({ items: Type.Array(d.out) }), ...errors() } },
  }, async (req) => {
    const { rows } = await pool.query(`SELECT ${d.select} FROM ${d.table} WHERE ($1::bigint IS NULL OR object_id = $1) AND ($2::bigint[] IS NULL OR object_id = ANY($2)) ORDER BY id`,
      [req.query.object_id ?? null, scopeParam(principalOf(req))]);
    return { items: rows };
  });

  app.get<{ Params: Static<typeof IdParams> }>(`${path}/:id`, {
    config: { permission: 'object.read' },
    schema: { tags: [d.tag], summary: `One ${d.noun}`, security: [{ bearer: [] }], params: IdParams, response: { 200: d.out, ...errors(404) } },
  }, (req) => one(req, req.params.id));

  app.post<{ Body: Static<C> }>(path, {
    config: { permission: 'object.write' },
    schema: { tags: [d.tag], summary: `Add a ${d.noun}`, security: [{ bearer: [] }], body: d.create, response: { 201: d.out, ...errors(409) } },
  }, async (req, res) => {
    const { columns, values } = d.insert(req.body as Static<C>);
    const id = await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO ${d.table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`, values,
      ).catch((err) => { throw mapDbError(err); });
      await audit(db, req, { action: `${d.noun}.create`, targetType: d.noun, targetId: rows[0]!.id, details: { object_id: (req.body as { object_id: number }).object_id } });
      return rows[0]!.id;
    });
    return res.status(201).send(await one(req, id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<U> }>(`${path}/:id`, {
    config: { permission: 'object.write' },
    schema: { tags: [d.tag], summary: `Change a ${d.noun}`, security: [{ bearer: [] }], params: IdParams, body: d.update, response: { 200: d.out, ...errors(404, 409) } },
  }, async (req) => {
    await inTransaction(pool, async (db) => {
      const values = d.toColumns ? d.toColumns(req.body as Static<U>) : req.body as Record<string, unknown>;
      const { found, changed } = await updateColumns(db, d.table, req.params.id, values, d.columns, false).catch((err) => { throw mapDbError(err); });
      if (!found) throw notFound(d.noun, req.params.id);
      await audit(db, req, { action: `${d.noun}.update`, targetType: d.noun, targetId: req.params.id, details: { changed: changed.map((c) => c.replace(/_enc$/, '')) } });
    });
    return one(req, req.params.id);
  });
}

export function deviceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { pool, settings: s } = deps;
  const seal = (plain: string): Buffer => (deps.secrets ? deps.secrets.encrypt(plain) : encryptSecret(plain));
  const open = (sealed: Buffer): string => (deps.secrets ? deps.secrets.decrypt(sealed) : decryptSecret(sealed));

  deviceCrud(app, deps, {
    table: 'sensors', tag: 'sensors', noun: 'sensor', select: 'id, object_id, vendor, sender, sensor_ref, name', out: SensorOut,
    create: SensorCreate, update: SensorUpdate, columns: ['object_id', 'vendor', 'sender', 'sensor_ref', 'name'],
    insert: (b) => ({ columns: ['object_id', 'vendor', 'sender', 'sensor_ref', 'name'], values: [b.object_id, b.vendor, b.sender, b.sensor_ref, b.name] }),
  });

  deviceCrud(app, deps, {
    table: 'recorders', tag: 'recorders', noun: 'recorder', select: 'id, object_id, name, host, port, login', out: RecorderOut,
    create: RecorderCreate, update: RecorderUpdate, columns: ['object_id', 'name', 'host', 'port', 'login', 'password_enc'],
    insert: (b) => ({ columns: ['object_id', 'name', 'host', 'port', 'login', 'password_enc'], values: [b.object_id, b.name, b.host, b.port, b.login, seal(b.password)] }),
    toColumns: (b) => ({ ...b, password: undefined, password_enc: b.password === undefined ? undefined : seal(b.password) }),
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RevealBody> }>('/api/recorders/:id/reveal', {
    config: { permission: 'secret.reveal' },
    schema: {
      tags: ['recorders'], summary: 'The recorder login and password, for a stated reason; audited, not cacheable, valid for a short time',
      security: [{ bearer: [] }], params: IdParams, body: RevealBody, response: { 200: RevealOut, ...errors(404) },
    },
  }, async (req, res) => {
    const p = principalOf(req);
    const { rows } = await pool.query<{ id: number; object_id: number; host: string; port: number; login: string; password_enc: Buffer }>(
      'SELECT id, object_id, host, port, login, password_enc FROM recorders WHERE id = $1', [req.params.id]);
    const r = rows[0];
    if (!r || !inScope(p, r.object_id)) throw notFound('recorder', req.params.id);
    const password = open(r.password_enc);
    const expiresAt = new Date(Date.now() + s.revealTtlS * 1000);
    await audit(pool, req, { action: 'secret.reveal', targetType: 'recorder', targetId: r.id, details: { reason: req.body.reason, object_id: r.object_id, expires_at: expiresAt.toISOString() } });
    void res.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return { recorder_id: r.id, host: r.host, port: r.port, login: r.login, password, expires_at: expiresAt.toISOString() };
  });
}
