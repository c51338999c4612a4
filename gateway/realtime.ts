import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { StamError, counter, isStamError, sampledGauge } from '../platform/index.ts';
import { openAlarmsSnapshot } from './alarm-store.ts';
import type { Authenticator } from './auth.ts';
import { errors, principalOf, type RouteDeps } from './http.ts';
import type { Claims } from './keys.ts';
import { isAlarmMessage, type StreamMessage } from './messages.ts';
import { inScope, scopeParam, type Principal } from './rbac.ts';
import { takeFromWindow } from './rate-limit.ts';
import { createReadPacer } from './read-pacer.ts';
import { ticketCountKey, ticketKey } from './redis-keys.ts';
import { planResume } from './resume.ts';
import { CLOSE_RESTART, StreamSession } from './session.ts';

const m = {
  connects: counter('stam_gateway_ws_connects_total', 'WebSocket connections by how they continued', ['resume']),
  badMessages: counter('stam_gateway_ws_bad_messages_total', 'client messages that were not understood'),
  dead: counter('stam_gateway_ws_dead_total', 'clients dropped for not answering pings'),
  slow: counter('stam_gateway_ws_slow_disconnects_total', 'clients disconnected for reading too slowly'),
  stalled: counter('stam_gateway_ws_stalled_disconnects_total', 'clients disconnected because their session made no progress for two heartbeats', ['state']),
  refused: counter('stam_gateway_ws_refused_total', 'tickets and connections refused', ['why']),
};

const WsQuery = Type.Object({
  ticket: Type.String({ minLength: 16, maxLength: 64 }),
  epoch: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  position: Type.Optional(Type.Integer({ minimum: -1 })),
  include_test: Type.Boolean({ default: false }),
}, { additionalProperties: false });

/** Every gateway's clients in this process (tests build several), for the sampled gauges. */
const everyClientSet = new Set<Set<Client>>();
const allClients = function* () { for (const set of everyClientSet) yield* set; };
sampledGauge('stam_gateway_ws_clients', 'open WebSocket clients', () => [...allClients()].length);
sampledGauge('stam_gateway_ws_backlog_bytes_max', 'the largest unsent backlog of any WebSocket client (bounded by WS_MAX_BYTES)',
  () => Math.max(0, ...[...allClients()].map((c) => c.socket.bufferedAmount)));

interface Client { socket: WebSocket; session: StreamSession; alive: boolean; bad: number; principal: Principal }

/**
 * `POST /api/ws-ticket` (single use, 30 s, in Redis) and `/ws?ticket=…[&epoch=…&position=…]`. A client
 * gives the epoch and position of the last message it saw and receives exactly what it missed (buffer,
 * then history) or a `resync` snapshot; see session.ts for ordering, coalescing and slow clients. Pings
 * find dead clients; on shutdown every client gets close code 1012 ("restarting: reconnect and resume").
 */
