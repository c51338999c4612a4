import type { FastifyRequest } from 'fastify';
import { StamError, type Pool } from '../platform/index.ts';
import { createAuthStore } from './auth-store.ts';
import type { Claims, KeyRing } from './keys.ts';
import { can, isRole, isScoped, type Principal } from './rbac.ts';

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

/**
 * Bearer-token authentication and the permission check, as one `onRequest` hook: a route's
 * `config.permission` decides; routes without one are public (login, JWKS, health) or ticket-based (/ws).
 * The role and object scope are read from the database (cached a few seconds), so disabling or demoting a
 * user takes effect within seconds, not when their token expires.
 */
export function createAuthenticator(deps: { pool: Pool; keys: KeyRing }) {
  const cache = new Map<number, { p: Principal | null; at: number }>();
  const users = createAuthStore(deps.pool);

  async function load(userId: number): Promise<Principal | null> {
    const hit = cache.get(userId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.p;
    const r = await users.access(userId);
    const p: Principal | null = r && !r.disabled && isRole(r.role)
      ? { id: userId, username: r.username, role: r.role, objects: isScoped(r.role) ? new Set(r.objects.map(Number)) : null }
      : null;
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(userId, { p, at: Date.now() });
    return p;
  }

  /** The principal behind verified claims, or E_AUTH_TOKEN when the account is gone or disabled. */
  async function principalFor(claims: Claims): Promise<Principal> {
    const id = Number(claims.sub);
    const p = Number.isSafeInteger(id) ? await load(id) : null;
    if (!p) throw new StamError('E_AUTH_TOKEN', 'account disabled or removed');
    return p;
  }

  async function authenticate(req: FastifyRequest): Promise<void> {
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ')) throw new StamError('E_AUTH_TOKEN', 'missing bearer token');
    req.user = await deps.keys.verify(h.slice(7));
    req.principal = await principalFor(req.user);
  }

  return {
    principalFor,
    authenticate,
    /** Forget a cached user (after login, disable, role change). */
    invalidate(userId: number): void { cache.delete(userId); },
    async onRequest(req: FastifyRequest): Promise<void> {
      const permission = req.routeOptions.config?.permission;
      if (!permission) return;
      await authenticate(req);
      if (!can(req.principal!.role, permission)) {
        throw new StamError('E_FORBIDDEN', `role ${req.principal!.role} may not do this (needs ${permission})`);
      }
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
