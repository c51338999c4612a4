import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { StamError, inTransaction, type Pool, type PoolClient } from '../platform/index.ts';

/** Only a hash of a refresh token is stored: a database leak does not hand out sessions. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

export interface IssuedRefresh { token: string; family: string; expiresAt: Date }

export async function issueRefreshToken(db: Pool | PoolClient, userId: number, ttlS: number, family: string = randomUUID()): Promise<IssuedRefresh> {
  const token = randomBytes(32).toString('base64url');
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
    [userId, family, hashToken(token), ttlS]);
  return { token, family, expiresAt: rows[0]!.expires_at };
}

export type RotateOutcome =
  | { ok: true; userId: number; issued: IssuedRefresh }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'reused'; userId?: number; family?: string };

/**
 * Spends a refresh token and issues its successor in the same family. Presenting a token that was
 * already spent means it was copied: the whole family (every token descended from that login) is
 * revoked, so the thief and the victim both have to log in again.
 */
export async function rotateRefreshToken(pool: Pool, token: string, ttlS: number): Promise<RotateOutcome> {
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
}

/** Logout: the token's family ends. Unknown tokens are ignored (logout is idempotent). */
export async function revokeFamilyOf(pool: Pool, token: string): Promise<{ userId: number; family: string } | null> {
  const { rows } = await pool.query<{ user_id: number; family: string }>(
    `UPDATE refresh_tokens r SET revoked_at = now() FROM (SELECT family FROM refresh_tokens WHERE token_hash = $1) f
      WHERE r.family = f.family AND r.revoked_at IS NULL RETURNING r.user_id, r.family`, [hashToken(token)]);
  return rows[0] ? { userId: rows[0].user_id, family: rows[0].family } : null;
}

export function refreshError(reason: Exclude<RotateOutcome, { ok: true }>['reason']): StamError {
  const msg = {
    unknown: 'unknown refresh token',
    expired: 'refresh token expired: log in again',
    revoked: 'refresh token revoked: log in again',
    reused: 'refresh token already used: every session of this login was revoked, log in again',
  }[reason];
  return new StamError('E_AUTH_REFRESH', msg);
}
