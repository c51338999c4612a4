import { inTransaction, writeAudit, type AuditActor, type Pool } from '../platform/index.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

/** A registered passkey as its owner sees it (never the key material). */
export interface PasskeyRecord { id: number; label: string; created_at: string; last_used_at: string | null; transports: string[] }
/** What verifying a login with a passkey needs. */
export interface StoredCredential { id: number; user_id: number; credential_id: string; public_key: Buffer; counter: number; transports: string[] }

const ts = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export type PinOutcome = { ok: true } | { ok: false; reason: 'no_pin' | 'wrong' | 'cleared'; failures: number };

/** WebAuthn credentials and the quick-unlock PIN of each user. */
export function createPasskeyStore(pool: Pool) {
  return {
    async list(userId: number): Promise<PasskeyRecord[]> {
      const { rows } = await pool.query<PasskeyRecord>(
        `SELECT id, label, ${ts('created_at')} AS created_at, ${ts('last_used_at')} AS last_used_at, transports FROM webauthn_credentials WHERE user_id = $1 ORDER BY id`, [userId]);
      return rows;
    },

    async credentialIds(userId: number): Promise<{ credential_id: string; transports: string[] }[]> {
      return (await pool.query<{ credential_id: string; transports: string[] }>('SELECT credential_id, transports FROM webauthn_credentials WHERE user_id = $1', [userId])).rows;
    },

    async byCredentialId(credentialId: string): Promise<StoredCredential | undefined> {
      const { rows } = await pool.query<StoredCredential>(
        'SELECT id, user_id, credential_id, public_key, counter::int AS counter, transports FROM webauthn_credentials WHERE credential_id = $1', [credentialId]);
      return rows[0];
    },

    add(userId: number, c: { credentialId: string; publicKey: Uint8Array; counter: number; transports: string[]; label: string }, actor: AuditActor): Promise<number> {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<{ id: number }>(
          `INSERT INTO webauthn_credentials (user_id, credential_id, public_key, counter, transports, label) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
          [userId, c.credentialId, Buffer.from(c.publicKey), c.counter, c.transports, c.label]);
        await writeAudit(db, { ...actor, action: 'passkey.registered', targetType: 'passkey', targetId: rows[0]!.id, details: { label: c.label, transports: c.transports } });
        return rows[0]!.id;
      });
    },

    /** After a verified login: the authenticator's new signature counter. */
    async used(id: number, counter: number): Promise<void> {
      await pool.query('UPDATE webauthn_credentials SET counter = $2, last_used_at = now() WHERE id = $1', [id, counter]);
    },

    remove(id: number, userId: number, actor: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const { rowCount } = await db.query('DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2', [id, userId]);
        if (rowCount) await writeAudit(db, { ...actor, action: 'passkey.removed', targetType: 'passkey', targetId: id });
        return Boolean(rowCount);
      });
    },

    async setPin(userId: number, pin: string | null, actor: AuditActor): Promise<void> {
      const hash = pin === null ? null : await hashPassword(pin);
      await inTransaction(pool, async (db) => {
        await db.query('UPDATE users SET pin_hash = $2, pin_failures = 0, updated_at = now() WHERE id = $1', [userId, hash]);
        await writeAudit(db, { ...actor, action: pin === null ? 'pin.cleared' : 'pin.set', targetType: 'user', targetId: userId });
      });
    },

    /** Checks a PIN; the `maxFailures`-th wrong one in a row clears it (the password is needed then). */
    async checkPin(userId: number, pin: string, maxFailures: number): Promise<PinOutcome> {
      const { rows } = await pool.query<{ pin_hash: string | null; pin_failures: number }>('SELECT pin_hash, pin_failures FROM users WHERE id = $1', [userId]);
      const u = rows[0];
      if (!u?.pin_hash) return { ok: false, reason: 'no_pin', failures: u?.pin_failures ?? 0 };
      if (await verifyPassword(pin, u.pin_hash)) {
        if (u.pin_failures > 0) await pool.query('UPDATE users SET pin_failures = 0 WHERE id = $1', [userId]);
        return { ok: true };
      }
      const r = await pool.query<{ pin_failures: number; cleared: boolean }>(
        `UPDATE users SET pin_failures = pin_failures + 1, pin_hash = CASE WHEN pin_failures + 1 >= $2 THEN NULL ELSE pin_hash END
          WHERE id = $1 RETURNING pin_failures, pin_hash IS NULL AS cleared`, [userId, maxFailures]);
      const after = r.rows[0]!;
      return { ok: false, reason: after.cleared ? 'cleared' : 'wrong', failures: after.pin_failures };
    },
  };
}
