/**
 * The fake FCM over real HTTPS: `POST /token` (the OAuth 2 JWT-bearer grant a service account's
 * `token_uri` names: the assertion's RS256 signature is checked against the keys the fake trusts) and
 * `POST /v1/projects/{id}/messages:send` (bearer token checked, payload checked as FCM does, then
 * answered per token as told: success, UNREGISTERED, INVALID_ARGUMENT, QUOTA_EXCEEDED with Retry-After,
 * UNAVAILABLE, INTERNAL, SENDER_ID_MISMATCH, slowly if asked). Every accepted message is recorded and
 * lands on the token's fake phone, whose drawer keeps one notification per tag (Android replaces a shown
 * notification with the same tag). `/fake/*` is the control API.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import type { Logger } from '../../platform/logger.ts';
import { counter } from '../../platform/metrics.ts';
import { ANSWERS, errorReply, permissionDenied, readSend, unauthenticated, type Answer, type Reply, type SentMessage } from './protocol.ts';

const m = { requests: counter('stam_fake_fcm_requests_total', 'requests the fake FCM answered, by endpoint and answer', ['endpoint', 'answer']) };

/** How sends to a token (or, as the default, to every token) are answered; `times` answers then fall back to ok. */
export interface Behaviour { answer: Answer; delayMs?: number; retryAfterS?: number; times?: number }

export interface Received { at: number; token: string; name: string; tag: string | undefined; message: SentMessage }

export interface Shown { tag: string; title: string; body: string; data: Record<string, string>; deliveries: number; firstAt: number; lastAt: number }

export interface FakeFcmState {
  projectId: string;
  received: Received[];
  /** Per token: the drawer of its phone, by tag. */
  phones: Map<string, Map<string, Shown>>;
  behaviours: Map<string, Behaviour>;
  defaultBehaviour: Behaviour;
  /** Answers given per kind, for tests: ok, unregistered, …, unauthenticated. */
  answers: Map<string, number>;
  tokenGrants: number;
  tokenRefusals: number;
}

