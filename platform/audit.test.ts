import { describe, expect, it } from 'vitest';
import { auditInsertSelect, writeAudit, type Pool } from './index.ts';

const COLUMNS = '(user_id, username, action, target_type, target_id, request_id, ip, details)';

/** A pool that records what it was asked instead of asking PostgreSQL. */
function recordingPool() {
  const calls: { text: string; values: unknown[] }[] = [];
  const pool = { query: (text: string, values: unknown[]) => { calls.push({ text, values }); return Promise.resolve({ rows: [], rowCount: 1 }); } };
  return { pool: pool as unknown as Pool, calls };
}

describe('audit rows', () => {
  it('a row written alone names every column, in order, with absent fields as NULL and details as {}', async () => {
    const { pool, calls } = recordingPool();
    await writeAudit(pool, { action: 'user.passwd', username: 'cli', targetType: 'user', targetId: 42 });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.text).toBe(`INSERT INTO audit_log ${COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`);
    expect(calls[0]!.values).toEqual([null, 'cli', 'user.passwd', 'user', '42', null, null, {}]);
  });

  it('a row inside a larger statement takes an expression per field, typed NULLs for the rest', () => {
    const sql = auditInsertSelect({ username: `'system:' || $2`, action: `'command.executed'`, targetType: `'command'`, targetId: '$1::text' }, 's');
    expect(sql.replace(/\s+/g, ' ')).toBe(
      `INSERT INTO audit_log ${COLUMNS} SELECT NULL::bigint, 'system:' || $2, 'command.executed', 'command', $1::text, NULL::text, NULL::text, '{}'::jsonb FROM s`);
  });
});
