import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../platform/index.ts';
import { codecFor, type AlarmUpdate } from '../../schemas/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, insertAlarm, loginInject, startGateway, type GatewayUnderTest, type TestUser } from '../helpers/gateway.ts';

interface AlarmItem { id: number; status: string; severity: string; object_id: number; version: number; owner: string | null; test: boolean }
interface Page { items: AlarmItem[]; next_cursor: string | null }

describe('operator alarm API', () => {
  let env: TestEnv;
  let pool: Pool;
  let gw: GatewayUnderTest;
  let objectA: number;
  let objectB: number;
  let ops: TestUser[];
  let sup: TestUser;
  const token = new Map<string, string>();
  const as = (u: TestUser) => token.get(u.username)!;

  beforeAll(async () => {
    env = await createTestEnv();
    pool = createPool(env.config.DATABASE_URL, { max: 25 });
    gw = await startGateway(env, { listen: true, pool });
    objectA = (await pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('A', 'Warehouse A') RETURNING id`)).rows[0]!.id;
    objectB = (await pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ('B', 'Shop B') RETURNING id`)).rows[0]!.id;
    ops = await Promise.all(Array.from({ length: 20 }, (_, i) => createUser(pool, `op${i + 1}`, 'OPERATOR')));
    sup = await createUser(pool, 'sup1', 'SUPERVISOR');
    for (const u of [...ops, sup]) token.set(u.username, (await loginInject(gw.app, u)).access_token);
  });
  afterAll(async () => {
    await gw?.close();
    await pool?.end();
    await env?.cleanup();
  });

  const act = (u: TestUser, id: number, action: string, body: Record<string, unknown>) =>
    call<{ alarm: AlarmUpdate; code?: string; message?: string; details?: { alarm: Record<string, unknown> } }>(gw.app, as(u), 'POST', `/api/alarms/${id}/${action}`, body);

  describe('listing', () => {
    const made: { id: number; status: string; severity: string; object: number; test: boolean; at: Date }[] = [];
    beforeAll(async () => {
      const statuses = ['NEW', 'CLAIMED', 'ACKNOWLEDGED', 'RESOLVED', 'CLOSED'];
      const severities = ['CRITICAL', 'WARNING', 'INFO'];
      const base = Date.UTC(2030, 0, 1);
      for (let i = 0; i < 45; i++) {
        const a = { status: statuses[i % 5]!, severity: severities[i % 3]!, object: i % 2 ? objectB : objectA, test: i % 9 === 0, at: new Date(base + i * 3_600_000) };
        made.push({ ...a, id: await insertAlarm(pool, a.object, { status: a.status, severity: a.severity, test: a.test, firstEventAt: a.at }) });
      }
    });
    const list = (qs: string) => call<Page>(gw.app, as(ops[0]!), 'GET', `/api/alarms?from=2030-01-01T00:00:00Z&${qs}`);
    const expected = (f: (a: (typeof made)[number]) => boolean) => made.filter(f).map((a) => a.id).sort((x, y) => y - x);
    const open = (a: (typeof made)[number]) => ['NEW', 'CLAIMED', 'ACKNOWLEDGED'].includes(a.status);

    it('defaults to open, non-test alarms, newest first', async () => {
      const r = await list('limit=500');
      expect(r.status).toBe(200);
      expect(r.body.items.map((a) => a.id)).toEqual(expected((a) => open(a) && !a.test));
    });

    it('filters by status, severity, object, time range and test flag', async () => {
      expect((await list('status=CLOSED&status=RESOLVED&limit=500')).body.items.map((a) => a.id)).toEqual(expected((a) => ['CLOSED', 'RESOLVED'].includes(a.status) && !a.test));
      expect((await list('severity=CRITICAL&limit=500')).body.items.map((a) => a.id)).toEqual(expected((a) => open(a) && a.severity === 'CRITICAL' && !a.test));
      expect((await list(`object_id=${objectB}&limit=500`)).body.items.map((a) => a.id)).toEqual(expected((a) => open(a) && a.object === objectB && !a.test));
      expect((await list('include_test=true&limit=500')).body.items.map((a) => a.id)).toEqual(expected(open));
      const to = new Date(Date.UTC(2030, 0, 1) + 10 * 3_600_000).toISOString();
      expect((await list(`to=${to}&include_test=true&status=NEW&status=CLAIMED&status=ACKNOWLEDGED&status=RESOLVED&status=CLOSED&limit=500`)).body.items.map((a) => a.id))
        .toEqual(expected((a) => a.at.getTime() < Date.parse(to)));
    });

    it('keyset pagination returns every alarm once, in order, across pages', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: { body: Page } = await list(`include_test=true&status=NEW&status=CLAIMED&status=ACKNOWLEDGED&status=RESOLVED&status=CLOSED&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...r.body.items.map((a) => a.id));
        cursor = r.body.next_cursor;
        pages++;
      } while (cursor !== null && pages < 20);
      expect(pages).toBe(5);
      expect(seen).toEqual(expected(() => true));
    });

    it('an alarm opened late from an old event tops the feed, but takes its time position in a time range; cursors stay with their order', async () => {
      const late = await insertAlarm(pool, objectA, { firstEventAt: new Date(Date.UTC(2030, 0, 1, 3, 30)) });
      try {
        const feed = await call<Page>(gw.app, as(ops[0]!), 'GET', '/api/alarms?limit=3');
        expect(feed.body.items[0]!.id).toBe(late);
        expect(feed.body.next_cursor).toMatch(/^\d+$/);
        const range = '&from=2030-01-01T00:00:00Z&to=2030-01-01T06:00:00Z&include_test=true&status=NEW&status=CLAIMED&status=ACKNOWLEDGED&status=RESOLVED&status=CLOSED';
        const p1 = await call<Page>(gw.app, as(ops[0]!), 'GET', `/api/alarms?limit=4${range}`);
        const p2 = await call<Page>(gw.app, as(ops[0]!), 'GET', `/api/alarms?limit=4${range}&cursor=${p1.body.next_cursor}`);
        expect(p2.body.next_cursor).toBeNull();
        const byTime = made.filter((a) => a.at.getTime() < Date.UTC(2030, 0, 1, 6)).map((a) => ({ id: a.id, t: a.at.getTime() }));
        byTime.push({ id: late, t: Date.UTC(2030, 0, 1, 3, 30) });
        byTime.sort((x, y) => y.t - x.t || y.id - x.id);
        expect([...p1.body.items, ...p2.body.items].map((a) => a.id)).toEqual(byTime.map((x) => x.id));
        expect(p1.body.next_cursor).toMatch(/^t\d+:\d+$/);
        const mixed = await call(gw.app, as(ops[0]!), 'GET', `/api/alarms?limit=3&cursor=${p1.body.next_cursor}`);
        expect(mixed).toMatchObject({ status: 400, body: { code: 'E_VALIDATION', message: expect.stringContaining('cursor') } });
      } finally {
        await pool.query('DELETE FROM alarms WHERE id = $1', [late]);
      }
    });

    it('bad filters are a 400 with the one error shape', async () => {
      const r = await list('status=OPEN');
      expect(r).toMatchObject({ status: 400, body: { code: 'E_VALIDATION', message: expect.stringContaining('status') } });
      expect((await list('limit=0')).status).toBe(400);
      expect((await list('nonsense=1')).status).toBe(400);
      expect((await list('cursor=drop%20table')).status).toBe(400);
    });
  });

  it('a full lifecycle: every transition bumps the version and writes alarm_actions, audit_log and an outbox row the relay can publish', async () => {
    const id = await insertAlarm(pool, objectA);
    const op = ops[1]!;
    const steps: [string, Record<string, unknown>, string][] = [
      ['claim', { version: 1, note: 'on it' }, 'CLAIMED'],
      ['ack', { version: 2 }, 'ACKNOWLEDGED'],
      ['resolve', { version: 3, resolution_code: 'FALSE_ALARM', note: 'cat in the hall' }, 'RESOLVED'],
      ['close', { version: 4 }, 'CLOSED'],
    ];
    const codec = codecFor('AlarmUpdate');
    for (const [action, body, status] of steps) {
      const r = await act(op, id, action, body);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.alarm).toMatchObject({ alarm_id: id, status, version: (body.version as number) + 1, owner: op.username, object_id: objectA });
      expect(() => codec.encode(r.body.alarm)).not.toThrow();
    }
    const actions = await pool.query('SELECT action, from_status, to_status, version, note, user_id FROM alarm_actions WHERE alarm_id = $1 ORDER BY id', [id]);
    expect(actions.rows).toEqual([
      { action: 'claim', from_status: 'NEW', to_status: 'CLAIMED', version: 2, note: 'on it', user_id: op.id },
      { action: 'ack', from_status: 'CLAIMED', to_status: 'ACKNOWLEDGED', version: 3, note: null, user_id: op.id },
      { action: 'resolve', from_status: 'ACKNOWLEDGED', to_status: 'RESOLVED', version: 4, note: 'cat in the hall', user_id: op.id },
      { action: 'close', from_status: 'RESOLVED', to_status: 'CLOSED', version: 5, note: null, user_id: op.id },
    ]);
    const audit = await pool.query<{ action: string; request_id: string }>(`SELECT action, request_id FROM audit_log WHERE target_type = 'alarm' AND target_id = $1 ORDER BY id`, [String(id)]);
    expect(audit.rows.map((r) => r.action)).toEqual(['alarm.claim', 'alarm.ack', 'alarm.resolve', 'alarm.close']);
    expect(audit.rows.every((r) => r.request_id.length > 0)).toBe(true);
    const outbox = await pool.query<{ payload: AlarmUpdate; kind: string; push: boolean }>(`SELECT kind, push, payload FROM outbox WHERE key = $1 ORDER BY id`, [String(id)]);
    expect(outbox.rows.map((r) => [r.kind, r.push, r.payload.version, r.payload.status])).toEqual([
      ['alarm.update', false, 2, 'CLAIMED'], ['alarm.update', false, 3, 'ACKNOWLEDGED'], ['alarm.update', false, 4, 'RESOLVED'], ['alarm.update', false, 5, 'CLOSED'],
    ]);
    const row = await pool.query('SELECT status, version, resolution_code FROM alarms WHERE id = $1', [id]);
    expect(row.rows[0]).toEqual({ status: 'CLOSED', version: 5, resolution_code: 'FALSE_ALARM' });
  });

  it('resolve needs a resolution code', async () => {
    const id = await insertAlarm(pool, objectA, { status: 'ACKNOWLEDGED' });
    const r = await act(ops[2]!, id, 'resolve', { version: 1 });
    expect(r).toMatchObject({ status: 400, body: { code: 'E_VALIDATION', message: expect.stringContaining('resolution_code') } });
  });

  it('a stale version is a 409 carrying the current status, version and owner', async () => {
    const id = await insertAlarm(pool, objectA);
    expect((await act(ops[3]!, id, 'claim', { version: 1 })).status).toBe(200);
    const r = await act(ops[4]!, id, 'claim', { version: 1 });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      code: 'E_ALARM_CONFLICT', message: expect.stringContaining('owner op4'),
      details: { alarm: { id, status: 'CLAIMED', version: 2, owner: 'op4', claimed_at: expect.any(String) } },
    });
  });

  it('only the owner acknowledges; another operator gets 409 naming the owner; a supervisor takes over and the status stays', async () => {
    const id = await insertAlarm(pool, objectA);
    await act(ops[5]!, id, 'claim', { version: 1 });
    const other = await act(ops[6]!, id, 'ack', { version: 2 });
    expect(other).toMatchObject({ status: 409, body: { code: 'E_ALARM_OWNER', details: { alarm: { owner: 'op6', status: 'CLAIMED' } } } });
    const take = await call<{ alarm: AlarmUpdate }>(gw.app, as(sup), 'POST', `/api/alarms/${id}/takeover`, { version: 2, note: 'op6 went home' });
    expect(take.status).toBe(200);
    expect(take.body.alarm).toMatchObject({ status: 'CLAIMED', owner: 'sup1', version: 3 });
    expect((await act(ops[5]!, id, 'ack', { version: 3 })).body).toMatchObject({ code: 'E_ALARM_OWNER' });
    const detail = await call<{ actions: { action: string; username: string }[]; object: { code: string }; owner: string }>(gw.app, as(sup), 'GET', `/api/alarms/${id}`);
    expect(detail.body).toMatchObject({ owner: 'sup1', object: { code: 'A' } });
    expect(detail.body.actions.map((a) => `${a.action}:${a.username}`)).toEqual(['claim:op6', 'takeover:sup1']);
  });

  it('20 operators claim the same alarm at once: exactly one wins, 19 get 409 naming the winner', async () => {
    const id = await insertAlarm(pool, objectB);
    const results = await Promise.all(ops.map(async (u) => {
      const res = await fetch(`${gw.base}/api/alarms/${id}/claim`, {
        method: 'POST', headers: { authorization: `Bearer ${as(u)}`, 'content-type': 'application/json' }, body: JSON.stringify({ version: 1 }),
      });
      return { user: u.username, status: res.status, body: (await res.json()) as { details?: { alarm: { owner: string } } } };
    }));
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const l of losers) expect(l.body.details?.alarm.owner).toBe(winners[0]!.user);
    const rows = await pool.query(`SELECT (SELECT count(*)::int FROM alarm_actions WHERE alarm_id = $1) AS actions, (SELECT count(*)::int FROM outbox WHERE key = $1::text) AS outbox,
      (SELECT username FROM users WHERE id = (SELECT claimed_by FROM alarms WHERE id = $1)) AS owner`, [id]);
    expect(rows.rows[0]).toEqual({ actions: 1, outbox: 1, owner: winners[0]!.user });
  });

  it('a transition is one transaction: when the outbox write fails, the alarm, its action and the audit row are not written', async () => {
    const id = await insertAlarm(pool, objectA);
    await pool.query(`CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox down'; END $$`);
    await pool.query(`CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION fail_outbox()`);
    try {
      const r = await act(ops[7]!, id, 'claim', { version: 1 });
      expect(r).toMatchObject({ status: 500, body: { code: 'E_INTERNAL' } });
    } finally {
      await pool.query('DROP TRIGGER fail_outbox ON outbox; DROP FUNCTION fail_outbox()');
    }
    const rows = await pool.query(`SELECT (SELECT status FROM alarms WHERE id = $1) AS status, (SELECT version FROM alarms WHERE id = $1) AS version,
      (SELECT count(*)::int FROM alarm_actions WHERE alarm_id = $1) AS actions, (SELECT count(*)::int FROM audit_log WHERE target_type = 'alarm' AND target_id = $1::text) AS audits`, [id]);
    expect(rows.rows[0]).toEqual({ status: 'NEW', version: 1, actions: 0, audits: 0 });
    expect((await act(ops[7]!, id, 'claim', { version: 1 })).status).toBe(200);
  });

  it('an unknown alarm is a 404', async () => {
    expect(await act(ops[0]!, 987654, 'claim', { version: 1 })).toMatchObject({ status: 404, body: { code: 'E_NOT_FOUND' } });
    expect((await call(gw.app, as(ops[0]!), 'GET', '/api/alarms/987654')).status).toBe(404);
  });
});
