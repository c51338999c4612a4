import { SEALED, decryptSecret, encryptSecret, inTransaction, writeAudit, type AuditActor, type Pool, type SecretBox } from '../platform/index.ts';
import { clientErrors, objectIdOf, updateColumns } from './crud.ts';

export interface SensorFields {
  object_id: number; vendor: 'efento' | 'blulog' | 'other'; sender: string; sensor_ref: string; name: string;
  /** SMS intake (migration 009): the template tried first, other names in SMS texts. */
  template?: string | null; aliases?: string[];
}
export type SensorRecord = { id: number } & SensorFields;

export interface RecorderFields { object_id: number; name: string; host: string; port: number; login: string; password: string }
/** A recorder as the API shows it: never its password. */
export type RecorderRecord = { id: number } & Omit<RecorderFields, 'password'>;

/** How one table of per-object devices is read and written. */
interface TableDef<C, U> {
  table: 'sensors' | 'recorders';
  /** Audit actions are `<noun>.create` / `<noun>.update`, the target type is the noun. */
  noun: string;
  select: string;
  insert: (b: C) => { columns: string[]; values: unknown[] };
  /** Columns an update may write, and the body as those columns (default: as it is). */
  columns: readonly string[];
  toColumns?: (b: U) => Record<string, unknown>;
}

/** list / read / create / update of one table of per-object devices; each change with its audit row. */
function deviceTable<R, C extends { object_id: number }, U>(pool: Pool, d: TableDef<C, U>) {
  return {
    /** Devices of one object (or all) within `scope` (null: all), by id. */
    async list(f: { objectId?: number | undefined; scope: number[] | null }): Promise<R[]> {
      const { rows } = await pool.query(`SELECT ${d.select} FROM ${d.table} WHERE ($1::bigint IS NULL OR object_id = $1) AND ($2::bigint[] IS NULL OR object_id = ANY($2)) ORDER BY id`,
        [f.objectId ?? null, f.scope]);
      return rows as R[];
    },

    async get(id: number): Promise<R | undefined> {
      return (await pool.query(`SELECT ${d.select} FROM ${d.table} WHERE id = $1`, [id])).rows[0] as R | undefined;
    },

    /** The object a device belongs to, for scope checks; undefined when there is no such device. */
    objectIdOf(id: number): Promise<number | undefined> {
      return objectIdOf(pool, d.table, id);
    },

    /** The new device's id. */
    create(b: C, by: AuditActor): Promise<number> {
      const { columns, values } = d.insert(b);
      return inTransaction(pool, async (db) => {
        const { rows } = await clientErrors(db.query<{ id: number }>(
          `INSERT INTO ${d.table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`, values,
        ));
        await writeAudit(db, { ...by, action: `${d.noun}.create`, targetType: d.noun, targetId: rows[0]!.id, details: { object_id: b.object_id } });
        return rows[0]!.id;
      });
    },

    /** Writes the given fields; false when there is no such device. */
    update(id: number, b: U, by: AuditActor): Promise<boolean> {
      return inTransaction(pool, async (db) => {
        const values = d.toColumns ? d.toColumns(b) : b as Record<string, unknown>;
        const { found, changed } = await clientErrors(updateColumns(db, d.table, id, values, d.columns, false));
        if (found) await writeAudit(db, { ...by, action: `${d.noun}.update`, targetType: d.noun, targetId: id, details: { changed: changed.map((c) => c.replace(/_enc$/, '')) } });
        return found;
      });
    },
  };
}

export type DeviceTable<R, C extends { object_id: number }, U> = ReturnType<typeof deviceTable<R, C, U>>;

/** A recorder's login; the password is opened only when asked for. */
export interface RecorderCredentials { id: number; object_id: number; host: string; port: number; login: string; openPassword(): string }

/**
 * Sensors and video recorders of the protected sites. A recorder's password is sealed here (with
 * `secrets`, or the process-wide ring) and only `recorderCredentials` opens it.
 */
export function createDeviceStore(deps: { pool: Pool; secrets?: SecretBox | undefined }) {
  const { pool } = deps;
  const where = SEALED.recorderPassword;
  const seal = (plain: string): Buffer => (deps.secrets ? deps.secrets.encrypt(plain, where) : encryptSecret(plain, where));
  const open = (sealed: Buffer): string => (deps.secrets ? deps.secrets.decrypt(sealed, where) : decryptSecret(sealed, where));

  const sensors: DeviceTable<SensorRecord, SensorFields, Partial<SensorFields>> = deviceTable(pool, {
    table: 'sensors', noun: 'sensor', select: 'id, object_id, vendor, sender, sensor_ref, name, template, aliases',
    columns: ['object_id', 'vendor', 'sender', 'sensor_ref', 'name', 'template', 'aliases'],
    insert: (b: SensorFields) => ({
      columns: ['object_id', 'vendor', 'sender', 'sensor_ref', 'name', 'template', 'aliases'],
      values: [b.object_id, b.vendor, b.sender, b.sensor_ref, b.name, b.template ?? null, b.aliases ?? []],
    }),
  });

  const recorders: DeviceTable<RecorderRecord, RecorderFields, Partial<RecorderFields>> = deviceTable(pool, {
    table: 'recorders', noun: 'recorder', select: 'id, object_id, name, host, port, login', columns: ['object_id', 'name', 'host', 'port', 'login', 'password_enc'],
    insert: (b: RecorderFields) => ({ columns: ['object_id', 'name', 'host', 'port', 'login', 'password_enc'], values: [b.object_id, b.name, b.host, b.port, b.login, seal(b.password)] }),
    toColumns: (b: Partial<RecorderFields>) => ({ ...b, password: undefined, password_enc: b.password === undefined ? undefined : seal(b.password) }),
  });

  return {
    sensors,
    recorders,
    async recorderCredentials(id: number): Promise<RecorderCredentials | undefined> {
      const { rows } = await pool.query<{ id: number; object_id: number; host: string; port: number; login: string; password_enc: Buffer }>(
        'SELECT id, object_id, host, port, login, password_enc FROM recorders WHERE id = $1', [id]);
      const r = rows[0];
      if (!r) return undefined;
      const { password_enc: sealed, ...login } = r;
      return { ...login, openPassword: () => open(sealed) };
    },
  };
}

export type DeviceStore = ReturnType<typeof createDeviceStore>;
