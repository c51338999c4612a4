/**
 * `npm run bench:commands [-- --commands 200 --panels 4 --concurrency 1 --poll-ms 1000]`
 *
 * Command round trip as production runs it: `stam gateway`, `stam satel-ingest`, `stam command-processor` and
 * `stam outbox-relay` as child processes (NODE_ENV=production: quorum queues, user codes sealed at rest) on
 * the local PostgreSQL, Redis, RabbitMQ (a vhost of its own) and Kafka broker (a topic prefix of its own),
 * against `--panels` simulated panels over TCP, all removed afterwards. A supervisor sends `--commands`
 * commands (arm and disarm in turn on each panel, `--concurrency` at a time, one per panel at a time) and
 * the latency is `POST /api/panels/:id/commands` sent → `command.result` for that command on the
 * supervisor's WebSocket. Stages (PostgreSQL timestamps, one clock): request → driver claim, claim → driver
 * answer (panel round trip + read-back), answer → terminal state recorded (Kafka, command processor).
 * Baseline in the same run: the same arm + 0x0A read-back sent straight to a simulated panel over TCP.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import {
  createKafka, createLogger, createPool, createSecretBox, dropRunResources, ensureDatabase, generateSecretKey, loadConfig, migrate, parseSecretKeys, provisionTopics, topicSpecs,
} from '../platform/index.ts';
import { hashPassword } from '../gateway/index.ts';
import { encodeArm, encodeDisarm, encodeStateQuery, Cmd } from '../ingest/satel/protocol/index.ts';
import { PanelConnection } from '../ingest/satel/driver/index.ts';
import { createSimulator } from '../simulator/index.ts';
import { stackUp } from '../infra/stack.ts';

const a = parseArgs({ options: {
  commands: { type: 'string', default: '200' }, panels: { type: 'string', default: '4' }, concurrency: { type: 'string', default: '1' },
  'poll-ms': { type: 'string', default: '1000' },
} }).values;
const N = { commands: Number(a.commands), panels: Number(a.panels), concurrency: Math.min(Number(a.concurrency), Number(a.panels)), pollMs: Number(a['poll-ms']) };
const CODE = '8642';
const bin = fileURLToPath(new URL('../bin/stam.mjs', import.meta.url));
const log = createLogger('bench-commands', 'warn');
const id = `bcm${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const config = loadConfig();
const dbUrl = new URL(config.DATABASE_URL);
dbUrl.pathname = `/stam_${id}`;
const rabbit = new URL(config.RABBITMQ_URL);
rabbit.pathname = `/${id}`;
const secretKeys = generateSecretKey('bench');
const env = {
  ...process.env, DATABASE_URL: dbUrl.toString(), KAFKA_TOPIC_PREFIX: id, REDIS_KEY_PREFIX: `${id}:`, RABBITMQ_URL: rabbit.toString(), GATEWAY_PORT: '0',
  OPS_PORT: '0', JWT_KEY_DIR: `.data/bench-jwt/${id}`, LOG_LEVEL: 'info', NODE_ENV: 'production', SECRETS_KEYS: secretKeys, SATEL_DRIVER_ID: `bench-${id}`,
  FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_REALTIME_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false', FEATURE_HA_ENABLED: 'false',
  SATEL_POLL_INTERVAL_MS: String(N.pollMs), COMMAND_RESULTS_GROUP: `${id}-command-results`,
};

function pct(values: number[]): string {
  if (values.length === 0) return 'no samples';
  const s = [...values].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return `n=${s.length}  p50 ${q(50).toFixed(1)}  p95 ${q(95).toFixed(1)}  p99 ${q(99).toFixed(1)}  max ${s[s.length - 1]!.toFixed(1)} ms`;
}

function startRole(role: string): { proc: ChildProcess; line: (match: (l: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [bin, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const onLine = (text: string) => {
    let l: Record<string, unknown>;
    try { l = JSON.parse(text) as Record<string, unknown>; } catch { l = { msg: text }; }
    if (typeof l.level === 'number' && l.level >= 50) process.stderr.write(`${role}: ${text}\n`);
    seen.push(l);
    for (const w of [...waiters]) if (w.match(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
  };
  createInterface({ input: proc.stdout }).on('line', onLine);
  createInterface({ input: proc.stderr }).on('line', onLine);
  return { proc, line: (match) => { const s = seen.find(match); return s ? Promise.resolve(s) : new Promise((resolve) => waiters.push({ match, resolve })); } };
}

async function json<T>(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The panel alone: arm (then disarm) + 0x0A read-back over TCP, what the driver does per command. */
async function baseline(port: number, count: number): Promise<number[]> {
  const c = new PanelConnection({ host: '127.0.0.1', port, keepAliveMs: 0 });
  await c.connect();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await c.request(i % 2 === 0 ? encodeArm(0, { code: CODE }, [1]) : encodeDisarm({ code: CODE }, [1]));
    await c.request(encodeStateQuery(Cmd.armedPartitionsReally));
    out.push(performance.now() - t0);
  }
  c.close();
  return out;
}

