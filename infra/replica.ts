/**
 * A streaming hot standby of the local PostgreSQL on this machine — the read replica that reports use —
 * so reports are developed and tested against real replication, lag included (in docker-compose it is the
 * `pg-replica` service). `replicaUp` makes one with pg_basebackup from a physical replication slot unless it
 * already answers; `replicaStop` / `replicaStart` let a test take it away and bring it back; `replicaDown`
 * stops it and drops the slot, so the primary does not keep WAL for a standby that is gone.
 *
 * It runs as the `postgres` system user (the server refuses to run as root) from a directory of that user's
 * (`/var/lib/postgresql/stam-replica-<port>`: a checkout may sit where that user cannot enter), or, when this
 * process is not root, from the checkout's `.data/pg-replica`. It has a configuration of its own: Debian keeps
 * postgresql.conf outside the data directory, so the copy has none.
 * Replication from 127.0.0.1 must be allowed on the primary; on a machine whose local connections are trusted
 * (as this kind is), a matching `host replication` line is added to its pg_hba.conf and reloaded.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from '../platform/index.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

export interface ReplicaOptions {
  /** The primary (DATABASE_URL); the replica serves the same databases on `port`. */
  primaryUrl: string;
  port: number;
  dataDir?: string;
  slot?: string;
}

const dataDirOf = (o: ReplicaOptions) =>
  o.dataDir ?? (process.getuid?.() === 0 ? `/var/lib/postgresql/stam-replica-${o.port}` : `${repo}.data/pg-replica`);
/**
 * The data directory of the standby last seen answering on a port: one made by another checkout of the
 * project may already serve it, and stopping and starting must act on that one, not on a copy of our own.
 */
const servedFrom = new Map<number, string>();
const dirOf = (o: ReplicaOptions) => servedFrom.get(o.port) ?? dataDirOf(o);
const slotOf = (o: ReplicaOptions) => o.slot ?? 'stam_replica';

