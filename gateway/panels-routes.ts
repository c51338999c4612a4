import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Id, IdParams, Nullable, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { createLiveState } from './live-state.ts';
import { createPanelStore } from './panels-store.ts';
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
  object_id: Id(), name: PanelFields.name, host: PanelFields.host, port: PanelFields.port,
  model: Type.Optional(PanelFields.model), enabled: Type.Optional(PanelFields.enabled),
  integration_key: Type.Optional(PanelFields.integration_key), user_code: Type.Optional(PanelFields.user_code),
  zones: Type.Optional(PanelFields.zones), partitions: Type.Optional(PanelFields.partitions), outputs: Type.Optional(PanelFields.outputs),
}, { additionalProperties: false });
const PanelUpdate = Type.Partial(Type.Object(PanelFields), { additionalProperties: false, minProperties: 1 });

const NamedOut = Type.Array(Type.Object({ number: Type.Integer(), name: Type.String() }));
const PanelOut = Type.Object({
  id: Type.Integer(), object_id: Type.Integer(), name: Type.String(), host: Type.String(), port: Type.Integer(), model: Type.String(), enabled: Type.Boolean(),
  has_integration_key: Type.Boolean(), has_user_code: Type.Boolean(), created_at: Timestamp, updated_at: Timestamp,
  zones: NamedOut, partitions: NamedOut, outputs: NamedOut,
  warnings: Type.Array(Type.String(), { description: 'what works but is not safe, e.g. a user code that would cross the network in clear' }),
});

/** A panel as the API shows it, with what its configuration puts at risk. */
function withWarnings<P extends { has_integration_key: boolean; has_user_code: boolean }>(p: P): P & { warnings: string[] } {
  const warnings = p.has_user_code && !p.has_integration_key
    ? ['no integration key: arm/disarm commands send the user code to this panel in clear; set the ETHM-1 Plus integration key']
    : [];
  return { ...p, warnings };
}
const StateOut = Type.Object({
  panel_id: Type.Integer(), state: Type.Unknown(), link: Nullable(Type.String()), last_seen: Nullable(Timestamp),
  stale: Type.Boolean({ description: 'true: the last state stored in PostgreSQL, not the live cache' }), source: Type.String(),
});

export function panelRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { pool, settings: s } = deps;
  const panels = createPanelStore({ pool, secrets: deps.secrets });
  const live = createLiveState({ redis: deps.liveRedis ?? deps.redis, pool, log: deps.log, failures: s.breakerFailures, openMs: s.breakerOpenMs, timeoutMs: s.panelStateTimeoutMs });
  const panelInScope = async (req: Parameters<typeof principalOf>[0], id: number) => {
    const objectId = await panels.objectIdOf(id);
    if (objectId === undefined || !inScope(principalOf(req), objectId)) throw notFound('panel', id);
  };

  app.get<{ Querystring: { object_id?: number } }>('/api/panels', {
    config: { permission: 'object.read' },
    schema: {
      tags: ['panels'], summary: 'Panels with zone, partition and output names (never their secrets)', security: [{ bearer: [] }],
      querystring: Type.Object({ object_id: Type.Optional(Id()) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(PanelOut) }), ...errors() },
    },
  }, async (req) => ({ items: (await panels.list({ objectId: req.query.object_id, scope: scopeParam(principalOf(req)) })).map(withWarnings) }));

  app.get<{ Params: Static<typeof IdParams> }>('/api/panels/:id', {
    config: { permission: 'object.read' },
    schema: { tags: ['panels'], summary: 'One panel', security: [{ bearer: [] }], params: IdParams, response: { 200: PanelOut, ...errors(404) } },
  }, async (req) => {
    await panelInScope(req, req.params.id);
    return withWarnings((await panels.get(req.params.id))!);
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
    const id = await panels.create(req.body, actorOf(req));
    return res.status(201).send(withWarnings((await panels.get(id))!));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PanelUpdate> }>('/api/panels/:id', {
    config: { permission: 'object.write' },
    schema: { tags: ['panels'], summary: 'Change a panel; zone/partition/output lists replace the stored ones', security: [{ bearer: [] }], params: IdParams, body: PanelUpdate, response: { 200: PanelOut, ...errors(404, 409) } },
  }, async (req) => {
    const found = await panels.update(req.params.id, req.body, actorOf(req));
    if (!found) throw notFound('panel', req.params.id);
    return withWarnings((await panels.get(req.params.id))!);
  });
}

