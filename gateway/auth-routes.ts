import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StamError, counter } from '../platform/index.ts';
import { createAuditStore } from './audit-store.ts';
import type { Authenticator } from './auth.ts';
import { createAddressThrottle, createAuthStore, type RotateOutcome } from './auth-store.ts';
import { Nullable, actorOf, errors, principalOf, type RouteDeps } from './http.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

const m = { logins: counter('stam_gateway_logins_total', 'login attempts', ['outcome']) };

const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }),
}, { additionalProperties: false });
const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 16, maxLength: 128 }) }, { additionalProperties: false });
const UserInfo = Type.Object({ id: Type.Integer(), username: Type.String(), display_name: Type.String(), role: Type.String() });
const TokenResponse = Type.Object({
  access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(),
  refresh_token: Type.String(), refresh_expires_at: Type.String(), user: UserInfo,
});

type SessionUser = { id: number; username: string; display_name: string; role: string };

/** Access token + refresh token of a login (password, passkey): one shape for every way in. */
export function sessionIssuer(deps: RouteDeps, users: ReturnType<typeof createAuthStore>) {
  const { keys, settings: s } = deps;
  async function tokensFor(user: SessionUser, family?: string) {
    const refresh = family === undefined ? await users.issueRefresh(user.id, s.refreshTtlS) : undefined;
    const { token, expiresIn } = await keys.sign({ sub: String(user.id), role: user.role, name: user.username });
    return { token, expiresIn, refresh };
  }
  const reply = (user: SessionUser, access: { token: string; expiresIn: number }, refresh: { token: string; expiresAt: Date }) => ({
    access_token: access.token, token_type: 'Bearer' as const, expires_in: access.expiresIn, refresh_token: refresh.token,
    refresh_expires_at: refresh.expiresAt.toISOString(), user: { id: user.id, username: user.username, display_name: user.display_name, role: user.role },
  });
  /** A new login of `user`: both tokens, ready to send. */
  async function login(user: SessionUser) {
    const t = await tokensFor(user);
    return { family: t.refresh!.family, body: reply(user, t, t.refresh!) };
  }
  return { tokensFor, reply, login };
}

export { TokenResponse };

/** A hash to verify against when the user does not exist, so timing does not reveal which usernames exist. */
let dummyHash: Promise<string> | undefined;

/**
 * Login with throttling (per account: locked after N consecutive failures; per address: a window of
 * failures in Redis), refresh with rotation and reuse detection, logout. Access tokens are short-lived
 * RS256 JWTs; refresh tokens are opaque and stored hashed.
 */
