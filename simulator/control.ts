/**
 * HTTP control API of the simulator (default port 7080): inspect panels, make zones, troubles and links
 * misbehave, run scenarios and load at a rate, and list the traces of generated events so load tests can
 * match every event end to end. A thin shell over the simulator: `buildControlApp` builds the app,
 * `createControlServer` listens.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../platform/logger.ts';
import { parseValue } from '../platform/validate.ts';
import type { Action, ActionParams, ActionResult } from './actions.ts';
import type { PanelSnapshot } from './panel.ts';
import type { RateRequest, RateStatus } from './rate.ts';
import { RateRequestSchema } from './rate.ts';
import { parseScenario, validateScenario, type Scenario } from './scenario.ts';
import type { PanelServerStats } from './server.ts';
import type { TraceRing } from './traces.ts';
import type { ModemSimulator } from './modem/index.ts';
import { modemRoutes } from './modem/control-routes.ts';

export type PanelInfo = {
  panel: number;
  port: number;
  model: string;
  module: string;
  connected: boolean;
  monitoring: boolean;
  stats: PanelServerStats;
};

/** What the control API needs from the simulator. */
export type ControlTarget = {
  panelCount: number;
  panelInfo(n: number): PanelInfo;
  snapshot(n: number): PanelSnapshot;
  perform(n: number, action: Action, params?: ActionParams): ActionResult;
  traces: TraceRing;
  runScenario(s: Scenario): { id: number; name: string; steps: number };
  stopScenarios(): number;
  scenarios(): Array<{ id: number; name: string; runs: number; errors: number; lastError?: string }>;
  startRate(req: RateRequest): RateStatus;
  stopRate(): RateStatus | undefined;
  rateStatus(): RateStatus | undefined;
};

const ZONE_ACTIONS = ['violate', 'restore', 'alarm', 'tamper', 'fire'] as const;
const PARTITION_ACTIONS = ['arm', 'force-arm', 'disarm', 'clear-alarm'] as const;
const LINK_ACTIONS = ['drop', 'hang', 'busy', 'corrupt', 'delay', 'ignore', 'restore'] as const;

const LinkBody = Type.Object({
  count: Type.Optional(Type.Integer({ minimum: 1 })), ms: Type.Optional(Type.Integer({ minimum: 0 })), cmd: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
}, { additionalProperties: false });
const PartitionBody = Type.Object({ mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 3 })) }, { additionalProperties: false });

class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

function int(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new HttpError(400, `${what} must be a positive integer, got "${value}"`);
  return Number(value);
}

/**
 * A request body checked in the handler rather than as a route schema: a POST without a body means {},
 * and the route validator would coerce strings and drop unknown fields where these bodies refuse them.
 */
