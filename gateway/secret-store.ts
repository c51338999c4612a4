import { SEALED, inTransaction, type Pool, type SecretBox } from '../platform/index.ts';

/** Every column that holds a sealed secret. */
export const SEALED_COLUMNS = Object.values(SEALED).map((context) => {
  const [table, column] = context.split('.') as [string, string];
  return { table, column, context };
});

/**
 * Key rotation, second half: re-seals every stored secret that is not under the ring's active key (the
 * first half is putting the new key first in the ring). Row by row under a lock, in one transaction per
 * column, so a concurrent update is never overwritten with an older value. Returns how many moved.
 */
export async function rotateStoredSecrets(pool: Pool, box: SecretBox): Promise<Record<string, number>> {
  const moved: Record<string, number> = {};
  for (const { table, column, context } of SEALED_COLUMNS) {
    moved[`${table}.${column}`] = await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number; v: Buffer }>(`SELECT id, ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL ORDER BY id FOR UPDATE`);
      let n = 0;
      for (const r of rows) {
        if (!box.needsRotation(r.v, context)) continue;
        await db.query(`UPDATE ${table} SET ${column} = $2 WHERE id = $1`, [r.id, box.reencrypt(r.v, context)]);
        n++;
      }
      return n;
    });
  }
  return moved;
}
