import { Type, type Static, type TObject } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createAuditStore } from './audit-store.ts';
import { createDeviceStore, type DeviceTable } from './devices-store.ts';
import { Id, IdParams, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { StamError, counter } from '../platform/index.ts';
import { takeFromWindow } from './rate-limit.ts';
import { inScope, scopeParam } from './rbac.ts';
import { revealCountKey } from './redis-keys.ts';

const m = { refused: counter('stam_gateway_secret_reveals_refused_total', 'recorder password reveals refused for exceeding SECRET_REVEALS_PER_HOUR') };

const ByObject = Type.Object({ object_id: Type.Optional(Id()) }, { additionalProperties: false });

const SensorFields = {
  object_id: Id(),
  vendor: Type.Union([Type.Literal('efento'), Type.Literal('blulog'), Type.Literal('other')]),
  sender: Type.String({ minLength: 1, maxLength: 32, description: 'phone number or alphanumeric sender of its SMS' }),
  sensor_ref: Type.String({ minLength: 1, maxLength: 64, description: 'the vendor id/serial as it appears in the SMS' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  template: Type.Optional(Type.Union([Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', maxLength: 64 }), Type.Null()], { description: 'config/sms-templates.yaml template its SMS are tried with first' })),
  aliases: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20, uniqueItems: true, description: 'other names its SMS or Efento Cloud use for it' })),
};
const SensorCreate = Type.Object(SensorFields, { additionalProperties: false });
const SensorUpdate = Type.Partial(Type.Object(SensorFields), { additionalProperties: false, minProperties: 1 });
const SensorOut = Type.Object({
  id: Type.Integer(), object_id: Type.Integer(), vendor: Type.String(), sender: Type.String(), sensor_ref: Type.String(), name: Type.String(),
  template: Type.Union([Type.String(), Type.Null()]), aliases: Type.Array(Type.String()),
});

const RecorderFields = {
  object_id: Id(),
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
  recorder_id: Type.Integer(), host: Type.String(), port: Type.Integer(), login: Type.String(),
  password: Type.String({ description: 'the password stored for the recorder — not a one-time code: it works on the recorder until changed there' }),
  stored: Type.Literal(true, { description: 'always true: what is returned is the stored password itself' }),
  expires_at: Timestamp,
}, { description: '`expires_at` is when the console hides the password again, not when it stops working' });

/** list / read / create / update routes of one table of per-object devices, scoped. */
function deviceCrud<R, C extends { object_id: number }, U>(app: FastifyInstance, d: {
  path: 'sensors' | 'recorders'; tag: string; noun: string; out: TObject; create: TObject; update: TObject; store: DeviceTable<R, C, U>;
}): void {
  const { store } = d;
  const one = async (req: FastifyRequest, id: number) => {
    const objectId = await store.objectIdOf(id);
    if (objectId === undefined || !inScope(principalOf(req), objectId)) throw notFound(d.noun, id);
    return store.get(id);
  };
  const path = `/api/${d.path}`;

  app.get<{ Querystring: Static<typeof ByObject> }>(path, {
    config: { permission: 'object.read' },
    schema: { tags: [d.tag], summary: `${d.noun}s (optionally of one object)`, security: [{ bearer: [] }], querystring: ByObject, response: { 200: Type.Object({ items: Type.Array(d.out) }), ...errors() } },
  }, async (req) => ({ items: await store.list({ objectId: req.query.object_id, scope: scopeParam(principalOf(req)) }) }));

  app.get<{ Params: Static<typeof IdParams> }>(`${path}/:id`, {
    config: { permission: 'object.read' },
    schema: { tags: [d.tag], summary: `One ${d.noun}`, security: [{ bearer: [] }], params: IdParams, response: { 200: d.out, ...errors(404) } },
  }, (req) => one(req, req.params.id));

  app.post<{ Body: C }>(path, {
    config: { permission: 'object.write' },
    schema: { tags: [d.tag], summary: `Add a ${d.noun}`, security: [{ bearer: [] }], body: d.create, response: { 201: d.out, ...errors(409) } },
  }, async (req, res) => {
    const id = await store.create(req.body as C, actorOf(req));
    return res.status(201).send(await one(req, id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: U }>(`${path}/:id`, {
    config: { permission: 'object.write' },
    schema: { tags: [d.tag], summary: `Change a ${d.noun}`, security: [{ bearer: [] }], params: IdParams, body: d.update, response: { 200: d.out, ...errors(404, 409) } },
  }, async (req) => {
    if (!await store.update(req.params.id, req.body as U, actorOf(req))) throw notFound(d.noun, req.params.id);
    return one(req, req.params.id);
  });
}

export function deviceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { settings: s } = deps;
  const devices = createDeviceStore({ pool: deps.pool, secrets: deps.secrets });
  const audit = createAuditStore(deps.pool);

  deviceCrud(app, { path: 'sensors', tag: 'sensors', noun: 'sensor', out: SensorOut, create: SensorCreate, update: SensorUpdate, store: devices.sensors });
  deviceCrud(app, { path: 'recorders', tag: 'recorders', noun: 'recorder', out: RecorderOut, create: RecorderCreate, update: RecorderUpdate, store: devices.recorders });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RevealBody> }>('/api/recorders/:id/reveal', {
    config: { permission: 'secret.reveal' },
    schema: {
      tags: ['recorders'], summary: 'The stored recorder login and password, for a stated reason; audited, not cacheable, shown until expires_at, SECRET_REVEALS_PER_HOUR per user',
      security: [{ bearer: [] }], params: IdParams, body: RevealBody, response: { 200: RevealOut, ...errors(404, 429) },
    },
  }, async (req, res) => {
    const r = await devices.recorderCredentials(req.params.id);
    if (!r || !inScope(principalOf(req), r.object_id)) throw notFound('recorder', req.params.id);
    const { allowed, count } = await takeFromWindow(deps.redis, (w) => revealCountKey(principalOf(req).id, w), 3600, s.revealsPerHour);
    if (!allowed) {
      m.refused.inc();
      // The first refusal of the hour is audited; the rest are counted in the metric only.
      if (count === s.revealsPerHour + 1) await audit.record({ ...actorOf(req), action: 'secret.reveal.refused', targetType: 'recorder', targetId: r.id, details: { why: 'rate', per_hour: s.revealsPerHour } });
      throw new StamError('E_RATE_LIMITED', `at most ${s.revealsPerHour} recorder passwords per hour`);
    }
    const password = r.openPassword();
    const expiresAt = new Date(Date.now() + s.revealTtlS * 1000);
    await audit.record({ ...actorOf(req), action: 'secret.reveal', targetType: 'recorder', targetId: r.id, details: { reason: req.body.reason, object_id: r.object_id, expires_at: expiresAt.toISOString() } });
    void res.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return { recorder_id: r.id, host: r.host, port: r.port, login: r.login, password, stored: true as const, expires_at: expiresAt.toISOString() };
  });
}
