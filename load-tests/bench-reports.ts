/**
 * `npm run bench:reports [-- --alarms 100000 --operators 20 --seconds 20 --think-ms 100]`
 *
 * Do heavy reports slow the operators? One `stam gateway` child process on a throw-away database holding
 * `--alarms` alarms with their claim/ack/resolve/close actions (90 days), with a streaming read replica of
 * it (`stam stack up --replica`). `--operators` operators page `GET /api/alarms` (each pausing `--think-ms`)
 * for `--seconds`: first alone, then while an analyst runs the heaviest reports back to back (response
 * times per hour, volumes per day, availability per panel over the 90 days) — on the replica, through the
 * reports' own pools. The operators' p95 of both phases is printed, and their ratio (target: within 10 %).
 */
import { parseArgs } from 'node:util';
import { createLogger, createPool } from '../platform/index.ts';
import { hashPassword } from '../gateway/index.ts';
import { stackReplicaUp } from '../infra/stack.ts';
import { closeHttp, http } from './http-client.ts';
import { msgIs, startRole } from './roles.ts';
import { createRunEnv } from './run-env.ts';

const a = parseArgs({ options: {
  alarms: { type: 'string', default: '100000' }, operators: { type: 'string', default: '20' }, seconds: { type: 'string', default: '20' }, 'think-ms': { type: 'string', default: '100' },
} }).values;
const N = { alarms: Number(a.alarms), operators: Number(a.operators), seconds: Number(a.seconds), think: Number(a['think-ms']) };
const OBJECTS = 500;
const log = createLogger('bench-reports', 'warn');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function q(values: number[], p: number): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
const fmt = (v: number[]) => `n=${v.length}  p50 ${q(v, 50).toFixed(2)}  p95 ${q(v, 95).toFixed(2)}  p99 ${q(v, 99).toFixed(2)} ms`;