/** DATABASE_URL with the replica's port: the URL reports use (DATABASE_REPLICA_URL) for the local replica. */
export function replicaUrl(primaryUrl: string, port: number): string {
  const u = new URL(primaryUrl);
  u.port = String(port);
  return u.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** The maintenance database of a server URL. */
function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

/** True when a standby answers on the replica's port. */
export async function replicaAnswers(o: ReplicaOptions): Promise<boolean> {
  try {
    const [r] = await query<{ standby: boolean }>(adminUrl(replicaUrl(o.primaryUrl, o.port)), 'SELECT pg_is_in_recovery() AS standby');
    return r?.standby === true;
  } catch {
    return false;
  }
}

/** The data directory of the standby answering on the replica's port, or null when none answers. */
async function answeringDataDir(o: ReplicaOptions): Promise<string | null> {
  try {
    const [r] = await query<{ standby: boolean; dir: string }>(adminUrl(replicaUrl(o.primaryUrl, o.port)),
      "SELECT pg_is_in_recovery() AS standby, current_setting('data_directory') AS dir");
    return r?.standby === true ? r.dir : null;
  } catch {
    return null;
  }
}

/** Runs a PostgreSQL program as the postgres system user (directly when this process is not root). */
function asPostgres(bin: string, args: string[]): string {
  const [cmd, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function binDir(primaryAdmin: string): Promise<string> {
  const [v] = await query<{ server_version_num: string }>(primaryAdmin, 'SHOW server_version_num');
  const major = Math.floor(Number(v?.server_version_num) / 10_000);
  const dir = `/usr/lib/postgresql/${major}/bin`;
  if (!existsSync(`${dir}/pg_basebackup`)) throw new Error(`PostgreSQL ${major} programs not found in ${dir} (apt-get install postgresql-${major})`);
  return dir;
}

/** Lets the primary accept replication connections from 127.0.0.1 when its local connections are trusted anyway. */
async function allowReplication(primaryAdmin: string, log: Logger): Promise<void> {
  const rules = await query<{ database: string[]; address: string | null; auth_method: string; type: string }>(
    primaryAdmin, 'SELECT type, database, address, auth_method FROM pg_hba_file_rules WHERE error IS NULL');
  const replication = rules.some((r) => r.type === 'host' && r.database.includes('replication') && (r.address === '127.0.0.1' || r.address === 'all'));
  if (replication) return;
  const trusted = rules.some((r) => r.type === 'host' && r.database.includes('all') && r.address === '127.0.0.1' && r.auth_method === 'trust');
  if (!trusted) throw new Error('the primary does not allow replication from 127.0.0.1: add a `host replication` line to its pg_hba.conf');
  const [hba] = await query<{ hba_file: string }>(primaryAdmin, 'SHOW hba_file');
  execFileSync('sh', ['-c', `printf '%s\\n' '# stam-replacer: the local read replica (stam stack up --replica)' 'host replication all 127.0.0.1/32 trust' >> "$1"`, 'sh', hba!.hba_file]);
  await query(primaryAdmin, 'SELECT pg_reload_conf()');
  log.info({ hba: hba!.hba_file }, 'primary: replication from 127.0.0.1 allowed (trust, as its other local connections)');
}

/** A standby must allow at least as much as its primary of these, or recovery stops. */
const MATCH_PRIMARY = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];

async function writeStandbyConfig(dir: string, port: number, primaryAdmin: string): Promise<void> {
  const settings = await query<{ name: string; setting: string }>(primaryAdmin, 'SELECT name, setting FROM pg_settings WHERE name = ANY($1)', [MATCH_PRIMARY]);
  writeFileSync(`${dir}/postgresql.conf`, [
    '# The local read replica of stam-replacer (infra/replica.ts); primary_conninfo and the slot are in postgresql.auto.conf.',
    `port = ${port}`, "listen_addresses = '127.0.0.1'", "unix_socket_directories = '/var/run/postgresql'",
    'hot_standby = on', 'hot_standby_feedback = on', 'shared_buffers = 64MB', 'max_standby_streaming_delay = 30s', 'log_min_messages = warning',
    ...settings.map((s) => `${s.name} = ${s.setting}`), '',
  ].join('\n'));
  writeFileSync(`${dir}/pg_hba.conf`, 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  execFileSync('chown', ['postgres:postgres', `${dir}/postgresql.conf`, `${dir}/pg_hba.conf`]);
}

/**
 * Makes sure a hot standby of the primary answers on `port`: started from an earlier copy when that one
 * still catches up, else copied anew with pg_basebackup from the replication slot. Returns its URL.
 */
export async function replicaUp(o: ReplicaOptions, log: Logger): Promise<string> {
  const url = replicaUrl(o.primaryUrl, o.port);
  const serving = await answeringDataDir(o);
  if (serving) {
    servedFrom.set(o.port, serving);
    return url;
  }
  const primaryAdmin = adminUrl(o.primaryUrl);
  const bin = await binDir(primaryAdmin);
  const dir = dataDirOf(o);
  const slot = slotOf(o);
  if (existsSync(`${dir}/standby.signal`)) {
    try {
      await replicaStart(o);
      return url;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the earlier replica copy did not start; copying the primary again');
      try { asPostgres(`${bin}/pg_ctl`, ['-D', dir, 'stop', '-m', 'immediate']); } catch { /* not running */ }
    }
  }
  await allowReplication(primaryAdmin, log);
  await query(primaryAdmin, `SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, [slot]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  chmodSync(dir, 0o700);
  const p = new URL(o.primaryUrl);
  const started = Date.now();
  asPostgres(`${bin}/pg_basebackup`, ['-h', p.hostname, '-p', p.port || '5432', '-U', decodeURIComponent(p.username || 'postgres'), '-D', dir, '-X', 'stream', '-S', slot, '-R', '-c', 'fast']);
  await writeStandbyConfig(dir, o.port, primaryAdmin);
  await replicaStart(o);
  log.info({ port: o.port, dir, copiedMs: Date.now() - started }, 'read replica streaming from the primary');
  return url;
}

/** Starts the replica from its data directory and waits until it answers as a standby. */
export async function replicaStart(o: ReplicaOptions): Promise<void> {
  const dir = dirOf(o);
  const bin = await binDir(adminUrl(o.primaryUrl));
  // On one machine the replica shares the cores with the primary: at a lower CPU priority a heavy report
  // yields to the alarm pipeline, as it would on a host of its own.
  asPostgres('nice', ['-n', '10', `${bin}/pg_ctl`, '-D', dir, '-l', `${dir}/replica.log`, '-w', '-t', '60', 'start']);
  for (let i = 0; i < 120; i++) {
    if (await replicaAnswers(o)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the replica in ${dir} started but does not answer as a standby on port ${o.port}; see ${dir}/replica.log`);
}

/** Stops the replica (fast shutdown); its copy stays for the next start. */
export async function replicaStop(o: ReplicaOptions): Promise<void> {
  const serving = await answeringDataDir(o);
  if (serving) servedFrom.set(o.port, serving);
  const dir = dirOf(o);
  if (!existsSync(`${dir}/postmaster.pid`)) return;
  asPostgres(`${await binDir(adminUrl(o.primaryUrl))}/pg_ctl`, ['-D', dir, '-w', 'stop', '-m', 'fast']);
}

/** Stops the replica and drops its slot (and copy): nothing keeps WAL on the primary for it any more. */
export async function replicaDown(o: ReplicaOptions, log: Logger): Promise<void> {
  const dir = dataDirOf(o);
  if (!existsSync(dir)) return;
  await replicaStop(o);
  await query(adminUrl(o.primaryUrl), 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slotOf(o)]);
  rmSync(dir, { recursive: true, force: true });
  log.info({ dir }, 'read replica stopped and its slot dropped');
}