function body<T extends TSchema>(schema: T, raw: unknown): Static<T> {
  try {
    return parseValue(schema, raw ?? {});
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

function buildControlApp(target: ControlTarget, opts: { log?: Logger | undefined; modem?: ModemSimulator | undefined } = {}): FastifyInstance {
  const loggerInstance: FastifyBaseLogger | undefined = opts.log?.child({ component: 'simulator-control' });
  const app = Fastify({ loggerInstance, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 4 * 1024 * 1024 });
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_req, text, done) => done(null, text));

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) app.log.error({ err }, 'control API error');
    return reply.code(status).send({ error: status === 500 ? 'internal error' : 'bad request', message: err.message });
  });

  const panelNo = (raw: string): number => {
    const n = int(raw, 'panel');
    if (n < 1 || n > target.panelCount) throw new HttpError(404, `panel ${n} does not exist (1..${target.panelCount})`);
    return n;
  };
  const oneOf = <T extends string>(list: readonly T[], v: string, what: string): T => {
    if (!(list as readonly string[]).includes(v)) throw new HttpError(404, `unknown ${what} "${v}" (one of ${list.join(', ')})`);
    return v as T;
  };

  app.get('/healthz', () => ({ ok: true }));
  app.get('/panels', () => Array.from({ length: target.panelCount }, (_, i) => target.panelInfo(i + 1)));
  app.get<{ Params: { n: string } }>('/panels/:n/state', (req) => {
    const n = panelNo(req.params.n);
    return { ...target.panelInfo(n), state: target.snapshot(n) };
  });

  app.post<{ Params: { n: string; z: string; action: string } }>('/panels/:n/zones/:z/:action', (req) =>
    target.perform(panelNo(req.params.n), oneOf(ZONE_ACTIONS, req.params.action, 'zone action'), { zone: int(req.params.z, 'zone') }));
  app.post<{ Params: { n: string; p: string; action: string } }>('/panels/:n/partitions/:p/:action', (req) => {
    const { mode } = body(PartitionBody, req.body);
    return target.perform(panelNo(req.params.n), oneOf(PARTITION_ACTIONS, req.params.action, 'partition action'), {
      partition: int(req.params.p, 'partition'), ...(mode !== undefined ? { mode } : {}),
    });
  });
  app.post<{ Params: { n: string; o: string; action: string } }>('/panels/:n/outputs/:o/:action', (req) => {
    const action = oneOf(['on', 'off'] as const, req.params.action, 'output action');
    return target.perform(panelNo(req.params.n), action === 'on' ? 'output-on' : 'output-off', { output: int(req.params.o, 'output') });
  });
  app.post<{ Params: { n: string; t: string; action: string } }>('/panels/:n/troubles/:t/:action', (req) => {
    const action = oneOf(['raise', 'clear'] as const, req.params.action, 'trouble action');
    return target.perform(panelNo(req.params.n), action === 'raise' ? 'raise-trouble' : 'clear-trouble', { trouble: req.params.t });
  });
  app.post<{ Params: { n: string } }>('/panels/:n/power-loss', (req) => target.perform(panelNo(req.params.n), 'power-loss'));
  app.post<{ Params: { n: string } }>('/panels/:n/power-restore', (req) => target.perform(panelNo(req.params.n), 'power-restore'));
  app.post<{ Params: { n: string; action: string } }>('/panels/:n/link/:action', (req) => {
    const action = oneOf(LINK_ACTIONS, req.params.action, 'link action');
    const b = body(LinkBody, req.body);
    if (action === 'delay' && b.ms === undefined) throw new HttpError(400, 'link/delay needs { "ms": <milliseconds> }');
    if (action === 'ignore' && b.cmd === undefined) throw new HttpError(400, 'link/ignore needs { "cmd": <command code 0-255> }');
    const r = target.perform(panelNo(req.params.n), `link-${action}`, b);
    return { panel: r.panel, action: r.action, trace: r.trace };
  });

  app.post('/scenario', (req) => {
    let scenario: Scenario;
    if (typeof req.body === 'string') scenario = parseScenario(req.body);
    else scenario = validateScenario(req.body);
    return target.runScenario(scenario);
  });
  app.post('/scenario/stop', () => ({ stopped: target.stopScenarios() }));
  app.get('/scenarios', () => target.scenarios());

  app.post('/rate', (req) => target.startRate(body(RateRequestSchema, req.body)));
  app.post('/rate/stop', () => target.stopRate() ?? { running: false });
  app.get('/rate', () => target.rateStatus() ?? { running: false });

  app.get<{ Querystring: { since?: string; limit?: string } }>('/traces', (req) => {
    const since = req.query.since === undefined ? 0 : int(req.query.since, 'since');
    const limit = req.query.limit === undefined ? 50_000 : Math.min(int(req.query.limit, 'limit'), target.traces.capacity);
    const traces = target.traces.since(since, limit);
    return { count: traces.length, total: target.traces.total, traces };
  });

  // The GSM modem (stam simulator --modem): /modem, /modem/sms, /modem/fault/*.
  if (opts.modem) modemRoutes(app, opts.modem);

  return app;
}

export type ControlServer = { readonly url: string; start(): Promise<void>; stop(): Promise<void> };

export function createControlServer(opts: { target: ControlTarget; port: number; host?: string; log?: Logger | undefined; modem?: ModemSimulator | undefined }): ControlServer {
  const app = buildControlApp(opts.target, { log: opts.log, modem: opts.modem });
  let url = '';
  return {
    get url() {
      return url;
    },
    async start() {
      url = await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' });
    },
    async stop() {
      await app.close();
    },
  };
}
