import { SEALED, encryptSecret, inTransaction, writeAudit, type AuditActor, type Pool, type PoolClient, type SecretBox, type SecretContext } from '../platform/index.ts';
import { clientErrors, objectIdOf, updateColumns } from './crud.ts';

export interface Named { number: number; name: string }

/** A panel as the API shows it: never its secrets, only whether they are set. */
export interface PanelRecord {
  id: number; object_id: number; name: string; host: string; port: number; model: string; enabled: boolean;
  has_integration_key: boolean; has_user_code: boolean; created_at: Date; updated_at: Date;
  zones: Named[]; partitions: Named[]; outputs: Named[];
}

const NAME_TABLES = ['zones', 'partitions', 'outputs'] as const;
type Names = Partial<Record<(typeof NAME_TABLES)[number], Named[]>>;

/** Secrets in plain text as a request gives them: null clears, undefined leaves as is. */
interface Secrets { integration_key?: string | null | undefined; user_code?: string | null | undefined }

export type PanelChanges = Partial<{ name: string; host: string; port: number; model: string; enabled: boolean }> & Secrets & Names;
export type PanelInput = { object_id: number; name: string; host: string; port: number; model?: string | undefined; enabled?: boolean | undefined } & Secrets & Names;

const PLAIN_COLUMNS = ['name', 'host', 'port', 'model', 'enabled'] as const;

const SELECT_PANEL = `SELECT p.id, p.object_id, p.name, p.host, p.port, p.model, p.enabled, p.created_at, p.updated_at,
  p.integration_key_enc IS NOT NULL AS has_integration_key, p.user_code_enc IS NOT NULL AS has_user_code,
  COALESCE((SELECT json_agg(json_build_object('number', number, 'name', name) ORDER BY number) FROM zones WHERE panel_id = p.id), '[]') AS zones,
  COALESCE((SELECT json_agg(json_build_object('number', number, 'name', name) ORDER BY number) FROM partitions WHERE panel_id = p.id), '[]') AS partitions,
  COALESCE((SELECT json_agg(json_build_object('number', number, 'name', name) ORDER BY number) FROM outputs WHERE panel_id = p.id), '[]') AS outputs
  FROM panels p`;

/** The zone, partition and output lists given replace the stored ones; returns which lists were given. */
async function replaceNames(db: PoolClient, panelId: number, names: Names): Promise<string[]> {
  const changed: string[] = [];
  for (const t of NAME_TABLES) {
    const list = names[t];
    if (list === undefined) continue;
    changed.push(t);
    await db.query(`DELETE FROM ${t} WHERE panel_id = $1`, [panelId]);
    await db.query(`INSERT INTO ${t} (panel_id, number, name) SELECT $1, n, name FROM unnest($2::int[], $3::text[]) AS x(n, name)`,
      [panelId, list.map((z) => z.number), list.map((z) => z.name)]);
  }
  return changed;
}

/** Which secrets a request set or cleared, for the audit log (never their values). */
function secretsTouched(b: Secrets): string[] {
  return (['integration_key', 'user_code'] as const).filter((k) => b[k] !== undefined).map((k) => `${k}:${b[k] === null ? 'cleared' : 'set'}`);
}

/**
 * Panels with their zone, partition and output names. The integration key and user code are sealed here
 * (with `secrets`, or the process-wide ring) and never read back; each change is written with its audit
 * row in one transaction; constraint violations of the request's values are client errors.
 */
export function createPanelStore(deps: { pool: Pool; secrets?: SecretBox | undefined }) {
  const { pool } = deps;
  const seal = (plain: string, where: SecretContext): Buffer => (deps.secrets ? deps.secrets.encrypt(plain, where) : encryptSecret(plain, where));
  const sealOrClear = (v: string | null | undefined, where: SecretContext) => (v === undefined ? undefined : v === null ? null : seal(v, where));

  return {
    /** Panels of one object (or all) within `scope` (null: all), by id. */
    async list(f: { objectId?: number | undefined; scope: number[] | null }): Promise<PanelRecord[]> {
      const { rows } = await pool.query<PanelRecord>(`${SELECT_PANEL} WHERE ($1::bigint IS NULL OR p.object_id = $1) AND ($2::bigint[] IS NULL OR p.object_id = ANY($2)) ORDER BY p.id`,
        [f.objectId ?? null, f.scope]);
      return rows;
    },

    async get(id: number): Promise<PanelRecord | undefined> {
      return (await pool.query<PanelRecord>(`${SELECT_PANEL} WHERE p.id = $1`, [id])).rows[0];
    },

    /** The object a panel belongs to, for scope checks; undefined when there is no such panel. */
    objectIdOf(id: number): Promise<number | undefined> {
      return objectIdOf(pool, 'panels', id);
    },

    async isEnabled(id: number): Promise<boolean> {
      const { rows } = await pool.query<{ enabled: boolean }>('SELECT enabled FROM panels WHERE id = $1', [id]);
      return rows[0]?.enabled === true;
    },

    /** The new panel's id. */
    create(b: PanelInput, by: AuditActor): Promise<number> {
      return inTransaction(pool, async (db) => {
        const { rows } = await clientErrors(db.query<{ id: number }>(
          `INSERT INTO panels (object_id, name, host, port, model, enabled, integration_key_enc, user_code_enc) VALUES ($1, $2, $3, $4, COALESCE($5, 'integra128'), COALESCE($6, true), $7, $8) RETURNING id`,
          [b.object_id, b.name, b.host, b.port, b.model ?? null, b.enabled ?? null, sealOrClear(b.integration_key, SEALED.panelIntegrationKey) ?? null, sealOrClear(b.user_code, SEALED.panelUserCode) ?? null],
        ));
        const panelId = rows[0]!.id;
        const names = await replaceNames(db, panelId, b);
        await writeAudit(db, { ...by, action: 'panel.create', targetType: 'panel', targetId: panelId, details: { object_id: b.object_id, names, secrets: secretsTouched(b) } });
        return panelId;
      });
    },

    /** Writes the given fields, secrets and name lists; false when there is no such panel. */
    update(id: number, b: PanelChanges, by: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const values = { ...b, integration_key_enc: sealOrClear(b.integration_key, SEALED.panelIntegrationKey), user_code_enc: sealOrClear(b.user_code, SEALED.panelUserCode) };
        const { found, changed } = await clientErrors(updateColumns(db, 'panels', id, values, [...PLAIN_COLUMNS, 'integration_key_enc', 'user_code_enc']));
        if (!found) return false;
        const names = await clientErrors(replaceNames(db, id, b));
        await writeAudit(db, { ...by, action: 'panel.update', targetType: 'panel', targetId: id, details: { changed: [...changed.filter((c) => !c.endsWith('_enc')), ...names], secrets: secretsTouched(b) } });
        return true;
      });
    },
  };
}

export type PanelStore = ReturnType<typeof createPanelStore>;