export function authRoutes(app: FastifyInstance, deps: RouteDeps, auth: Authenticator): void {
  const { keys, settings: s } = deps;
  const users = createAuthStore(deps.pool);
  const audit = createAuditStore(deps.pool);
  const throttle = createAddressThrottle({ redis: deps.redis, log: deps.log, maxFailures: s.loginAddressMaxFailures, windowS: s.loginAddressWindowS });

  const { tokensFor, reply } = sessionIssuer(deps, users);

  app.post<{ Body: Static<typeof LoginBody> }>('/api/auth/login', {
    config: { public: true },
    schema: {
      tags: ['auth'], summary: 'Log in: a 15-minute access token and a rotating refresh token', body: LoginBody,
      response: { 200: TokenResponse, 400: Type.Ref('Error'), 401: Type.Ref('Error'), 423: Type.Ref('Error'), 429: Type.Ref('Error') },
    },
  }, async (req: FastifyRequest<{ Body: Static<typeof LoginBody> }>, res: FastifyReply) => {
    const { username, password } = req.body;
    const blockedS = await throttle.blockedFor(req.ip);
    if (blockedS > 0) {
      m.logins.inc({ outcome: 'throttled' });
      await audit.record({ ...actorOf(req), action: 'auth.login_throttled', userId: null, username, details: { retry_after_s: blockedS } });
      void res.header('retry-after', String(blockedS));
      throw new StamError('E_AUTH_THROTTLED', `too many failed logins from this address; try again in ${Math.ceil(blockedS / 60)} min`, { details: { retry_after_s: blockedS } });
    }
    const user = await users.userByName(username);
    if (user?.locked_until && user.locked_until.getTime() > Date.now()) {
      m.logins.inc({ outcome: 'locked' });
      await audit.record({ ...actorOf(req), action: 'auth.login_locked', userId: user.id, username });
      throw new StamError('E_AUTH_LOCKED', `account locked after too many failed logins until ${user.locked_until.toISOString()}`, { details: { locked_until: user.locked_until.toISOString() } });
    }
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const passwordOk = await verifyPassword(password, user?.password_hash ?? await dummyHash);
    if (!user || !passwordOk || user.disabled) {
      await throttle.countFailure(req.ip);
      const lockedUntil = user && !passwordOk ? await users.countFailedLogin(user.id, s.loginMaxFailures, s.loginLockS) : null;
      const locked = lockedUntil !== null && lockedUntil.getTime() > Date.now();
      m.logins.inc({ outcome: locked ? 'locked' : 'rejected' });
      await audit.record({ ...actorOf(req), action: 'auth.login_failed', userId: user?.id ?? null, username, details: { reason: !user ? 'unknown user' : user.disabled && passwordOk ? 'disabled' : 'password', locked } });
      if (locked) throw new StamError('E_AUTH_LOCKED', `account locked after too many failed logins until ${lockedUntil.toISOString()}`, { details: { locked_until: lockedUntil.toISOString() } });
      throw new StamError('E_AUTH_INVALID', 'wrong username or password');
    }
    await users.clearFailedLogins(user.id);
    auth.invalidate(user.id);
    const t = await tokensFor(user);
    await audit.record({ ...actorOf(req), action: 'auth.login', userId: user.id, username, details: { family: t.refresh!.family } });
    m.logins.inc({ outcome: 'ok' });
    return reply(user, t, t.refresh!);
  });

  app.post<{ Body: Static<typeof RefreshBody> }>('/api/auth/refresh', {
    config: { public: true },
    schema: {
      tags: ['auth'], summary: 'Trade a refresh token for a new access token and a new refresh token (the old one is spent)',
      body: RefreshBody, response: { 200: TokenResponse, 400: Type.Ref('Error'), 401: Type.Ref('Error') },
    },
  }, async (req) => {
    const out = await users.rotateRefresh(req.body.refresh_token, s.refreshTtlS);
    if (!out.ok) {
      if (out.reason === 'reused') await audit.record({ ...actorOf(req), action: 'auth.refresh_reused', userId: out.userId ?? null, username: null, details: { family: out.family, revoked: 'family' } });
      throw refreshError(out.reason);
    }
    const user = await users.userById(out.userId);
    if (!user || user.disabled) {
      await users.revokeFamily(out.issued.family);
      throw refreshError('revoked');
    }
    auth.invalidate(user.id);
    const t = await tokensFor(user, out.issued.family);
    return reply(user, t, out.issued);
  });

  app.post<{ Body: Static<typeof RefreshBody> }>('/api/auth/logout', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'End the session: the refresh token and its whole family are revoked', body: RefreshBody, response: { 204: Type.Null(), 400: Type.Ref('Error') } },
  }, async (req, res) => {
    const revoked = await users.revokeFamilyOf(req.body.refresh_token);
    if (revoked) await audit.record({ ...actorOf(req), action: 'auth.logout', userId: revoked.userId, username: null, details: { family: revoked.family } });
    return res.status(204).send();
  });

  app.get('/api/me', {
    config: { permission: 'self' },
    schema: {
      tags: ['auth'], summary: 'Who am I: role and, for scoped roles, the objects assigned', security: [{ bearer: [] }],
      response: { 200: Type.Object({ id: Type.Integer(), username: Type.String(), role: Type.String(), objects: Nullable(Type.Array(Type.Integer())) }), ...errors() },
    },
  }, (req) => {
    const p = principalOf(req);
    return { id: p.id, username: p.username, role: p.role, objects: p.objects === null ? null : [...p.objects].sort((a, b) => a - b) };
  });

  app.get('/.well-known/jwks.json', { config: { public: true }, schema: { tags: ['auth'], summary: 'Public signing keys: the active one and the previous one' } }, () => keys.publicJwks());
}

function refreshError(reason: Exclude<RotateOutcome, { ok: true }>['reason']): StamError {
  const msg = {
    unknown: 'unknown refresh token',
    expired: 'refresh token expired: log in again',
    revoked: 'refresh token revoked: log in again',
    reused: 'refresh token already used: every session of this login was revoked, log in again',
  }[reason];
  return new StamError('E_AUTH_REFRESH', msg);
}
