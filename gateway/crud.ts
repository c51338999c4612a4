import type { Pool, PoolClient } from '../platform/index.ts';

/**
 * `UPDATE table SET <given columns> WHERE id = $1 RETURNING id` for a validated body: only keys listed in
 * `columns` are written (the route schema already refused others), undefined means "leave as is".
 */
export async function updateColumns(
  db: Pool | PoolClient, table: 'objects' | 'panels' | 'sensors' | 'recorders', id: number,
  values: Record<string, unknown>, columns: readonly string[], touch = true,
): Promise<{ found: boolean; changed: string[] }> {
  const changed = columns.filter((c) => values[c] !== undefined);
  const sets = changed.map((c, i) => `${c} = $${i + 2}`);
  if (touch) sets.push('updated_at = now()');
  if (sets.length === 0) {
    const r = await db.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
    return { found: (r.rowCount ?? 0) > 0, changed };
  }
  const r = await db.query(`UPDATE ${table} SET ${sets.join(', ')} WHERE id = $1`, [id, ...changed.map((c) => values[c])]);
  return { found: (r.rowCount ?? 0) > 0, changed };
}

/** Object id of a record, for scope checks; undefined when the record does not exist. */
export async function objectIdOf(db: Pool, table: 'panels' | 'sensors' | 'recorders', id: number): Promise<number | undefined> {
  const { rows } = await db.query<{ object_id: number }>(`SELECT object_id FROM ${table} WHERE id = $1`, [id]);
  return rows[0]?.object_id;
}
