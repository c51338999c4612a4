import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Id, Nullable, Version, Timestamp, actorOf, errors, principalOf, type RouteDeps } from './http.ts';
import { createIntentStore } from './intents-store.ts';

const Intent = Type.Object({
  client_id: Type.String({ format: 'uuid', description: "the console's own id of the intent: sending it again answers the first decision" }),
  alarm_id: Id(),
  action: Type.Literal('claim', { description: '"I will handle alarm X"' }),
  seen_version: Version({ description: 'the version of the alarm the operator saw offline' }),
  recorded_at: Timestamp,
}, { additionalProperties: false });
const IntentsBody = Type.Object({ intents: Type.Array(Intent, { minItems: 1, maxItems: 200 }) }, { additionalProperties: false });
const Outcome = Type.Object({
  client_id: Type.String(), alarm_id: Type.Integer(), outcome: Type.Union([Type.Literal('claimed'), Type.Literal('refused')]),
  reason: Nullable(Type.String({ description: 'taken (by owner), closed, resolved, acknowledged, not_found, stale, already_yours' })),
  owner: Nullable(Type.String()), status: Nullable(Type.String()), version: Nullable(Type.Integer()), received_at: Timestamp,
});
const ConsoleSettings = Type.Object({
  idle_lock_s: Type.Integer({ description: 'lock the screen after this long without input (0: never)' }),
  map_tile_url: Type.String({ description: 'tile template with {z}/{x}/{y}; empty: no map tiles' }),
  webauthn_rp_id: Type.String(),
});

/** What the console needs beyond the alarm routes: its settings, and the intent queue (specification §4). */
export function consoleRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const intents = createIntentStore(deps.pool);
  const s = deps.settings;

  app.get('/api/console/settings', {
    config: { public: true },
    schema: { tags: ['console'], summary: 'Settings of the operator console (read before login: nothing secret)', response: { 200: ConsoleSettings } },
  }, () => ({ idle_lock_s: s.consoleIdleLockS, map_tile_url: s.consoleMapTileUrl, webauthn_rp_id: s.webauthnRpId }));

  app.post<{ Body: Static<typeof IntentsBody> }>('/api/intents', {
    config: { permission: 'intent.submit' },
    schema: {
      tags: ['console'], summary: 'Intents recorded offline, arbitrated against the alarms as they are now: claimed if still free, else refused with the reason',
      security: [{ bearer: [] }], body: IntentsBody, response: { 200: Type.Object({ results: Type.Array(Outcome) }), ...errors() },
    },
  }, async (req) => ({ results: await intents.arbitrate(principalOf(req), req.body.intents, actorOf(req)) }));

  app.get('/api/intents', {
    config: { permission: 'intent.submit' },
    schema: { tags: ['console'], summary: 'My intents and their outcomes, newest first', security: [{ bearer: [] }], response: { 200: Type.Object({ items: Type.Array(Outcome) }), ...errors() } },
  }, async (req) => ({ items: await intents.list(principalOf(req).id, 100) }));
}