export function realtimeRoutes(app: FastifyInstance, deps: RouteDeps, auth: Authenticator) {
  const { redis, pool, settings: s, log } = deps;
  const clients = new Set<Client>();
  everyClientSet.add(clients);
  const pacer = createReadPacer(s.wsReadConcurrency);
  const openBy = (userId: number) => { let n = 0; for (const c of clients) if (c.principal.id === userId) n++; return n; };
  const refuse = (why: string, err: StamError): never => { m.refused.inc({ why }); throw err; };

  app.post('/api/ws-ticket', {
    config: { permission: 'stream.subscribe' },
    schema: {
      tags: ['realtime'], summary: 'A single-use ticket (30 s) for /ws?ticket=… — tokens never go in URLs', security: [{ bearer: [] }],
      response: { 200: Type.Object({ ticket: Type.String(), expires_in: Type.Integer() }), ...errors() },
    },
  }, async (req) => {
    const p = principalOf(req);
    const { allowed } = await takeFromWindow(redis, (w) => ticketCountKey(p.id, w), 60, s.wsTicketsPerMinute);
    if (!allowed) refuse('tickets', new StamError('E_RATE_LIMITED', `at most ${s.wsTicketsPerMinute} WebSocket tickets per minute`));
    const ticket = randomBytes(24).toString('base64url');
    await redis.set(ticketKey(ticket), JSON.stringify({ sub: String(p.id), role: p.role, name: p.username }), 'EX', s.ticketTtlS);
    return { ticket, expires_in: s.ticketTtlS };
  });

  // A browser says where the page that opens the socket came from: only the console's own host, or a
  // configured origin, may open one (no cross-site WebSocket hijacking). Clients without Origin are not browsers.
  const originAllowed = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    let parsed: URL;
    try { parsed = new URL(origin); } catch { return false; }
    return parsed.host === req.headers.host || s.wsAllowedOrigins.includes(parsed.origin);
  };

  async function consumeTicket(req: FastifyRequest<{ Querystring: Static<typeof WsQuery> }>): Promise<void> {
    if (!originAllowed(req)) refuse('origin', new StamError('E_FORBIDDEN', 'WebSocket from an origin that is not allowed (WS_ALLOWED_ORIGINS)'));
    const raw = await redis.getdel(ticketKey(req.query.ticket));
    if (!raw) throw new StamError('E_WS_TICKET', 'ticket unknown, expired or already used');
    req.principal = await auth.principalFor(JSON.parse(raw) as Claims);
    if (openBy(req.principal.id) >= s.wsMaxConnectionsPerUser) {
      refuse('connections', new StamError('E_RATE_LIMITED', `at most ${s.wsMaxConnectionsPerUser} open WebSockets per user`));
    }
  }

  app.get<{ Querystring: Static<typeof WsQuery> }>('/ws', { websocket: true, preHandler: consumeTicket, schema: { querystring: WsQuery } }, (socket, req) => {
    const stream = deps.stream;
    if (!stream) { socket.close(1013, 'realtime disabled'); return; }
    const p = principalOf(req);
    const q = req.query;
    if (openBy(p.id) >= s.wsMaxConnectionsPerUser) { // two upgrades of one user racing past the check above
      m.refused.inc({ why: 'connections' });
      socket.close(1008, 'too many open connections for this user');
      return;
    }
    const client: Client = { socket, alive: true, bad: 0, principal: p, session: undefined as unknown as StreamSession };
    // The principal is re-read at every ping: scope changes apply, a disabled account is disconnected.
    const visible = (msg: StreamMessage): boolean => {
      if (isAlarmMessage(msg)) return (q.include_test || !msg.alarm.test) && inScope(client.principal, msg.alarm.object_id);
      return inScope(client.principal, msg.object_id);
    };

    const resync = async (reason: string, head: number, hello?: Record<string, unknown>) => {
      // Clients with the same view share a snapshot read that has not started yet (it will see everything up to their head).
      const view = JSON.stringify([scopeParam(client.principal), q.include_test]);
      const snapshot = await pacer.shared('snapshot', view, () => openAlarmsSnapshot(pool, client.principal, q.include_test));
      client.session.resync(snapshot, head, reason, hello);
      m.connects.inc({ resume: `resync:${reason}` });
    };
    client.session = new StreamSession({
      socket, epoch: stream.epoch, visible, slowBytes: s.wsSlowBytes, maxBytes: s.wsMaxBytes, maxCoalesced: s.wsMaxCoalesced,
      onTooSlow: () => { m.slow.inc(); log.info({ user: p.username }, 'WebSocket client too slow: disconnected'); },
      onStalled: (state) => { m.stalled.inc({ state }); log.info({ user: p.username, state }, 'WebSocket session made no progress: disconnected'); },
      onResyncNeeded: (reason) => {
        log.warn({ user: p.username, reason }, reason === 'gap' ? 'stream position jumped; resyncing client' : 'catch-up fell behind the live stream; resyncing client');
        void resync(reason, stream.head).catch((err: Error) => { log.error({ err: err.message }, 'resync failed'); socket.close(1011, 'resync failed'); });
      },
    });

    socket.on('message', (data: Buffer, isBinary: boolean) => {
      client.alive = true;
      const text = isBinary ? '' : data.toString();
      let type: unknown = text;
      if (text.startsWith('{')) { try { type = (JSON.parse(text) as { type?: unknown }).type; } catch { type = undefined; } }
      if (type === 'ping') { client.session.reply({ type: 'pong', epoch: stream.epoch, position: client.session.position }); return; }
      m.badMessages.inc();
      client.session.reply({ type: 'error', code: 'E_VALIDATION', message: 'the only client message is {"type":"ping"}' });
      if (++client.bad > 10) socket.close(1008, 'too many bad messages');
    });
    socket.on('pong', () => { client.alive = true; });
    // Subscribe, then read the head in the same tick: every later position reaches this session.
    const unsubscribe = stream.subscribe((ev) => client.session.push(ev));
    const head = stream.head;
    clients.add(client);
    socket.on('close', () => { unsubscribe(); client.session.close(); clients.delete(client); });

    const plan = planResume({ epoch: q.epoch, position: q.position }, { epoch: stream.epoch, head }, s.wsResumeMaxGap);
    const start = async () => {
      if (plan.kind === 'live') {
        client.session.begin({ cursor: q.position!, observed: head, hello: { resume: 'live' } });
        m.connects.inc({ resume: 'live' });
        return;
      }
      if (plan.kind === 'replay') {
        const found = await pacer.run('history', () => stream.catchUp(plan.after, plan.to));
        if (found) {
          client.session.begin({ cursor: plan.after, observed: plan.after, hello: { resume: 'replay', source: found.source, missed: found.items.length } }, found.items);
          m.connects.inc({ resume: `replay:${found.source}` });
          return;
        }
        return resync('gap', head, { resume: 'resync', reason: 'gap' });
      }
      return resync(plan.reason, head, { resume: 'resync', reason: plan.reason });
    };
    start().catch((err: Error) => {
      log.error({ err: err.message, user: p.username }, 'could not start a WebSocket session');
      socket.close(1011, 'could not start: reconnect and resume');
    });
  });

  const pinger = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) { m.dead.inc(); c.socket.terminate(); continue; }
      c.alive = false;
      c.socket.ping();
      c.session.heartbeat();
      auth.principalFor({ sub: String(c.principal.id), role: c.principal.role, name: c.principal.username }).then(
        (fresh) => { c.principal = fresh; },
        (err: unknown) => {
          if (!isStamError(err, 'E_AUTH_TOKEN')) return; // the database being away is no reason to drop anyone
          log.info({ user: c.principal.username }, 'account disabled: WebSocket closed');
          c.socket.close(1008, 'account disabled or removed');
        },
      );
    }
  }, s.wsPingIntervalMs);
  pinger.unref();

  return {
    get clientCount() { return clients.size; },
    /** Shutdown: every client is told to reconnect (1012); the stragglers are cut after a second. */
    async closeAll(): Promise<void> {
      clearInterval(pinger);
      everyClientSet.delete(clients);
      const open = [...clients];
      for (const c of open) c.socket.close(CLOSE_RESTART, 'server restarting: reconnect and resume');
      const deadline = Date.now() + 1000;
      while (clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const c of clients) c.socket.terminate();
    },
  };
}
