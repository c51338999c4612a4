import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import staticFiles from '@fastify/static';
import { collectWarnings, counter, histogram, isStamError, registry, runChecks } from '../platform/index.ts';
import { alarmRoutes } from './alarms-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { commandRoutes } from './commands-routes.ts';
import { createAuthenticator } from './auth.ts';
import { authRoutes } from './auth-routes.ts';
import { deviceRoutes } from './devices-routes.ts';
import { efentoRoutes } from './efento-routes.ts';
import { ErrorBody, HTTP_STATUS, type GatewayDeps, type RouteDeps } from './http.ts';
import { objectRoutes } from './objects-routes.ts';
import { sweepExpiredModes } from './objects-store.ts';
import { panelRoutes } from './panels-routes.ts';
import { realtimeRoutes } from './realtime.ts';
import { reportRoutes } from './reports/index.ts';
import { withDefaults } from './settings.ts';
import { userDeviceRoutes } from './user-devices-routes.ts';
import { consoleRoutes } from './console-routes.ts';
import { passkeyRoutes } from './passkeys-routes.ts';
import { userRoutes } from './users-routes.ts';

const m = {
  badRequests: counter('stam_gateway_bad_requests_total', 'requests rejected', ['code']),
  latency: histogram('stam_gateway_request_seconds', 'request latency by route', ['method', 'route', 'status'], [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1]),
};

/** The operator console as `console/` builds it (npm ci / npm start / npm test build it when missing or stale). */
const CONSOLE_DIR = fileURLToPath(new URL('../console/dist/', import.meta.url));
const NOT_BUILT = '<!doctype html><meta charset="utf-8"><title>stam-replacer</title><p>The operator console is not built: run <code>npm run build:console</code>.</p>';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the gateway without listening, so tests use inject() and the server module owns the port. */
export async function buildGateway(input: GatewayDeps) {
  const deps: RouteDeps = { ...input, settings: withDefaults(input.settings) };
  const { pool, log } = deps;
  const logger: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance: logger,
    // A caller's request id (e.g. from nginx) is kept when it looks like one; it goes into every log line and audit row.
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    // req.ip is the client's address: taken from X-Forwarded-For only when the connection comes from a
    // configured proxy, so nobody else can choose the address the login throttle and the audit see.
    ...(deps.settings.trustedProxies.length > 0 ? { trustProxy: deps.settings.trustedProxies } : {}),
  });
  const auth = createAuthenticator({ pool, keys: deps.keys });

  app.addSchema(ErrorBody);
  app.setErrorHandler((err, req, reply) => {
    if (isStamError(err)) {
      const status = HTTP_STATUS[err.code] ?? 500;
      m.badRequests.inc({ code: err.code });
      if (status >= 500) req.log.error({ err: err.message, code: err.code }, 'request failed');
      return reply.status(status).send({ code: err.code, message: err.message, details: err.details });
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string; code?: string };
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

  // Every /api route names a permission or says it is public: a route cannot be added unguarded by mistake.
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/') && !r.config?.permission && !r.config?.public) throw new Error(`route ${String(r.method)} ${r.url} names no permission (gateway/rbac.ts)`);
    if (r.url.startsWith('/api/') && !r.schema) throw new Error(`route ${String(r.method)} ${r.url} has no schema`);
  });
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    await auth.onRequest(req);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    m.latency.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const line = { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, user: req.principal?.username };
    // Lean: refusals at info (500s were logged with their error); successes at debug — every change is in audit_log with this request id.
    if (reply.statusCode >= 400 && reply.statusCode < 500) req.log.info(line, 'request refused');
    else req.log.debug(line, 'request');
    done();
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'stam-replacer gateway', version: '1', description: 'Operator API of the alarm-receiving centre. Errors: { code, message, details }.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const live: { realtime?: ReturnType<typeof realtimeRoutes> } = {};
  await app.register(websocket, {
    options: { maxPayload: 64 * 1024 },
    preClose: async function preClose(this: FastifyInstance) {
      await live.realtime?.closeAll();
      this.websocketServer.close();
    },
  });

  app.get('/healthz', { schema: { hide: true } }, () => ({ status: deps.lifecycle.state }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const failures = await runChecks(deps.checks);
    const ok = deps.lifecycle.state === 'running' && Object.keys(failures).length === 0;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', state: deps.lifecycle.state, failures, warnings: collectWarnings(deps.checks) });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  if (existsSync(`${CONSOLE_DIR}index.html`)) {
    // Hashed assets are immutable; the page, the service worker and the manifest are revalidated on every load.
    await app.register(staticFiles, {
      root: CONSOLE_DIR, prefix: '/', wildcard: true, decorateReply: false, index: ['index.html'], schemaHide: true, cacheControl: false,
      setHeaders: (res, path) => { res.setHeader('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'); },
    });
  } else {
    app.get('/', { schema: { hide: true } }, (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT));
  }

  authRoutes(app, deps, auth);
  alarmRoutes(app, deps);
  objectRoutes(app, deps);
  panelRoutes(app, deps);
  deviceRoutes(app, deps);
  userDeviceRoutes(app, deps);
  auditRoutes(app, deps);
  userRoutes(app, deps);
  passkeyRoutes(app, deps, auth);
  consoleRoutes(app, deps);
  if (deps.commands) commandRoutes(app, deps, deps.commands);
  if (deps.reports) reportRoutes(app, deps.reports);
  if (deps.efento) await efentoRoutes(app, deps.efento);
  live.realtime = realtimeRoutes(app, deps, auth);

  let sweeper: NodeJS.Timeout | undefined;
  app.addHook('onReady', () => {
    sweeper = setInterval(() => void sweepExpiredModes(pool, log).catch((err: Error) => log.warn({ err: err.message }, 'mode sweep failed')), deps.settings.modeSweepIntervalS * 1000);
    sweeper.unref();
    return Promise.resolve();
  });
  app.addHook('onClose', () => { clearInterval(sweeper); return Promise.resolve(); });

  return app;
}

export type Gateway = Awaited<ReturnType<typeof buildGateway>>;
