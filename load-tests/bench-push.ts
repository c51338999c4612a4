/**
 * `npm run bench:push [-- --paced 500 --rate 50 --burst 2000]`
 *
 * Push path as production runs it: alarms and their outbox rows are committed as the processor commits
 * them, `stam outbox-relay` publishes the push jobs to RabbitMQ (a vhost of its own), `stam notifier`
 * (real firebase-admin SDK, the project's own credential, HTTPS with the private CA through
 * NODE_EXTRA_CA_CERTS) sends each to three devices at the fake FCM in this process. Latency is alarm
 * opened (alarms.created_at) → FCM accepted (the fake's clock, the same machine): first at a paced rate,
 * then for a burst, which also gives sends/s. Baseline in the same run: the raw RabbitMQ publish
 * (persistent, confirms) and consume (manual acks, same prefetch) rate with amqplib.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { NOTIFY_OUTBOX_SQL, createLogger, inTransaction } from '../platform/index.ts';
import { createFakeFcm } from '../simulator/index.ts';
import { procStats } from './proc-stats.ts';
import { msgIs, startRole } from './roles.ts';
import { createRunEnv } from './run-env.ts';

const a = parseArgs({ options: { paced: { type: 'string', default: '500' }, rate: { type: 'string', default: '50' }, burst: { type: 'string', default: '2000' } } }).values;
const N = { paced: Number(a.paced), rate: Number(a.rate), burst: Number(a.burst) };
const OBJECTS = 50;
const PREFETCH = 64;
const log = createLogger('bench-push', 'warn');

function pct(values: number[]): string {
  if (values.length === 0) return 'no samples';
  const s = [...values].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return `n=${s.length}  p50 ${q(50).toFixed(1)}  p95 ${q(95).toFixed(1)}  p99 ${q(99).toFixed(1)}  max ${s[s.length - 1]!.toFixed(1)} ms`;
}

/** Raw RabbitMQ on the same vhost: persistent publishes with confirms, then consumption with manual acks. */
async function rabbitBaseline(url: string, count: number): Promise<{ publish: number; consume: number }> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  const { queue } = await ch.assertQueue('bench.baseline', { durable: true });
  const body = Buffer.from(JSON.stringify({ alarm_id: 123456, version: 1, object_id: 42, severity: 'CRITICAL', title: 'Zone 4 alarm', category: 'intrusion', first_event_at: Date.now() }));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (!ch.publish('', queue, body, { persistent: true, contentType: 'application/json' })) await new Promise((r) => ch.once('drain', r));
    if (i % 500 === 499) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  const publish = count / ((performance.now() - t0) / 1000);
  await ch.prefetch(PREFETCH);
  const t1 = performance.now();
  await new Promise<void>((resolve) => {
    let n = 0;
    void ch.consume(queue, (msg) => { if (!msg) return; ch.ack(msg); if (++n === count) resolve(); }, { noAck: false });
  });
  const consume = count / ((performance.now() - t1) / 1000);
  await ch.deleteQueue(queue);
  await conn.close();
  return { publish, consume };
}

