import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type, type Static } from '@sinclair/typebox';
import {
  StamError, counter, isStamError, registry, runChecks, type Lifecycle, type Logger, type Pool, type ReadinessCheck, type Redis,
} from '../platform/index.ts';
import type { KeyRing, Claims } from './keys.ts';
import { verifyPassword } from './passwords.ts';
import type { AlarmStream, StreamMessage } from './stream.ts';

const m = {
  logins: counter('stam_gateway_logins_total', 'login attempts', ['outcome']),
  wsDropped: counter('stam_gateway_ws_slow_disconnects_total', 'WebSocket clients disconnected for reading too slowly'),
  badRequests: counter('stam_gateway_bad_requests_total', 'requests rejected', ['code']),
};

const TICKET_TTL_S = 30;
const WS_MAX_BUFFERED = 1024 * 1024;
const consoleHtml = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');

export interface GatewayDeps {
  pool: Pool;
  redis: Redis;
  keys: KeyRing;
  stream?: AlarmStream;
  log: Logger;
  checks: ReadinessCheck[];
  lifecycle: Lifecycle;
}

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) });
const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const AlarmsQuery = Type.Object({
  status: Type.Optional(Type.Union(['NEW', 'CLAIMED', 'ACKNOWLEDGED', 'RESOLVED', 'CLOSED'].map((s) => Type.Literal(s)))),
  include_test: Type.Optional(Type.Boolean({ default: false })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false });

declare module 'fastify' {
  interface FastifyRequest { user?: Claims }
}

/** Builds the gateway without listening, so tests use inject() and the server module owns the port. */
export async function buildGateway(deps: GatewayDeps) {
  const { pool, redis, keys, log } = deps;
  const app = Fastify({
    loggerInstance: log,
    genReqId: (req) => (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].length <= 64 ? req.headers['x-request-id'] : randomUUID()),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.setErrorHandler((err, req, reply) => {
    if (isStamError(err)) {
      const status = { E_AUTH_INVALID: 401, E_AUTH_TOKEN: 401, E_WS_TICKET: 401, E_FORBIDDEN: 403, E_NOT_FOUND: 404, E_ALARM_CONFLICT: 409, E_VALIDATION: 400 }[err.code as string] ?? 500;
      m.badRequests.inc({ code: err.code });
      return reply.status(status).send({ code: err.code, message: err.message, details: err.details });
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation) {
      m.badRequests.inc({ code: 'E_VALIDATION' });
      return reply.status(400).send({ code: 'E_VALIDATION', message: e.message, details: e.validation });
    }
    if (e.statusCode && e.statusCode < 500) {
      m.badRequests.inc({ code: 'E_BAD_REQUEST' });
      return reply.status(e.statusCode).send({ code: 'E_BAD_REQUEST', message: e.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ code: 'E_INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'E_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  await app.register(swagger, { openapi: { info: { title: 'stam-replacer gateway', version: '1' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } } } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  async function authenticate(req: FastifyRequest): Promise<void> {
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ')) throw new StamError('E_AUTH_TOKEN', 'missing bearer token');
    req.user = await keys.verify(h.slice(7));
  }

  app.get('/healthz', { schema: { hide: true } }, () => ({ status: deps.lifecycle.state }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const failures = await runChecks(deps.checks);
    const ok = deps.lifecycle.state === 'running' && Object.keys(failures).length === 0;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', state: deps.lifecycle.state, failures });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/.well-known/jwks.json', { schema: { hide: true } }, () => keys.publicJwks());
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.type('text/html; charset=utf-8').send(consoleHtml));

  app.post<{ Body: Static<typeof LoginBody> }>('/api/auth/login', {
    schema: { body: LoginBody, response: { 401: ErrorBody } },
  }, async (req) => {
    const { username, password } = req.body;
    const { rows } = await pool.query<{ id: number; display_name: string; password_hash: string; role: string; disabled: boolean }>(
      'SELECT id, display_name, password_hash, role, disabled FROM users WHERE username = $1', [username]);
    const user = rows[0];
    const ok = user !== undefined && !user.disabled && await verifyPassword(password, user.password_hash);
    await pool.query('INSERT INTO audit_log (user_id, username, action, request_id, ip, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [user?.id ?? null, username, ok ? 'auth.login' : 'auth.login_failed', req.id, req.ip, {}]);
    m.logins.inc({ outcome: ok ? 'ok' : 'rejected' });
    if (!ok) throw new StamError('E_AUTH_INVALID', 'wrong username or password');
    const { token, expiresIn } = await keys.sign({ sub: String(user.id), role: user.role, name: username });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, user: { id: user.id, username, display_name: user.display_name, role: user.role } };
  });

  app.post('/api/ws-ticket', { preHandler: authenticate, schema: { security: [{ bearer: [] }] } }, async (req) => {
    const ticket = randomBytes(24).toString('base64url');
    await redis.set(`ws:ticket:${ticket}`, JSON.stringify(req.user), 'EX', TICKET_TTL_S);
    return { ticket, expires_in: TICKET_TTL_S };
  });

  app.get<{ Querystring: Static<typeof AlarmsQuery> }>('/api/alarms', {
    preHandler: authenticate, schema: { querystring: AlarmsQuery, security: [{ bearer: [] }] },
  }, async (req) => {
    const q = req.query;
    const { rows } = await pool.query(
      `SELECT a.id, a.version, a.object_id, o.name AS object_name, a.panel_id, a.source, a.zone, a.category, a.severity, a.status,
              u.username AS owner, a.event_count, a.restore_count, a.first_event_at, a.last_event_at, a.test, a.service, a.flood, a.title
         FROM alarms a JOIN objects o ON o.id = a.object_id LEFT JOIN users u ON u.id = a.claimed_by
        WHERE ($1::text IS NULL AND a.status IN ('NEW','CLAIMED','ACKNOWLEDGED') OR a.status = $1)
          AND ($2 OR NOT a.test)
        ORDER BY a.id DESC LIMIT $3`,
      [q.status ?? null, q.include_test ?? false, q.limit],
    );
    return { items: rows };
  });

  await app.register((scope, _opts, done) => {
    scope.addHook('preValidation', async (req) => {
      const ticket = (req.query as { ticket?: unknown }).ticket;
      if (typeof ticket !== 'string' || ticket.length > 64) throw new StamError('E_WS_TICKET', 'a ticket from POST /api/ws-ticket is required');
      const raw = await redis.getdel(`ws:ticket:${ticket}`);
      if (!raw) throw new StamError('E_WS_TICKET', 'ticket unknown, expired or already used');
      req.user = JSON.parse(raw) as Claims;
    });
    scope.get('/ws', { websocket: true, schema: { hide: true } }, (socket, req) => {
      const includeTest = (req.query as { include_test?: string }).include_test === '1';
      const stream = deps.stream;
      if (!stream) { socket.close(1013, 'realtime disabled'); return; }
      socket.on('message', (data: Buffer) => {
        // Clients only send pings as text today; anything else is answered, never trusted.
        if (data.toString() === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      });
      const unsubscribe = stream.subscribe((msg: StreamMessage) => {
        if (msg.alarm.test && !includeTest) return;
        if (socket.bufferedAmount > WS_MAX_BUFFERED) {
          m.wsDropped.inc();
          socket.close(1013, 'too slow; reconnect and resume');
          return;
        }
        socket.send(JSON.stringify(msg));
      });
      socket.on('close', unsubscribe);
      socket.send(JSON.stringify({ type: 'hello', epoch: stream.epoch, position: stream.lastPosition, user: req.user?.name }));
    });
    done();
  });

  return app;
}
