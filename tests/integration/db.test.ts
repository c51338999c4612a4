import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPool, inTransaction, withClient, type Pool } from '../../platform/index.ts';
import { adminUrl } from '../helpers/env.ts';

describe('pool clients losing their connection while checked out', () => {
  let pool: Pool;
  let killer: pg.Client;

  beforeAll(async () => {
    pool = createPool(adminUrl(), { max: 1, applicationName: 'stam-test-db-loss' });
    killer = new pg.Client({ connectionString: adminUrl() });
    await killer.connect();
  });

  afterAll(async () => {
    await pool?.end();
    await killer?.end();
  });

  async function terminate(pid: number): Promise<void> {
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    // Let the termination notice and the socket close arrive while no query is running on the client:
    // without a listener of its own, that 'error' event is an uncaught exception (vitest fails the run).
    await new Promise((r) => setTimeout(r, 300));
  }

  it('is an error for the caller, and the broken client is destroyed instead of handed out again', async () => {
    let firstPid = 0;
    await expect(withClient(pool, async (c) => {
      firstPid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await terminate(firstPid);
      await c.query('SELECT 1');
    })).rejects.toThrow();
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(rows[0]!.pid).not.toBe(firstPid);
  });

  it('inside a transaction: the caller sees the error, the next transaction runs on a fresh connection', async () => {
    await expect(inTransaction(pool, async (c) => {
      await terminate((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
      await c.query('SELECT 1');
    })).rejects.toThrow();
    await expect(inTransaction(pool, async (c) => (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one)).resolves.toBe(1);
  });
});