const env = await createRunEnv({ name: 'bpush', log, vars: { LOG_LEVEL: 'warn' } });
const vhost = env.id;
execFileSync('rabbitmqctl', ['-q', 'add_vhost', vhost]);
execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
const rabbitUrl = `amqp://guest:guest@127.0.0.1:5672/${vhost}`;
const fcm = createFakeFcm({ dir: `.data/bench-fcm/${env.id}`, port: 0, log });
const roles: ReturnType<typeof startRole>[] = [];
try {
  await fcm.start();
  const { pool } = env;
  const { rows: objects } = await pool.query<{ id: number }>(`INSERT INTO objects (code, name, address) SELECT 'BP-' || g, 'Bench site ' || g, 'ul. Testowa ' || g FROM generate_series(1, $1) g RETURNING id`, [OBJECTS]);
  const ids = objects.map((o) => o.id);
  const { rows: users } = await pool.query<{ id: number; role: string }>(
    `INSERT INTO users (username, display_name, password_hash, role, on_duty_until)
     SELECT u, u, '!', r, CASE WHEN r = 'SUPERVISOR' THEN now() + interval '8 hours' END FROM (VALUES ('bp.fw0','FIELD_WORKER'),('bp.fw1','FIELD_WORKER'),('bp.fw2','FIELD_WORKER'),
       ('bp.fw3','FIELD_WORKER'),('bp.fw4','FIELD_WORKER'),('bp.tech','TECHNICIAN'),('bp.sup','SUPERVISOR')) v(u, r) RETURNING id, role`);
  const workers = users.filter((u) => u.role === 'FIELD_WORKER');
  for (const [i, o] of ids.entries()) await pool.query('INSERT INTO user_objects (user_id, object_id) VALUES ($1, $3), ($2, $3)', [workers[i % workers.length]!.id, users.find((u) => u.role === 'TECHNICIAN')!.id, o]);
  await pool.query(`INSERT INTO user_devices (user_id, fcm_token, platform, app_version) SELECT id, 'bench-phone-' || id, 'android', '1.0' FROM users WHERE username LIKE 'bp.%'`);

  const vars = {
    ...env.vars, RABBITMQ_URL: rabbitUrl, FEATURE_PUSH_ENABLED: 'true', FCM_CREDENTIALS_FILE: fcm.credentialsFile, FCM_API_URL: fcm.url,
    NODE_EXTRA_CA_CERTS: fcm.caFile, NOTIFIER_PREFETCH: String(PREFETCH), LOG_LEVEL: 'warn',
  };
  const relay = startRole('outbox-relay', vars);
  const notifier = startRole('notifier', vars);
  roles.push(relay, notifier);
  await Promise.all([relay.waitForLog(msgIs('outbox relay publishing')), notifier.waitForLog(msgIs('notifier consuming'))]);

  const opened = new Map<string, number>();
  /** Opens `n` CRITICAL alarms in one transaction with their outbox rows, as the processor does. */
  async function open(n: number, seq: number): Promise<void> {
    await inTransaction(pool, async (db) => {
      const { rows } = await db.query<{ id: number; object_id: number; t: number }>(
        `INSERT INTO alarms (object_id, source, zone, bundle_key, category, severity, title, event_count, first_event_at, last_event_at)
         SELECT ($1::bigint[])[1 + ((g + $3) % $4)], 'satel', 4, 'bp:' || ($3 + g), 'intrusion', 'CRITICAL', 'Zone 4 alarm', 1, now(), now()
           FROM generate_series(0, $2 - 1) g RETURNING id, object_id, (extract(epoch FROM created_at) * 1000)::float8 AS t`, [ids, n, seq, OBJECTS]);
      const updates = rows.map((r) => ({
        alarm_id: r.id, version: 1, object_id: r.object_id, panel_id: null, source: 'satel', zone: 4, category: 'intrusion', severity: 'CRITICAL', status: 'NEW', owner: null,
        event_count: 1, restore_count: 0, first_event_at: Math.round(r.t), last_event_at: Math.round(r.t), test: false, service: false, flood: false, title: 'Zone 4 alarm', updated_at: Math.round(r.t), events: [],
      }));
      await db.query(`INSERT INTO outbox (kind, key, payload, push) SELECT 'alarm.update', k, p, true FROM unnest($1::text[], $2::jsonb[]) AS t(k, p)`,
        [updates.map((u) => String(u.alarm_id)), updates.map((u) => JSON.stringify(u))]);
      await db.query(NOTIFY_OUTBOX_SQL);
      for (const r of rows) opened.set(String(r.id), r.t);
    });
  }
  const latencies = (from: number) => fcm.received.slice(from).map((r) => r.at - opened.get(r.message.data?.alarm_id ?? '')!).filter(Number.isFinite);
  async function drained(sends: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (fcm.received.length < sends) {
      if (Date.now() > until) throw new Error(`only ${fcm.received.length} of ${sends} sends accepted`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // Warm-up: connections, token, JIT.
  await open(20, 0);
  await drained(60, 60_000);
  const warm = fcm.received.length;

  // Paced: one alarm every 1000/rate ms.
  const cpu0 = procStats(notifier.proc.pid!);
  const self0 = procStats(process.pid);
  const tp = performance.now();
  for (let i = 0; i < N.paced; i++) {
    await open(1, 1000 + i);
    const next = tp + ((i + 1) * 1000) / N.rate;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await drained(warm + N.paced * 3, 120_000);
  const pacedS = (performance.now() - tp) / 1000;
  const paced = latencies(warm);
  const afterPaced = fcm.received.length;

  // Burst: every alarm committed at once (batches of 200, back to back).
  const tb = performance.now();
  for (let i = 0; i < N.burst; i += 200) await open(Math.min(200, N.burst - i), 100_000 + i);
  const committedS = (performance.now() - tb) / 1000;
  await drained(afterPaced + N.burst * 3, 600_000);
  const burstS = (performance.now() - tb) / 1000;
  const burst = latencies(afterPaced);
  const cpu1 = procStats(notifier.proc.pid!);
  const self1 = procStats(process.pid);
  const spentS = (performance.now() - tp) / 1000;
  const copies = fcm.received.length - new Set(fcm.received.map((r) => `${r.token}|${r.message.data?.alarm_id}`)).size;

  for (const r of roles) await r.stop();
  roles.length = 0;
  const raw = await rabbitBaseline(rabbitUrl, 20_000);

  const out = [
    ['devices per alarm', `3 (field worker + technician assigned, supervisor on duty) over ${OBJECTS} sites`],
    ['paced', `${N.paced} alarms at ${N.rate}/s (${pacedS.toFixed(1)} s): opened → FCM accepted ${pct(paced)}`],
    ['burst', `${N.burst} alarms committed in ${committedS.toFixed(1)} s: opened → FCM accepted ${pct(burst)}`],
    ['burst sends/s', `${Math.round((N.burst * 3) / burstS)} sends/s accepted by the fake FCM (${N.burst * 3} sends in ${burstS.toFixed(1)} s, ${Math.round(N.burst / burstS)} jobs/s)`],
    ['duplicates', `${copies} sends beyond one per (alarm, device)`],
    ['notifier CPU', `${(((cpu1.cpuSeconds - cpu0.cpuSeconds) / spentS) * 100).toFixed(0)} % of one core over paced + burst, RSS ${cpu1.rssMB.toFixed(0)} MB`],
    ['fake FCM + benchmark CPU', `${(((self1.cpuSeconds - self0.cpuSeconds) / spentS) * 100).toFixed(0)} % of one core (TLS and HTTP of every send, in this process)`],
    ['raw RabbitMQ publish', `${Math.round(raw.publish)} msgs/s (persistent, publisher confirms, amqplib, same vhost)`],
    ['raw RabbitMQ consume', `${Math.round(raw.consume)} msgs/s (manual acks, prefetch ${PREFETCH})`],
    ['notifier jobs / raw consume', `${((N.burst / burstS / raw.consume) * 100).toFixed(1)} %`],
  ];
  console.log(`\npush benchmark — ${new Date().toISOString()}, ${cpus().length} cores (fake FCM in the benchmark process; the machine may be shared)`);
  for (const [k, v] of out) console.log(`  ${k!.padEnd(28)} ${v}`);
} finally {
  for (const r of roles) await r.stop();
  await fcm.stop();
  rmSync(`.data/bench-fcm/${env.id}`, { recursive: true, force: true });
  try { execFileSync('rabbitmqctl', ['-q', 'delete_vhost', vhost]); } catch { /* already gone */ }
  await env.cleanup();
}
