import { inTransaction, writeAudit, type AuditActor, type Pool } from '../platform/index.ts';

/** A phone as the API shows it: never its whole FCM token (the last characters tell two phones apart). */
export interface UserDevice {
  id: number;
  user_id: number;
  username: string;
  platform: string;
  app_version: string;
  token_hint: string;
  created_at: string;
  last_seen_at: string;
  quarantined: boolean;
  quarantine_reason: string | null;
}

export interface Registration { token: string; platform: 'android' | 'ios' | 'web'; app_version: string }

const SELECT = `d.id, d.user_id, u.username, d.platform, d.app_version, '…' || right(d.fcm_token, 6) AS token_hint,
  to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(d.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_seen_at,
  d.quarantined_at IS NOT NULL AS quarantined, d.quarantine_reason`;

/**
 * The phone-token registry (user_devices) behind /api/devices. A token registered again refreshes it
 * (last_seen_at: the 270-day staleness clock starts over, a quarantine is lifted); registered by another
 * user, it moves to that newest user. Every change writes its audit row in the same transaction.
 */
export function createUserDeviceStore(pool: Pool) {
  const one = async (id: number): Promise<UserDevice | undefined> =>
    (await pool.query<UserDevice>(`SELECT ${SELECT} FROM user_devices d JOIN users u ON u.id = d.user_id WHERE d.id = $1`, [id])).rows[0];

  return {
    /** Registers or refreshes `token` for `userId`; says whether it is new and whose it was before. */
    async register(userId: number, r: Registration, by: AuditActor): Promise<{ device: UserDevice; created: boolean }> {
      const out = await inTransaction(pool, async (db) => {
        const prev = await db.query<{ id: number; user_id: number }>('SELECT id, user_id FROM user_devices WHERE fcm_token = $1 FOR UPDATE', [r.token]);
        const { rows } = await db.query<{ id: number }>(
          `INSERT INTO user_devices (user_id, fcm_token, platform, app_version) VALUES ($1, $2, $3, $4)
           ON CONFLICT (fcm_token) DO UPDATE SET user_id = EXCLUDED.user_id, platform = EXCLUDED.platform, app_version = EXCLUDED.app_version,
             last_seen_at = now(), updated_at = now(), quarantined_at = NULL, quarantine_reason = NULL
           RETURNING id`,
          [userId, r.token, r.platform, r.app_version],
        );
        const id = rows[0]!.id;
        const before = prev.rows[0];
        const movedFrom = before && before.user_id !== userId ? before.user_id : null;
        await writeAudit(db, {
          ...by, action: movedFrom === null ? 'device.register' : 'device.move', targetType: 'user_device', targetId: id,
          details: { platform: r.platform, app_version: r.app_version, new: !before, ...(movedFrom === null ? {} : { from_user_id: movedFrom, to_user_id: userId }) },
        });
        return { id, created: !before };
      });
      return { device: (await one(out.id))!, created: out.created };
    },

    /** The devices of `userId`, or of everybody (null), newest first. */
    async list(userId: number | null): Promise<UserDevice[]> {
      const { rows } = await pool.query<UserDevice>(
        `SELECT ${SELECT} FROM user_devices d JOIN users u ON u.id = d.user_id WHERE ($1::bigint IS NULL OR d.user_id = $1) ORDER BY d.id DESC`, [userId]);
      return rows;
    },

    /** Removes a device of `userId` (any device when null); false when there is no such device of theirs. */
    remove(id: number, userId: number | null, by: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<{ user_id: number; platform: string }>(
          'DELETE FROM user_devices WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2) RETURNING user_id, platform', [id, userId]);
        const gone = rows[0];
        if (gone) await writeAudit(db, { ...by, action: 'device.remove', targetType: 'user_device', targetId: id, details: { user_id: gone.user_id, platform: gone.platform } });
        return gone !== undefined;
      });
    },
  };
}

export type UserDeviceStore = ReturnType<typeof createUserDeviceStore>;
