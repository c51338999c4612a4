import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { IdParams, Nullable, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { can } from './rbac.ts';
import { createUserDeviceStore } from './user-devices-store.ts';

const RegisterBody = Type.Object({
  token: Type.String({ minLength: 16, maxLength: 4096, pattern: '^[A-Za-z0-9_:.\\-]+$', description: 'the FCM registration token the app got from Firebase' }),
  platform: Type.Union([Type.Literal('android'), Type.Literal('ios'), Type.Literal('web')]),
  app_version: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9._+-]+$' }),
}, { additionalProperties: false });

const DeviceOut = Type.Object({
  id: Type.Integer(), user_id: Type.Integer(), username: Type.String(), platform: Type.String(), app_version: Type.String(),
  token_hint: Type.String({ description: 'the last characters of the token; the token itself is never returned' }),
  created_at: Timestamp, last_seen_at: Timestamp, quarantined: Type.Boolean(), quarantine_reason: Nullable(Type.String()),
});

/**
 * Phones of field staff for push notifications (FCM registration tokens, `user_devices`). A user
 * registers, lists and removes their own; ADMIN sees and removes everybody's. Sensors and recorders
 * (field hardware) are gateway/devices-routes.ts.
 */
export function userDeviceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const devices = createUserDeviceStore(deps.pool);

  app.post<{ Body: Static<typeof RegisterBody> }>('/api/devices', {
    config: { permission: 'device.own' },
    schema: {
      tags: ['devices'], summary: 'Register (or refresh) this phone for push notifications; a token registered by someone else moves to you',
      security: [{ bearer: [] }], body: RegisterBody, response: { 200: DeviceOut, 201: DeviceOut, ...errors() },
    },
  }, async (req, res) => {
    const { device, created } = await devices.register(principalOf(req).id, req.body, actorOf(req));
    return res.status(created ? 201 : 200).send(device);
  });

  app.get('/api/devices', {
    config: { permission: 'device.own' },
    schema: { tags: ['devices'], summary: 'My registered phones (ADMIN: everybody\'s)', security: [{ bearer: [] }], response: { 200: Type.Object({ items: Type.Array(DeviceOut) }), ...errors() } },
  }, async (req) => {
    const p = principalOf(req);
    return { items: await devices.list(can(p.role, 'device.all') ? null : p.id) };
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/devices/:id', {
    config: { permission: 'device.own' },
    schema: { tags: ['devices'], summary: 'Remove a phone: it gets no more pushes (ADMIN: anyone\'s)', security: [{ bearer: [] }], params: IdParams, response: { 204: Type.Null(), ...errors(404) } },
  }, async (req, res) => {
    const p = principalOf(req);
    if (!await devices.remove(req.params.id, can(p.role, 'device.all') ? null : p.id, actorOf(req))) throw notFound('device', req.params.id);
    return res.status(204).send();
  });
}
