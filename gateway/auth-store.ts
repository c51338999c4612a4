import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { inTransaction, type Logger, type Pool, type PoolClient, type Redis } from '../platform/index.ts';
import { loginFailuresKey } from './redis-keys.ts';

/** An account as login needs it. */
export interface LoginUser { id: number; username: string; display_name: string; password_hash: string; role: string; disabled: boolean; locked_until: Date | null }
/** An account as a refresh needs it. */
export type AccountUser = Pick<LoginUser, 'id' | 'username' | 'display_name' | 'role' | 'disabled'>;
/** What authorization reads of an account on each (uncached) request. */
export interface AccessRow { username: string; role: string; disabled: boolean; objects: number[] }

/** Only a hash of a refresh token is stored: a database leak does not hand out sessions. */
const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

export interface IssuedRefresh { token: string; family: string; expiresAt: Date }

export type RotateOutcome =
  | { ok: true; userId: number; issued: IssuedRefresh }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'reused'; userId?: number; family?: string };

async function issueRefreshToken(db: Pool | PoolClient, userId: number, ttlS: number, family: string = randomUUID()): Promise<IssuedRefresh> {
  const token = randomBytes(32).toString('base64url');
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
    [userId, family, hashToken(token), ttlS]);
  return { token, family, expiresAt: rows[0]!.expires_at };
}

/**
 * Accounts, their lock after consecutive failed logins, and refresh-token families: a refresh token is
 * opaque, stored hashed, spent on use and replaced by a successor in the same family.
 */
export function createAuthStore(pool: Pool) {
  return {
    async userByName(username: string): Promise<LoginUser | undefined> {
      const { rows } = await pool.query<LoginUser>(
        'SELECT id, username, display_name, password_hash, role, disabled, locked_until FROM users WHERE username = $1', [username]);
      return rows[0];
    },

    async userById(id: number): Promise<AccountUser | undefined> {
      return (await pool.query<AccountUser>('SELECT id, username, display_name, role, disabled FROM users WHERE id = $1', [id])).rows[0];
    },

    /** Role, disabled flag and assigned objects of an account; undefined when it does not exist. */
    async access(userId: number): Promise<AccessRow | undefined> {
      const { rows } = await pool.query<AccessRow>(
        `SELECT username, role, disabled, ARRAY(SELECT object_id FROM user_objects WHERE user_id = u.id) AS objects FROM users u WHERE id = $1`, [userId]);
      return rows[0];
    },

    /** Counts a wrong password; the `maxFailures`-th in a row locks the account for `lockS`. Returns the lock's end, if any. */
    async countFailedLogin(userId: number, maxFailures: number, lockS: number): Promise<Date | null> {
      const { rows } = await pool.query<{ locked_until: Date | null }>(
        // A lock that has run out starts the count afresh (otherwise the first mistake after it locks again).
        `UPDATE users SET failed_logins = CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END,
                locked_until = CASE WHEN (CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END) >= $2 THEN now() + make_interval(secs => $3)
                                    WHEN locked_until <= now() THEN NULL ELSE locked_until END
          WHERE id = $1 RETURNING locked_until`, [userId, maxFailures, lockS]);
      return rows[0]?.locked_until ?? null;
    },

    /** After a successful login: the failure count and any lock are gone. */
    async clearFailedLogins(userId: number): Promise<void> {
      await pool.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins > 0 OR locked_until IS NOT NULL)', [userId]);
    },

    /** A refresh token starting a new family (a login). */
    issueRefresh(userId: number, ttlS: number): Promise<IssuedRefresh> {
      return issueRefreshToken(pool, userId, ttlS);
    },

    /**
     * Spends a refresh token and issues its successor in the same family. Presenting a token that was
     * already spent means it was copied: the whole family (every token descended from that login) is
     * revoked, so the thief and the victim both have to log in again.
     */
    rotateRefresh(token: string, ttlS: number): Promise<RotateOutcome> {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<{ id: number; user_id: number; family: string; expired: boolean; spent: boolean; revoked: boolean }>(
          `SELECT id, user_id, family, expires_at <= now() AS expired, spent_at IS NOT NULL AS spent, revoked_at IS NOT NULL AS revoked
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [hashToken(token)]);
        const t = rows[0];
        if (!t) return { ok: false, reason: 'unknown' };
        if (t.revoked) return { ok: false, reason: 'revoked', userId: t.user_id, family: t.family };
        if (t.spent) {
          await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1 AND revoked_at IS NULL', [t.family]);
          return { ok: false, reason: 'reused', userId: t.user_id, family: t.family };
        }
        if (t.expired) return { ok: false, reason: 'expired', userId: t.user_id, family: t.family };
        await db.query('UPDATE refresh_tokens SET spent_at = now() WHERE id = $1', [t.id]);
        return { ok: true, userId: t.user_id, issued: await issueRefreshToken(db, t.user_id, ttlS, t.family) };
      });
    },

    /** Logout: the token's family ends. Unknown tokens are ignored (logout is idempotent). */
    async revokeFamilyOf(token: string): Promise<{ userId: number; family: string } | null> {
      const { rows } = await pool.query<{ user_id: number; family: string }>(
        `UPDATE refresh_tokens r SET revoked_at = now() FROM (SELECT family FROM refresh_tokens WHERE token_hash = $1) f
          WHERE r.family = f.family AND r.revoked_at IS NULL RETURNING r.user_id, r.family`, [hashToken(token)]);
      return rows[0] ? { userId: rows[0].user_id, family: rows[0].family } : null;
    },

    async revokeFamily(family: string): Promise<void> {
      await pool.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1', [family]);
    },
  };
}

export type AuthStore = ReturnType<typeof createAuthStore>;

/**
 * Failed logins per client address, counted in Redis over a window; an address past `maxFailures` is
 * throttled until the window ends. While Redis fails nobody is throttled (account locks still apply).
 */
export function createAddressThrottle(deps: { redis: Redis; log: Logger; maxFailures: number; windowS: number }) {
  const { redis } = deps;
  return {
    /** Seconds until `ip` may try again; 0 when it is not throttled. */
    async blockedFor(ip: string): Promise<number> {
      try {
        const [count, ttl] = await Promise.all([redis.get(loginFailuresKey(ip)), redis.ttl(loginFailuresKey(ip))]);
        return Number(count ?? 0) >= deps.maxFailures ? Math.max(ttl, 1) : 0;
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'login address throttle unavailable (Redis); account locks still apply');
        return 0;
      }
    },
    async countFailure(ip: string): Promise<void> {
      await redis.multi().incr(loginFailuresKey(ip)).expire(loginFailuresKey(ip), deps.windowS, 'NX').exec().catch(() => undefined);
    },
  };
}
