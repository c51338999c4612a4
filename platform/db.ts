import pg from 'pg';
import { StamError } from './errors.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// int8 (bigint ids, offsets) as JS numbers: ids and offsets stay far below 2^53 in this system.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** The NOTIFY channel that wakes the outbox relay: every transaction that writes outbox rows notifies it. */
export const OUTBOX_CHANNEL = 'stam_outbox';

/** `SELECT pg_notify(<outbox channel>, '')`, for the end of a transaction that wrote outbox rows. */
export const NOTIFY_OUTBOX_SQL = `SELECT pg_notify('${OUTBOX_CHANNEL}', '')`;

export function createPool(url: string, opts: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'stam',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 30_000,
  });
  // An idle client losing its connection (database restart) must not crash the process; the next query
  // fails and is retried by the caller's policy.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `fn` with a client checked out of the pool. While checked out, pg-pool's own error listener is
 * detached, so a connection dropped between two queries (database restart, pg_terminate_backend) would
 * be an uncaught 'error' event that kills the process. Here it is caught, and the broken client is
 * destroyed on release instead of going back to the pool.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    // Not getting a connection is always the database being away, whatever the server's error code.
    throw new StamError('E_DB_UNAVAILABLE', `database unavailable: ${(err as Error).message}`, { cause: err });
  }
  let lost: Error | undefined;
  const onError = (err: Error): void => { lost ??= err; };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    lost ??= isConnectionLoss(err) ? (err as Error) : undefined;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(lost ?? false);
  }
}

/** Runs `fn` in one transaction; rolls back on any error and rethrows it. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** An error after which the connection cannot be used again (as opposed to a failed statement). */
function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return (err as Error).message?.includes('Connection terminated') ?? false;
  // 57P01-57P03: admin shutdown / crash shutdown / cannot connect now; 08xxx: connection exceptions;
  // ECONNRESET, EPIPE, …: the socket itself.
  return code.startsWith('57P') || code.startsWith('08') || /^E[A-Z]+$/.test(code);
}

/** Creates the database named in `url` when it does not exist (development and tests). */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be [a-zA-Z0-9_]+`);
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created concurrently
    });
  } finally {
    await admin.end();
  }
}
