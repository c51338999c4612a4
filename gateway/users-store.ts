import { inTransaction, writeAudit, type AuditActor, type Pool } from '../platform/index.ts';
import { mapDbError } from './crud.ts';

/** An account as the admin screens show it (never its password or PIN hash). */
export interface UserRecord {
  id: number; username: string; display_name: string; role: string; disabled: boolean; locked_until: string | null;
  on_duty_until: string | null; has_pin: boolean; passkeys: number; objects: number[]; created_at: string;
}

const ts = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const SELECT_USER = `SELECT u.id, u.username, u.display_name, u.role, u.disabled, ${ts('u.locked_until')} AS locked_until,
  ${ts('u.on_duty_until')} AS on_duty_until, u.pin_hash IS NOT NULL AS has_pin,
  (SELECT count(*)::int FROM webauthn_credentials w WHERE w.user_id = u.id) AS passkeys,
  ARRAY(SELECT object_id::int FROM user_objects uo WHERE uo.user_id = u.id ORDER BY object_id) AS objects, ${ts('u.created_at')} AS created_at
  FROM users u`;

export interface UserCreate { username: string; display_name?: string | undefined; role: string; password_hash: string }
export interface UserChange { display_name?: string | undefined; role?: string | undefined; disabled?: boolean | undefined; password_hash?: string | undefined }

/** Accounts and their object assignments; every change with its audit row in one transaction. */
export function createUserStore(pool: Pool) {
  return {
    async list(): Promise<UserRecord[]> {
      return (await pool.query<UserRecord>(`${SELECT_USER} ORDER BY u.id`)).rows;
    },

    async get(id: number): Promise<UserRecord | undefined> {
      return (await pool.query<UserRecord>(`${SELECT_USER} WHERE u.id = $1`, [id])).rows[0];
    },

    create(u: UserCreate, actor: AuditActor): Promise<number> {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<{ id: number }>(
          'INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id',
          [u.username, u.display_name ?? u.username, u.password_hash, u.role]).catch((err: unknown) => { throw mapDbError(err); });
        const id = rows[0]!.id;
        await writeAudit(db, { ...actor, action: 'user.add', targetType: 'user', targetId: id, details: { username: u.username, role: u.role } });
        return id;
      });
    },

    /** False when there is no such user. A disabled account's sessions end (its refresh tokens are revoked). */
    update(id: number, c: UserChange, actor: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<{ id: number }>(
          `UPDATE users SET display_name = COALESCE($2, display_name), role = COALESCE($3, role), disabled = COALESCE($4, disabled),
                  password_hash = COALESCE($5, password_hash),
                  failed_logins = CASE WHEN $5::text IS NULL THEN failed_logins ELSE 0 END,
                  locked_until = CASE WHEN $5::text IS NULL THEN locked_until END, updated_at = now()
            WHERE id = $1 RETURNING id`,
          [id, c.display_name ?? null, c.role ?? null, c.disabled ?? null, c.password_hash ?? null]).catch((err: unknown) => { throw mapDbError(err); });
        if (!rows[0]) return false;
        if (c.disabled) await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [id]);
        const changed = Object.keys(c).filter((k) => c[k as keyof UserChange] !== undefined).map((k) => (k === 'password_hash' ? 'password' : k));
        await writeAudit(db, {
          ...actor, action: 'user.update', targetType: 'user', targetId: id,
          details: { changed, ...(c.role ? { role: c.role } : {}), ...(c.disabled !== undefined ? { disabled: c.disabled } : {}) },
        });
        return true;
      });
    },

    /** Replaces the user's object assignments (what scoped roles may see, and who gets pushes). */
    setObjects(id: number, objects: number[], actor: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<{ objects: number[] }>(
          'SELECT ARRAY(SELECT object_id::int FROM user_objects WHERE user_id = u.id ORDER BY 1) AS objects FROM users u WHERE id = $1 FOR UPDATE', [id]);
        if (!rows[0]) return false;
        const before = rows[0].objects;
        await db.query('DELETE FROM user_objects WHERE user_id = $1 AND NOT (object_id = ANY($2::bigint[]))', [id, objects]);
        await db.query('INSERT INTO user_objects (user_id, object_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING', [id, objects])
          .catch((err: unknown) => { throw mapDbError(err); });
        const after = [...new Set(objects)].sort((a, b) => a - b);
        await writeAudit(db, {
          ...actor, action: 'user.assign', targetType: 'user', targetId: id,
          details: { added: after.filter((o) => !before.includes(o)), removed: before.filter((o) => !after.includes(o)) },
        });
        return true;
      });
    },
  };
}