interface ServerOptions {
  state: FakeFcmState;
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  publicKeys: string[];
  log: Logger;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size > MAX_BODY) { reject(new Error('body too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const send = (res: ServerResponse, r: Reply): void => {
  res.writeHead(r.status, { 'content-type': 'application/json; charset=UTF-8', ...r.headers });
  res.end(JSON.stringify(r.body));
};

export function createFakeFcmServer(o: ServerOptions) {
  const { state, log } = o;
  const keys: CryptoKey[] = [];
  const accessTokens = new Set<string>();
  let server: Server | undefined;
  let port = o.port;
  const tokenUris = () => [`https://127.0.0.1:${port}/token`, `https://localhost:${port}/token`];

  async function trustKey(pem: string): Promise<void> {
    keys.push(await importSPKI(pem, 'RS256'));
  }

  async function grant(req: IncomingMessage): Promise<Reply> {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    }
    const assertion = form.get('assertion') ?? '';
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(assertion, key, { audience: tokenUris(), algorithms: ['RS256'], maxTokenAge: '1h' });
        const scope = typeof payload.scope === 'string' ? payload.scope : '';
        if (!/firebase\.messaging|cloud-platform/.test(scope)) return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' } };
        const token = `ya29.fake-${randomBytes(24).toString('base64url')}`;
        accessTokens.add(token);
        state.tokenGrants++;
        return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
      } catch { /* not this key */ }
    }
    state.tokenRefusals++;
    return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
  }

  function behaviourOf(token: string): Behaviour {
    const b = state.behaviours.get(token) ?? state.defaultBehaviour;
    if (b.times !== undefined) {
      if (b.times <= 0) return { answer: 'ok' };
      b.times--;
    }
    return b;
  }

  function accept(msg: SentMessage): Reply {
    const name = `projects/${state.projectId}/messages/${randomBytes(9).toString('hex')}`;
    const at = Date.now();
    const tag = msg.android?.notification?.tag ?? msg.apns?.headers?.['apns-collapse-id'];
    state.received.push({ at, token: msg.token, name, tag, message: msg });
    const drawer = state.phones.get(msg.token) ?? new Map<string, Shown>();
    state.phones.set(msg.token, drawer);
    const key = tag ?? name; // no tag: every message is a notification of its own
    const shown = drawer.get(key);
    const title = msg.notification?.title ?? '';
    const body = msg.notification?.body ?? '';
    drawer.set(key, { tag: key, title, body, data: msg.data ?? {}, deliveries: (shown?.deliveries ?? 0) + 1, firstAt: shown?.firstAt ?? at, lastAt: at });
    log.info({ phone: `…${msg.token.slice(-8)}`, title, body, tag, replaced: shown !== undefined }, 'fake phone shows a push notification');
    return { status: 200, body: { name } };
  }

  async function messagesSend(req: IncomingMessage, project: string): Promise<{ reply: Reply; answer: string }> {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !accessTokens.has(auth.slice(7))) return { reply: unauthenticated(), answer: 'unauthenticated' };
    if (project !== state.projectId) return { reply: permissionDenied(project), answer: 'permission_denied' };
    let body: unknown;
    try { body = JSON.parse(await readBody(req)); } catch { body = undefined; }
    const read = readSend(body);
    if ('reply' in read) return { reply: read.reply, answer: 'bad_payload' };
    const b = behaviourOf(read.message.token);
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (b.answer !== 'ok') return { reply: errorReply(b.answer, b.retryAfterS), answer: b.answer };
    if (read.validateOnly) return { reply: { status: 200, body: { name: `projects/${state.projectId}/messages/fake_message_id` } }, answer: 'validated' };
    return { reply: accept(read.message), answer: 'ok' };
  }

  async function control(req: IncomingMessage, path: string): Promise<Reply> {
    const url = new URL(path, 'https://fake');
    if (req.method === 'GET' && url.pathname === '/fake/messages') {
      const token = url.searchParams.get('token');
      return { status: 200, body: { messages: state.received.filter((r) => !token || r.token === token) } };
    }
    if (req.method === 'GET' && url.pathname === '/fake/phones') {
      return { status: 200, body: { phones: [...state.phones].map(([token, d]) => ({ token, notifications: [...d.values()] })) } };
    }
    if (req.method === 'POST' && url.pathname === '/fake/behaviour') {
      const b = JSON.parse(await readBody(req) || '{}') as Behaviour & { token?: string };
      if (!ANSWERS.includes(b.answer)) return { status: 400, body: { error: `answer must be one of ${ANSWERS.join(', ')}` } };
      const { token, ...behaviour } = b;
      if (token) state.behaviours.set(token, behaviour); else state.defaultBehaviour = behaviour;
      return { status: 200, body: { token: token ?? '*', ...behaviour } };
    }
    if (req.method === 'POST' && url.pathname === '/fake/reset') {
      state.received.length = 0; state.phones.clear(); state.behaviours.clear(); state.defaultBehaviour = { answer: 'ok' };
      return { status: 200, body: { reset: true } };
    }
    return { status: 404, body: { error: `no route ${req.method ?? ''} ${url.pathname}` } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const sendPath = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (req.method === 'POST' && path === '/token') {
      const reply = await grant(req);
      m.requests.inc({ endpoint: 'token', answer: String(reply.status) });
      send(res, reply);
    } else if (req.method === 'POST' && sendPath) {
      const { reply, answer } = await messagesSend(req, decodeURIComponent(sendPath[1]!));
      state.answers.set(answer, (state.answers.get(answer) ?? 0) + 1);
      m.requests.inc({ endpoint: 'send', answer });
      send(res, reply);
    } else if (path.startsWith('/fake/')) {
      send(res, await control(req, path));
    } else {
      send(res, { status: 404, body: { error: { code: 404, message: `no route ${req.method ?? ''} ${path}`, status: 'NOT_FOUND' } } });
    }
  }

  return {
    trustKey,
    /** Access tokens issued so far stop working: the next send gets 401 UNAUTHENTICATED. */
    revokeAccessTokens(): void { accessTokens.clear(); },
    get port() { return port; },
    async start(): Promise<void> {
      for (const k of o.publicKeys) await trustKey(k);
      const s = createServer({ cert: o.certPem, key: o.keyPem, keepAliveTimeout: 30_000 }, (req, res) => {
        handle(req, res).catch((err: Error) => { if (!res.headersSent) send(res, { status: 500, body: { error: err.message } }); else res.destroy(); });
      });
      s.on('tlsClientError', (err) => log.debug({ err: err.message }, 'fake FCM: TLS handshake failed'));
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(o.port, o.host, () => resolve()); });
      server = s;
      port = (s.address() as AddressInfo).port;
    },
    async stop(): Promise<void> {
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
    },
  };
}