async function main(): Promise<void> {
  await stackUp(config, log);
  execFileSync('rabbitmqctl', ['-q', 'add_vhost', id]);
  execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', id, decodeURIComponent(rabbit.username || 'guest'), '.*', '.*', '.*']);
  await ensureDatabase(env.DATABASE_URL);
  await migrate(env.DATABASE_URL, log);
  const pool = createPool(env.DATABASE_URL, { max: 4 });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: id, log });
  await provisionTopics(kafka, topicSpecs(loadConfig({ ...env })), log);
  const sim = createSimulator({ panels: N.panels + 1, basePort: 0, controlPort: 0, userCode: CODE, log });
  const roles: ReturnType<typeof startRole>[] = [];
  try {
    await sim.start();
    const box = createSecretBox(parseSecretKeys(secretKeys));
    const panelIds: number[] = [];
    for (let i = 0; i < N.panels; i++) {
      const o = await pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ($1, $1) RETURNING id`, [`BENCH-${i + 1}`]);
      const p = await pool.query<{ id: number }>(`INSERT INTO panels (object_id, name, host, port, user_code_enc) VALUES ($1, $2, '127.0.0.1', $3, $4) RETURNING id`,
        [o.rows[0]!.id, `bench ${i + 1}`, sim.ports[i], box.encrypt(CODE)]);
      panelIds.push(p.rows[0]!.id);
    }
    await pool.query(`INSERT INTO users (username, display_name, password_hash, role) VALUES ('sup', 'Supervisor', $1, 'SUPERVISOR')`, [await hashPassword('bench-password')]);
    for (const role of ['command-processor', 'outbox-relay', 'satel-ingest', 'gateway']) roles.push(startRole(role));
    const gw = await roles[3]!.line((l) => typeof l.msg === 'string' && l.msg.startsWith('gateway listening'));
    const base = `http://127.0.0.1:${String(gw.port)}`;
    await Promise.all([roles[0]!.line((l) => l.msg === 'command results processor consuming'), roles[2]!.line((l) => l.msg === 'command consumer started')]);
    const deadline = Date.now() + 60_000;
    while ((await json<{ connected: boolean }[]>(`${sim.controlUrl}/panels`)).body.slice(0, N.panels).some((p) => !p.connected)) {
      if (Date.now() > deadline) throw new Error('the driver did not connect to every panel within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const token = (await json<{ access_token: string }>(`${base}/api/auth/login`, { body: { username: 'sup', password: 'bench-password' } })).body.access_token;
    const ticket = (await json<{ ticket: string }>(`${base}/api/ws-ticket`, { method: 'POST', token, body: {} })).body.ticket;
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`);
    const waiting = new Map<string, (at: number, status: string) => void>();
    const early = new Map<string, { at: number; status: string }>();
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      const m = JSON.parse(data.toString()) as { type: string; result?: { command_id: string; status: string } };
      if (m.type !== 'command.result' || !m.result) return;
      const w = waiting.get(m.result.command_id);
      if (w) w(at, m.result.status); else early.set(m.result.command_id, { at, status: m.result.status });
    });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });

    const roundTrip: number[] = [];
    const api: number[] = [];
    const statuses = new Map<string, number>();
    const ids: string[] = [];
    const wallStart = performance.now();
    let next = 0;
    const worker = async (slot: number) => {
      for (let k = 0; ; k++) {
        const n = next++;
        if (n >= N.commands) return;
        const panel = panelIds[(slot + k * N.concurrency) % N.panels]!;
        const armed = k % 2 === 0;
        const t0 = performance.now();
        const r = await json<{ command_id: string }>(`${base}/api/panels/${panel}/commands`, { token, body: { action: armed ? 'arm' : 'disarm', partitions: [1], reason: 'benchmark' } });
        api.push(performance.now() - t0);
        if (r.status !== 202) throw new Error(`command refused: ${r.status} ${JSON.stringify(r.body)}`);
        const got = early.get(r.body.command_id) ?? await new Promise<{ at: number; status: string }>((resolve) => waiting.set(r.body.command_id, (at, status) => resolve({ at, status })));
        waiting.delete(r.body.command_id);
        roundTrip.push(got.at - t0);
        statuses.set(got.status, (statuses.get(got.status) ?? 0) + 1);
        ids.push(r.body.command_id);
      }
    };
    await Promise.all(Array.from({ length: N.concurrency }, (_, i) => worker(i)));
    const wallS = (performance.now() - wallStart) / 1000;
    ws.close();
    // The terminal state's audit row is written in the command processor's transaction: its time is "recorded".
    const { rows } = await pool.query<{ to_claim: number; execute: number; to_record: number | null }>(
      `SELECT (extract(epoch FROM e.started_at - c.created_at) * 1000)::float8 AS to_claim,
              (extract(epoch FROM e.finished_at - e.started_at) * 1000)::float8 AS execute,
              (SELECT (extract(epoch FROM a.at - e.finished_at) * 1000)::float8 FROM audit_log a
                WHERE a.target_type = 'command' AND a.target_id = c.id::text AND a.action = 'command.' || lower(c.status)) AS to_record
         FROM commands c JOIN command_executions e ON e.command_id = c.id WHERE c.id = ANY($1)`, [ids]);
    const base0 = await baseline(sim.ports[N.panels]!, Math.max(50, Math.min(N.commands, 500)));

    const row = (label: string, v: number[]) => `  ${label.padEnd(58)}${pct(v)}`;
    process.stdout.write([
      `bench:commands — ${N.commands} commands on ${N.panels} simulated panels, concurrency ${N.concurrency}, poll interval ${N.pollMs} ms (NODE_ENV=production)`,
      `  results: ${[...statuses].map(([s, n]) => `${s} ${n}`).join(', ')}; ${(N.commands / wallS).toFixed(1)} commands/s`,
      row('round trip: POST → command.result on the WebSocket', roundTrip),
      row('POST → 202 (row + audit, RabbitMQ confirm)', api),
      row('stage: request → driver claim', rows.map((r) => r.to_claim)),
      row('stage: claim → answered (panel, read-back)', rows.map((r) => r.execute)),
      row('stage: answered → recorded (Kafka, command processor)', rows.flatMap((r) => (r.to_record === null ? [] : [r.to_record]))),
      '  (the rest: outbox relay → command.results.v1 → gateway → WebSocket, and the HTTP request itself)',
      row('baseline: arm/disarm + 0x0A read-back straight over TCP', base0),
      '',
    ].join('\n'));
  } finally {
    for (const r of roles) r.proc.kill('SIGTERM');
    await Promise.all(roles.map((r) => new Promise((res) => { if (r.proc.exitCode !== null) res(null); else r.proc.once('exit', res); })));
    await sim.stop();
    await pool.end();
    await dropRunResources({ id, kafka, redisUrl: config.REDIS_URL, databaseUrl: config.DATABASE_URL });
    try { execFileSync('rabbitmqctl', ['-q', 'delete_vhost', id]); } catch { /* already gone */ }
    rmSync(env.JWT_KEY_DIR, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:commands failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
