import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { EfentoAlertSchema } from '../ingest/sms/core/index.ts';
import type { EfentoIntake } from './efento-store.ts';
import { errors } from './http.ts';

declare module 'fastify' {
  interface FastifyRequest { rawBody?: string }
}

const Accepted = Type.Object({ event_id: Type.String(), dedup_key: Type.String(), kind: Type.String(), sensor_id: Type.String() });

/**
 * POST /api/ingest/efento: Efento Cloud alert webhooks (activation and deactivation), authenticated by the
 * shared secret in X-Webhook-Secret (set as a custom header in Efento Cloud), answered 201. The body is kept
 * exactly as received: it is the event's raw text, shown in the alarm's events.
 */
export async function efentoRoutes(app: FastifyInstance, intake: EfentoIntake): Promise<void> {
  await app.register((scope, _opts, done) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, parsed) => {
      req.rawBody = body as string;
      try {
        parsed(null, JSON.parse(body as string));
      } catch (err) {
        parsed(Object.assign(new Error(`body is not JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
      }
    });
    scope.post<{ Body: Static<typeof EfentoAlertSchema>; Headers: { 'x-webhook-secret'?: string } }>('/api/ingest/efento', {
      config: { public: true },
      schema: {
        tags: ['ingest'], summary: 'Efento Cloud alert webhook (shared secret in X-Webhook-Secret): into the SMS path, 201 once the broker has it',
        headers: Type.Object({ 'x-webhook-secret': Type.Optional(Type.String({ maxLength: 256 })) }),
        body: EfentoAlertSchema, response: { 201: Accepted, ...errors(503) },
      },
      // Before the body is read: an unauthenticated caller gets 401 and costs no parsing.
      onRequest: (req, _reply, next) => {
        try { intake.authorize(typeof req.headers['x-webhook-secret'] === 'string' ? req.headers['x-webhook-secret'] : undefined); next(); } catch (err) { next(err as Error); }
      },
    }, async (req, reply) => {
      const e = await intake.accept(req.body, req.rawBody ?? JSON.stringify(req.body));
      req.log.info({ event: e.event_id, kind: e.kind, sensor: e.sensor_id }, 'Efento alert accepted');
      return reply.status(201).send({ event_id: e.event_id, dedup_key: e.dedup_key, kind: e.kind, sensor_id: e.sensor_id });
    });
    done();
  });
}