const env = await createRunEnv({ name: 'brep', log, vars: { LOG_LEVEL: 'info', FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false', NODE_ENV: 'test' } });
let gateway: ReturnType<typeof startRole> | undefined;
try {
  const pool = env.pool;
  await pool.query(`INSERT INTO objects (code, name) SELECT 'OBJ-' || g, 'Site ' || g FROM generate_series(1, ${OBJECTS}) g`);
  await pool.query(`INSERT INTO panels (object_id, name, host, port) SELECT id, 'INTEGRA ' || id, '10.0.0.1', 7094 FROM objects`);
  const hash = await hashPassword('bench-password');
  await pool.query(`INSERT INTO users (username, display_name, password_hash, role) SELECT 'op' || g, 'Operator ' || g, $1, 'OPERATOR' FROM generate_series(1, $2::int) g`, [hash, N.operators]);
  await pool.query(`INSERT INTO users (username, display_name, password_hash, role) VALUES ('analyst', 'Analyst', $1, 'ANALYST')`, [hash]);
  // ~2% open (the operators' feed), the rest handled: claimed after 5–65 s, acknowledged, resolved, closed.
  await pool.query(`
    INSERT INTO alarms (object_id, panel_id, source, zone, bundle_key, category, severity, status, version, title, claimed_by, claimed_at,
                        event_count, first_event_at, last_event_at, created_at, resolution_code)
    SELECT o, o, 'satel', 1 + g % 8, 'b' || g, (ARRAY['intrusion','zone-violation','fire','tamper'])[1 + g % 4], (ARRAY['CRITICAL','WARNING','WARNING','INFO'])[1 + g % 4],
           CASE WHEN g > $1::int - 2000 THEN 'NEW' ELSE 'CLOSED' END, 1, 'Zone violated', CASE WHEN g > $1::int - 2000 THEN NULL ELSE 1 + g % $2::int END,
           NULL, 1, t, t, t, CASE WHEN g % 7 = 0 THEN 'FALSE_ALARM' END
      FROM (SELECT g, 1 + g % ${OBJECTS} AS o, now() - (($1::int - g) * interval '90 days' / $1::int) AS t FROM generate_series(1, $1::int) g) x`, [N.alarms, N.operators]);
  await pool.query(`
    INSERT INTO alarm_actions (alarm_id, user_id, action, to_status, version, created_at)
    SELECT a.id, a.claimed_by, s.action, s.to_status, s.v, a.created_at + (5 + a.id % 60) * interval '1 second' * s.k
      FROM alarms a CROSS JOIN (VALUES ('claim', 'CLAIMED', 2, 1), ('ack', 'ACKNOWLEDGED', 3, 2), ('resolve', 'RESOLVED', 4, 4), ('close', 'CLOSED', 5, 6)) AS s(action, to_status, v, k)
     WHERE a.status = 'CLOSED'`);
  await pool.query('ANALYZE');

  const replicaBase = await stackReplicaUp(env.config, log);
  const replicaUrl = new URL(replicaBase);
  replicaUrl.pathname = new URL(env.config.DATABASE_URL).pathname;
  const replica = createPool(replicaUrl.toString(), { max: 1 });
  for (let i = 0; ; i++) {
    const n = await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM alarm_actions').then((r) => r.rows[0]!.n).catch(() => -1);
    if (n > 0) break;
    if (i > 600) throw new Error('the replica never showed the seeded rows');
    await sleep(100);
  }
  await replica.end();

  gateway = startRole('gateway', { ...env.vars, DATABASE_REPLICA_URL: replicaUrl.toString() });
  const port = (await gateway.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'))).port as number;
  const base = `http://127.0.0.1:${port}`;
  const login = async (username: string) => (await http<{ access_token: string }>(base, 'POST', '/api/auth/login', undefined, { username, password: 'bench-password' })).body.access_token;
  const tokens = await Promise.all(Array.from({ length: N.operators }, (_, i) => login(`op${i + 1}`)));
  const analyst = await login('analyst');

  async function operators(seconds: number): Promise<number[]> {
    const samples: number[] = [];
    const until = performance.now() + seconds * 1000;
    await Promise.all(tokens.map(async (t) => {
      while (performance.now() < until) {
        const r = await http(base, 'GET', '/api/alarms?limit=50', t);
        if (r.status !== 200) throw new Error(`GET /api/alarms answered ${r.status}`);
        samples.push(r.ms);
        await sleep(N.think);
      }
    }));
    return samples;
  }
  const to = new Date().toISOString();
  const from = new Date(Date.now() - 91 * 86_400_000).toISOString();
  const heavy = [`/api/reports/response-times?from=${from}&to=${to}&group_by=hour`, `/api/reports/alarms?from=${from}&to=${to}&group_by=day`,
    `/api/reports/availability?from=${from}&to=${to}&group_by=panel`, `/api/reports/operators?from=${from}&to=${to}`];

  await operators(3); // warm-up: plans, pools, JIT
  const alone = await operators(N.seconds);
  let stop = false;
  const reportMs: number[] = [];
  const sources: Record<string, number> = {};
  const analystLoop = (async () => {
    for (let i = 0; !stop; i++) {
      const r = await http<{ source: string }>(base, 'GET', heavy[i % heavy.length]!, analyst);
      if (r.status !== 200) throw new Error(`report answered ${r.status}`);
      reportMs.push(r.ms);
      sources[r.body.source] = (sources[r.body.source] ?? 0) + 1;
    }
  })();
  const withReports = await operators(N.seconds);
  stop = true;
  await analystLoop;

  const ratio = q(withReports, 95) / q(alone, 95);
  console.log(`\nbench:reports — ${N.alarms} alarms with their actions (90 days), ${N.operators} operators pausing ${N.think} ms, ${N.seconds} s per phase; 2 cores shared by the primary, the replica, the gateway and this client`);
  console.log(`  GET /api/alarms alone           ${fmt(alone)}`);
  console.log(`  GET /api/alarms with reports    ${fmt(withReports)}`);
  console.log(`  p95 with / without reports      ${(ratio * 100).toFixed(1)} % (target ≤ 110 %)`);
  console.log(`  reports during the second phase ${reportMs.length} (answered by ${Object.entries(sources).map(([k, v]) => `${k}: ${v}`).join(', ')}), ${fmt(reportMs)}`);
} finally {
  closeHttp();
  await gateway?.stop();
  await env.cleanup();
}
