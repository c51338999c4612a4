import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { encryptSecret, inTransaction, type PoolClient } from '../platform/index.ts';
import { audit } from './audit.ts';
import { objectIdOf, updateColumns } from './crud.ts';
import { IdParams, Nullable, Timestamp, errors, mapDbError, notFound, principalOf, type RouteDeps } from './http.ts';
import { createLiveState } from './live-state.ts';
import { inScope, scopeParam } from './rbac.ts';

const Named = (max: number) => Type.Array(Type.Object({ number: Type.Integer({ minimum: 1, maximum: max }), name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }), { maxItems: max });
const Secret = (what: string) => Nullable(Type.String({ minLength: 1, maxLength: 64, description: `${what}; stored encrypted, never returned; null clears it` }));

const PanelFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  model: Type.String({ minLength: 1, maxLength: 32 }),
  enabled: Type.Boolean(),
  integration_key: Secret('ETHM-1 integration key'),
  user_code: Secret('panel user code for arm/disarm'),
  zones: Named(256), partitions: Named(32), outputs: Named(256),
};
const PanelCreate = Type.Object({
  object_id: Type.Integer({ minimum: 1 }), name: PanelFields.name, host: PanelFields.host, port: PanelFields.port,
  model: Type.Optional(PanelFields.model), enabled: Type.Optional(PanelFields.enabled),
  integration_key: Type.Optional(PanelFields.integration_key), user_code: Type.Optional(PanelFields.user_code),
  zones: Type.Optional(PanelFields.zones), partitions: Type.Optional(PanelFields.partitions), outputs: Type.Optional(PanelFields.outputs),
}, { additionalProperties: false });
const PanelUpdate = Type.Partial(Type.Object(PanelFields), { additionalProperties: false, minProperties: 1 });
const PLAIN_COLUMNS = ['name', 'host', 'port', 'model', 'enabled'] as const;
const NAME_TABLES = ['zones', 'partitions', 'outputs'] as const;

const NamedOut = Type.Array(Type.Object({ number: Type.Integer(), name: Type.String() }));
const PanelOut = Type.Object({
  id: Type.Integer(), object_id: Type.Integer(), name: Type.String(), host: Type.String(), port: Type.Integer(), model: Type.String(), enabled: Type.Boolean(),
  has_integration_key: Type.Boolean(), has_user_code: Type.Boolean(), created_at: Timestamp, updated_at: Timestamp,
  zones: NamedOut, partitions: NamedOut, outputs: NamedOut,
});
const SELECT_PANEL = `SELECT p.id, p.object_id, p.name, p.host, p.port, p.model, p.enabled, p.created_at, p.updated_at,
  p.integration_key_enc IS NOT NULL AS has_integration_key, p.user_code_enc IS NOT NULL AS has_user_code,
  COALESCE((SELECT json_agg(json_build_object('number', number, 'name', name) ORDER BY number) FROM zones WHERE panel_id = p.id), '[]') AS zones,
  COALESCE((SELECT json_agg(json_build_object('number', number, 'name', name) ORDER BY number) FROM partitions WHERE panel_id = p.id), '[]') AS partitions,
  COALESCE((SELECT json_agg(json_build_object('number', number, 'name', name) ORDER BY number) FROM outputs WHERE panel_id = p.id), '[]') AS outputs
  FROM panels p`;

const StateOut = Type.Object({
  panel_id: Type.Integer(), state: Type.Unknown(), link: Nullable(Type.String()), last_seen: Nullable(Timestamp),
  stale: Type.Boolean({ description: 'true: the last state stored in PostgreSQL, not the live cache' }), source: Type.String(),
});

async function replaceNames(db: PoolClient, panelId: number, body: Partial<Record<(typeof NAME_TABLES)[number], { number: number; name: string }[]>>): Promise<string[]> {
  const changed: string[] = [];
  for (const t of NAME_TABLES) {
    const list = body[t];
    if (list === undefined) continue;
    changed.push(t);
    await db.query(`DELETE FROM ${t} WHERE panel_id = $1`, [panelId]);
    await db.query(`INSERT INTO ${t} (panel_id, number, name) SELECT $1, n, name FROM unnest($2::int[], $3::text[]) AS x(n, name)`,
      [panelId, list.map((z) => z.number), list.map((z) => z.name)]);
  }
  return changed;
}

