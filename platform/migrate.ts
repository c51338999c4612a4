import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { StamError } from './errors.ts';
import type { Logger } from './logger.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const LOCK_KEY = 7_094_001; // pg_advisory_lock key: two processes never migrate at once

export interface MigrationFile { version: number; name: string; sql: string; checksum: string }

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: MigrationFile[] = [];
  for (const file of files) {
    const m = /^(\d{3,})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new StamError('E_MIGRATION', `migration file ${file} must be named NNN_name.sql`);
    const sql = await readFile(`${dir}${file}`, 'utf8');
    out.push({ version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  const versions = out.map((f) => f.version);
  if (new Set(versions).size !== versions.length) throw new StamError('E_MIGRATION', 'two migrations share a version number');
  return out;
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock. An applied migration
 * whose file changed afterwards is an error: migrations are append-only.
 */
export async function migrate(url: string, log: Logger, dir?: string): Promise<{ applied: string[] }> {
  const files = await readMigrations(dir);
  const client = new pg.Client({ connectionString: url, application_name: 'stam-migrate' });
  // A connection lost between two statements is reported by the next one; without a listener it would
  // be an uncaught 'error' event instead of a migration error.
  client.on('error', (err) => log.warn({ err: err.message }, 'migration connection lost'));
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const f of files) {
      const prior = done.get(f.version);
      if (prior) {
        if (prior.checksum !== f.checksum) {
          throw new StamError('E_MIGRATION', `migration ${f.version}_${f.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(f.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [f.version, f.name, f.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new StamError('E_MIGRATION', `migration ${f.version}_${f.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(`${f.version}_${f.name}`);
      log.info({ migration: `${f.version}_${f.name}` }, 'migration applied');
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
  return { applied };
}
