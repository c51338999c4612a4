import { inTransaction, writeAudit, type AuditActor, type Logger, type Pool } from '../platform/index.ts';
import { clientErrors, updateColumns } from './crud.ts';

export interface ObjectMode { active: boolean; until: Date | null; since: Date | null; by: string | null; reason: string | null }

/** A protected site as the API shows it: its fields and both modes, with who switched them. */
export interface ObjectRecord {
  id: number; code: string; name: string; address: string; latitude: number | null; longitude: number | null; contacts: string; notes: string;
  service_mode: ObjectMode; test_mode: ObjectMode; created_at: Date; updated_at: Date;
}

export interface ObjectFields { code: string; name: string; address: string; latitude: number | null; longitude: number | null; contacts: string; notes: string }
export type ObjectInput = Pick<ObjectFields, 'code' | 'name'> & Partial<Omit<ObjectFields, 'code' | 'name'>>;

const OBJECT_COLUMNS = ['code', 'name', 'address', 'latitude', 'longitude', 'contacts', 'notes'] as const;

const SELECT_OBJECT = `SELECT o.id, o.code, o.name, o.address, o.latitude, o.longitude, o.contacts, o.notes, o.created_at, o.updated_at,
  json_build_object('active', o.service_mode_active, 'until', o.service_mode_until, 'since', o.service_mode_at, 'by', su.username, 'reason', o.service_mode_reason) AS service_mode,
  json_build_object('active', o.test_mode, 'until', o.test_mode_until, 'since', o.test_mode_at, 'by', tu.username, 'reason', o.test_mode_reason) AS test_mode
  FROM objects o LEFT JOIN users su ON su.id = o.service_mode_by LEFT JOIN users tu ON tu.id = o.test_mode_by`;

/** The two modes of a site, by the name the API uses for them, with their columns and audit action. */
export const MODES = {
  'service-mode': { active: 'service_mode_active', until: 'service_mode_until', by: 'service_mode_by', at: 'service_mode_at', reason: 'service_mode_reason', audit: 'object.service_mode' },
  'test-mode': { active: 'test_mode', until: 'test_mode_until', by: 'test_mode_by', at: 'test_mode_at', reason: 'test_mode_reason', audit: 'object.test_mode' },
} as const;
export type ModeName = keyof typeof MODES;

export interface ModeChange { active: boolean; until: string | null; reason: string | null }

/** Switches off modes whose time is up (any gateway instance may run it; each expiry is audited once). */
export async function sweepExpiredModes(pool: Pool, log: Logger): Promise<number> {
  let n = 0;
  for (const mode of Object.values(MODES)) {
    const { rows } = await pool.query<{ id: number; until: Date }>(
      `UPDATE objects SET ${mode.active} = false, updated_at = now() WHERE ${mode.active} AND ${mode.until} <= now() RETURNING id, ${mode.until} AS until`);
    for (const r of rows) {
      await writeAudit(pool, { action: `${mode.audit}.expired`, userId: null, username: 'system', targetType: 'object', targetId: r.id, details: { until: r.until.toISOString() } });
      log.info({ object: r.id, mode: mode.audit }, 'mode expired');
    }
    n += rows.length;
  }
  return n;
}

/** Protected sites: each change is written with its audit row in one transaction; constraint violations are client errors. */
export function createObjectStore(pool: Pool) {
  return {
    /** Sites in `scope` (null: all) whose code or name contains `q`, by id after `cursor`. */
    async list(f: { scope: number[] | null; q?: string | undefined; cursor?: number | undefined; limit: number }): Promise<ObjectRecord[]> {
      const like = f.q ? `%${f.q.replace(/[%_\\]/g, '\\$&')}%` : null;
      const { rows } = await pool.query<ObjectRecord>(
        `${SELECT_OBJECT} WHERE ($1::bigint[] IS NULL OR o.id = ANY($1)) AND ($2::text IS NULL OR o.code ILIKE $2 OR o.name ILIKE $2) AND o.id > $3 ORDER BY o.id LIMIT $4`,
        [f.scope, like, f.cursor ?? 0, f.limit]);
      return rows;
    },

    async get(id: number): Promise<ObjectRecord | undefined> {
      return (await pool.query<ObjectRecord>(`${SELECT_OBJECT} WHERE o.id = $1`, [id])).rows[0];
    },

    /** The new site's id. */
    create(o: ObjectInput, by: AuditActor): Promise<number> {
      return inTransaction(pool, async (db) => {
        const { rows } = await clientErrors(db.query<{ id: number }>('INSERT INTO objects (code, name, address, latitude, longitude, contacts, notes) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
          [o.code, o.name, o.address ?? '', o.latitude ?? null, o.longitude ?? null, o.contacts ?? '', o.notes ?? '']));
        await writeAudit(db, { ...by, action: 'object.create', targetType: 'object', targetId: rows[0]!.id, details: { code: o.code, name: o.name } });
        return rows[0]!.id;
      });
    },

    /** Writes the given fields (undefined: left as is); false when there is no such site. */
    update(id: number, changes: Partial<ObjectFields>, by: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const { found, changed } = await clientErrors(updateColumns(db, 'objects', id, changes, OBJECT_COLUMNS));
        if (found) await writeAudit(db, { ...by, action: 'object.update', targetType: 'object', targetId: id, details: { changed } });
        return found;
      });
    },

    /** Switches a mode on (until a time, with a reason) or off, recording who did it. */
    setMode(id: number, name: ModeName, m: ModeChange, by: AuditActor): Promise<void> {
      const mode = MODES[name];
      return inTransaction(pool, async (db) => {
        await db.query(
          `UPDATE objects SET ${mode.active} = $2, ${mode.until} = $3, ${mode.by} = $4, ${mode.at} = now(), ${mode.reason} = $5, updated_at = now() WHERE id = $1`,
          [id, m.active, m.active ? m.until : null, by.userId, m.reason]);
        await writeAudit(db, { ...by, action: `${mode.audit}_${m.active ? 'on' : 'off'}`, targetType: 'object', targetId: id, details: { until: m.active ? m.until : null, reason: m.reason } });
      });
    },
  };
}

export type ObjectStore = ReturnType<typeof createObjectStore>;