export function panelRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { pool, settings: s } = deps;
  const seal = (plain: string): Buffer => (deps.secrets ? deps.secrets.encrypt(plain) : encryptSecret(plain));
  const sealOrClear = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : seal(v));
  const live = createLiveState({ redis: deps.liveRedis ?? deps.redis, pool, log: deps.log, failures: s.breakerFailures, openMs: s.breakerOpenMs, timeoutMs: s.panelStateTimeoutMs });
  const getPanel = async (id: number) => (await pool.query<Static<typeof PanelOut>>(`${SELECT_PANEL} WHERE p.id = $1`, [id])).rows[0];
  const panelInScope = async (req: Parameters<typeof principalOf>[0], id: number) => {
    const objectId = await objectIdOf(pool, 'panels', id);
    if (objectId === undefined || !inScope(principalOf(req), objectId)) throw notFound('panel', id);
  };

  app.get<{ Querystring: { object_id?: number } }>('/api/panels', {
    config: { permission: 'object.read' },
    schema: {
      tags: ['panels'], summary: 'Panels with zone, partition and output names (never their secrets)', security: [{ bearer: [] }],
      querystring: Type.Object({ object_id: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(PanelOut) }), ...errors() },
    },
  }, async (req) => {
    const { rows } = await pool.query(`${SELECT_PANEL} WHERE ($1::bigint IS NULL OR p.object_id = $1) AND ($2::bigint[] IS NULL OR p.object_id = ANY($2)) ORDER BY p.id`,
      [req.query.object_id ?? null, scopeParam(principalOf(req))]);
    return { items: rows };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/panels/:id', {
    config: { permission: 'object.read' },
    schema: { tags: ['panels'], summary: 'One panel', security: [{ bearer: [] }], params: IdParams, response: { 200: PanelOut, ...errors(404) } },
  }, async (req) => {
    await panelInScope(req, req.params.id);
    return getPanel(req.params.id);
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/panels/:id/state', {
    config: { permission: 'object.read' },
    schema: {
      tags: ['panels'], summary: 'Live state from Redis; while Redis fails, the last state stored in PostgreSQL with stale: true',
      security: [{ bearer: [] }], params: IdParams, response: { 200: StateOut, ...errors(404, 503) },
    },
  }, async (req) => {
    await panelInScope(req, req.params.id);
    return live.get(req.params.id);
  });

  app.post<{ Body: Static<typeof PanelCreate> }>('/api/panels', {
    config: { permission: 'object.write' },
    schema: { tags: ['panels'], summary: 'Add a panel to a site', security: [{ bearer: [] }], body: PanelCreate, response: { 201: PanelOut, ...errors(409) } },
  }, async (req, res) => {
    const b = req.body;
    const id = await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO panels (object_id, name, host, port, model, enabled, integration_key_enc, user_code_enc) VALUES ($1, $2, $3, $4, COALESCE($5, 'integra128'), COALESCE($6, true), $7, $8) RETURNING id`,
        [b.object_id, b.name, b.host, b.port, b.model ?? null, b.enabled ?? null, sealOrClear(b.integration_key) ?? null, sealOrClear(b.user_code) ?? null],
      ).catch((err) => { throw mapDbError(err); });
      const panelId = rows[0]!.id;
      const names = await replaceNames(db, panelId, b);
      await audit(db, req, { action: 'panel.create', targetType: 'panel', targetId: panelId, details: { object_id: b.object_id, names, secrets: secretsTouched(b) } });
      return panelId;
    });
    return res.status(201).send(await getPanel(id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PanelUpdate> }>('/api/panels/:id', {
    config: { permission: 'object.write' },
    schema: { tags: ['panels'], summary: 'Change a panel; zone/partition/output lists replace the stored ones', security: [{ bearer: [] }], params: IdParams, body: PanelUpdate, response: { 200: PanelOut, ...errors(404, 409) } },
  }, async (req) => {
    const b = req.body;
    await inTransaction(pool, async (db) => {
      const values = { ...b, integration_key_enc: sealOrClear(b.integration_key), user_code_enc: sealOrClear(b.user_code) };
      const { found, changed } = await updateColumns(db, 'panels', req.params.id, values, [...PLAIN_COLUMNS, 'integration_key_enc', 'user_code_enc'])
        .catch((err) => { throw mapDbError(err); });
      if (!found) throw notFound('panel', req.params.id);
      const names = await replaceNames(db, req.params.id, b).catch((err) => { throw mapDbError(err); });
      await audit(db, req, { action: 'panel.update', targetType: 'panel', targetId: req.params.id, details: { changed: [...changed.filter((c) => !c.endsWith('_enc')), ...names], secrets: secretsTouched(b) } });
    });
    return getPanel(req.params.id);
  });
}

/** Which secrets a request set or cleared, for the audit log (never their values). */
function secretsTouched(b: { integration_key?: string | null; user_code?: string | null }): string[] {
  return (['integration_key', 'user_code'] as const).filter((k) => b[k] !== undefined).map((k) => `${k}:${b[k] === null ? 'cleared' : 'set'}`);
}
