import { StamError, type Pool, type PoolClient } from '../platform/index.ts';

// What the stores share: partial updates of a validated body, the object a record belongs to, and
// constraint violations turned into client errors.

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

/** PostgreSQL unique/foreign-key/check violations as client errors with a readable message. */
export function mapDbError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code === '23505') return new StamError('E_CONFLICT', `already exists (${e.constraint ?? 'unique'})`, { cause: err });
  if (e.code === '23503') return new StamError('E_VALIDATION', `refers to a record that does not exist (${e.constraint ?? 'foreign key'})`, { cause: err });
  if (e.code === '23514') return new StamError('E_VALIDATION', `value out of range (${e.constraint ?? 'check'})`, { cause: err });
  return err;
}

/** `p`, with a constraint violation rejected as the client error mapDbError makes of it. */
export const clientErrors = <T>(p: Promise<T>): Promise<T> => p.catch((err: unknown) => { throw mapDbError(err); });
