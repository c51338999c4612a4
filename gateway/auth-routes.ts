import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StamError, counter } from '../platform/index.ts';
import { createAuditStore } from './audit-store.ts';
import type { Authenticator } from './auth.ts';
import { Nullable, actorOf, errors, principalOf, type RouteDeps } from './http.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { issueRefreshToken, refreshError, revokeFamilyOf, rotateRefreshToken } from './tokens.ts';

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

interface UserRow { id: number; username: string; display_name: string; password_hash: string; role: string; disabled: boolean; locked_until: Date | null }

/** A hash to verify against when the user does not exist, so timing does not reveal which usernames exist. */
let dummyHash: Promise<string> | undefined;

/**
 * Login with throttling (per account: locked after N consecutive failures; per address: a window of
 * failures in Redis), refresh with rotation and reuse detection, logout. Access tokens are short-lived
 * RS256 JWTs; refresh tokens are opaque and stored hashed.
 */
export function authRoutes(app: FastifyInstance, deps: RouteDeps, auth: Authenticator): void {
  const { pool, redis, keys, settings: s } = deps;
  const audit = createAuditStore(pool);
  const addressKey = (ip: string) => `login:fail:${ip}`;

  async function addressBlockedFor(ip: string): Promise<number> {
    try {
      const [count, ttl] = await Promise.all([redis.get(addressKey(ip)), redis.ttl(addressKey(ip))]);
      return Number(count ?? 0) >= s.loginAddressMaxFailures ? Math.max(ttl, 1) : 0;
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'login address throttle unavailable (Redis); account locks still apply');
      return 0;
    }
  }

  async function countAddressFailure(ip: string): Promise<void> {
    await redis.multi().incr(addressKey(ip)).expire(addressKey(ip), s.loginAddressWindowS, 'NX').exec().catch(() => undefined);
  }

  async function tokensFor(user: { id: number; username: string; display_name: string; role: string }, family?: string) {
    const refresh = family === undefined ? await issueRefreshToken(pool, user.id, s.refreshTtlS) : undefined;
    const { token, expiresIn } = await keys.sign({ sub: String(user.id), role: user.role, name: user.username });
    return { token, expiresIn, refresh };
  }

  const reply = (user: { id: number; username: string; display_name: string; role: string }, access: { token: string; expiresIn: number }, refresh: { token: string; expiresAt: Date }) => ({
    access_token: access.token, token_type: 'Bearer' as const, expires_in: access.expiresIn, refresh_token: refresh.token,
    refresh_expires_at: refresh.expiresAt.toISOString(), user: { id: user.id, username: user.username, display_name: user.display_name, role: user.role },
  });

  app.post<{ Body: Static<typeof LoginBody> }>('/api/auth/login', {
    config: { public: true },
    schema: {
      tags: ['auth'], summary: 'Log in: a 15-minute access token and a rotating refresh token', body: LoginBody,
      response: { 200: TokenResponse, 400: Type.Ref('Error'), 401: Type.Ref('Error'), 423: Type.Ref('Error'), 429: Type.Ref('Error') },
    },
  }, async (req: FastifyRequest<{ Body: Static<typeof LoginBody> }>, res: FastifyReply) => {
    const { username, password } = req.body;
    const blockedS = await addressBlockedFor(req.ip);
    if (blockedS > 0) {
      m.logins.inc({ outcome: 'throttled' });
      await audit.record({ ...actorOf(req), action: 'auth.login_throttled', userId: null, username, details: { retry_after_s: blockedS } });
      void res.header('retry-after', String(blockedS));
      throw new StamError('E_AUTH_THROTTLED', `too many failed logins from this address; try again in ${Math.ceil(blockedS / 60)} min`, { details: { retry_after_s: blockedS } });
    }
    const { rows } = await pool.query<UserRow>(
      'SELECT id, username, display_name, password_hash, role, disabled, locked_until FROM users WHERE username = $1', [username]);
    const user = rows[0];
    if (user?.locked_until && user.locked_until.getTime() > Date.now()) {
      m.logins.inc({ outcome: 'locked' });
      await audit.record({ ...actorOf(req), action: 'auth.login_locked', userId: user.id, username });
      throw new StamError('E_AUTH_LOCKED', `account locked after too many failed logins until ${user.locked_until.toISOString()}`, { details: { locked_until: user.locked_until.toISOString() } });
    }
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const passwordOk = await verifyPassword(password, user?.password_hash ?? await dummyHash);
    if (!user || !passwordOk || user.disabled) {
      await countAddressFailure(req.ip);
      let lockedUntil: Date | null = null;
      if (user && !passwordOk) {
        const upd = await pool.query<{ locked_until: Date | null }>(
          // A lock that has run out starts the count afresh (otherwise the first mistake after it locks again).
          `UPDATE users SET failed_logins = CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END,
                  locked_until = CASE WHEN (CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END) >= $2 THEN now() + make_interval(secs => $3)
                                      WHEN locked_until <= now() THEN NULL ELSE locked_until END
            WHERE id = $1 RETURNING locked_until`, [user.id, s.loginMaxFailures, s.loginLockS]);
        lockedUntil = upd.rows[0]?.locked_until ?? null;
      }
      const locked = lockedUntil !== null && lockedUntil.getTime() > Date.now();
      m.logins.inc({ outcome: locked ? 'locked' : 'rejected' });
      await audit.record({ ...actorOf(req), action: 'auth.login_failed', userId: user?.id ?? null, username, details: { reason: !user ? 'unknown user' : user.disabled && passwordOk ? 'disabled' : 'password', locked } });
      if (locked) throw new StamError('E_AUTH_LOCKED', `account locked after too many failed logins until ${lockedUntil!.toISOString()}`, { details: { locked_until: lockedUntil!.toISOString() } });
      throw new StamError('E_AUTH_INVALID', 'wrong username or password');
    }
    await pool.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins > 0 OR locked_until IS NOT NULL)', [user.id]);
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
    const out = await rotateRefreshToken(pool, req.body.refresh_token, s.refreshTtlS);
    if (!out.ok) {
      if (out.reason === 'reused') await audit.record({ ...actorOf(req), action: 'auth.refresh_reused', userId: out.userId ?? null, username: null, details: { family: out.family, revoked: 'family' } });
      throw refreshError(out.reason);
    }
    const { rows } = await pool.query<UserRow>('SELECT id, username, display_name, role, disabled FROM users WHERE id = $1', [out.userId]);
    const user = rows[0];
    if (!user || user.disabled) {
      await pool.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1', [out.issued.family]);
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
    const revoked = await revokeFamilyOf(pool, req.body.refresh_token);
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
