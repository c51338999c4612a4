import { inTransaction, type Pool, type SecretBox } from '../platform/index.ts';

/** Every column that holds a sealed secret. */
export const SEALED_COLUMNS = [
  { table: 'panels', column: 'integration_key_enc' },
  { table: 'panels', column: 'user_code_enc' },
  { table: 'recorders', column: 'password_enc' },
] as const;

/**
 * Key rotation, second half: re-seals every stored secret that is not under the ring's active key (the
 * first half is putting the new key first in the ring). Row by row under a lock, in one transaction per
 * column, so a concurrent update is never overwritten with an older value. Returns how many moved.
 */
export async function rotateStoredSecrets(pool: Pool, box: SecretBox): Promise<Record<string, number>> {
  const moved: Record<string, number> = {};
  for (const { table, column } of SEALED_COLUMNS) {
    moved[`${table}.${column}`] = await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number; v: Buffer }>(`SELECT id, ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL ORDER BY id FOR UPDATE`);
      let n = 0;
      for (const r of rows) {
        if (!box.needsRotation(r.v)) continue;
        await db.query(`UPDATE ${table} SET ${column} = $2 WHERE id = $1`, [r.id, box.reencrypt(r.v)]);
        n++;
      }
      return n;
    });
  }
  return moved;
}
