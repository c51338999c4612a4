/**
 * `npm run bench:gateway [-- --alarms 100000 --operators 20 --clients 200 --seconds 15 --think-ms 100 --updates 600 --rate 60]`
 *
 * The gateway as production runs it: one `stam gateway` child process (and `stam outbox-relay` for the
 * claim → screen figure) on the local PostgreSQL, Redis and Kafka broker, with a throw-away database
 * holding `--alarms` alarms over 500 objects (about 4% open), its own topic and key prefix, all removed
 * afterwards. Measured from this process over real HTTP and WebSocket:
 *  1. `GET /api/alarms` by `--operators` concurrent operators for `--seconds` (the default open feed, a
 *     severity filter, one object's history, a time range paged three pages deep), each pausing
 *     `--think-ms` between requests (20 operators × 10 req/s is far busier than people are); then the same
 *     with no pause at all (saturation: latency is then concurrency ÷ throughput); beside the same SQL run
 *     directly (baseline);
 *  2. claims (each operator its own NEW alarms, same pause) and contended claims (all operators on one
 *     alarm at once: one 200, the rest 409), plus ack/resolve/close;
 *  3. fan-out: `--clients` WebSocket clients; `--updates` AlarmUpdates published to alarm.updates.v1 at
 *     `--rate`/s; latency = publish → each client's receipt, beside a plain Kafka consumer of the same
 *     messages (baseline); then claim → update on every client's screen (through outbox and relay).
 * Targets (DESIGN.md §5): list p95 < 20 ms, claim p95 < 10 ms, fan-out p99 < 100 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import WebSocket from 'ws';
import { createKafka, createLogger, createPool, createProducer, createRedis, dropRunResources, ensureDatabase, loadConfig, migrate, provisionTopics, topicSpecs } from '../platform/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../schemas/index.ts';
import { hashPassword } from '../gateway/index.ts';
import { stackUp } from '../infra/stack.ts';
import { closeHttp, http } from './http-client.ts';

const a = parseArgs({ options: {
  alarms: { type: 'string', default: '100000' }, operators: { type: 'string', default: '20' }, clients: { type: 'string', default: '200' },
  seconds: { type: 'string', default: '15' }, 'think-ms': { type: 'string', default: '100' }, updates: { type: 'string', default: '600' }, rate: { type: 'string', default: '60' },
} }).values;
const N = { alarms: Number(a.alarms), operators: Number(a.operators), clients: Number(a.clients), seconds: Number(a.seconds), think: Number(a['think-ms']), updates: Number(a.updates), rate: Number(a.rate) };
const OBJECTS = 500;
const bin = fileURLToPath(new URL('../bin/stam.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger('bench-gateway', 'warn');
const id = `bgw${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const config = loadConfig();
const dbUrl = new URL(config.DATABASE_URL);
dbUrl.pathname = `/stam_${id}`;
const env = {
  ...process.env, DATABASE_URL: dbUrl.toString(), KAFKA_TOPIC_PREFIX: id, REDIS_KEY_PREFIX: `${id}:`, GATEWAY_PORT: '0', OPS_PORT: '0',
  JWT_KEY_DIR: `.data/bench-jwt/${id}`, LOG_LEVEL: 'info', FEATURE_PUSH_ENABLED: 'false', FEATURE_REALTIME_ENABLED: 'true', NODE_ENV: 'production',
  FEATURE_ARM_DISARM_ENABLED: 'false', // alarms, not commands (bench:commands measures those)
  SECRETS_KEYS: `bench=${randomBytes(32).toString('base64')}`,
};

function pct(values: number[]): string {
  if (values.length === 0) return 'no samples';
  const s = [...values].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return `n=${s.length}  p50 ${q(50).toFixed(2)}  p95 ${q(95).toFixed(2)}  p99 ${q(99).toFixed(2)}  max ${s[s.length - 1]!.toFixed(2)} ms`;
}
const p95 = (v: number[]) => [...v].sort((x, y) => x - y)[Math.ceil(0.95 * v.length) - 1] ?? Infinity;
const p99 = (v: number[]) => [...v].sort((x, y) => x - y)[Math.ceil(0.99 * v.length) - 1] ?? Infinity;

function procStat(pid: number): { cpuS: number; rssMb: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { cpuS: (Number(f[11]) + Number(f[12])) / 100, rssMb: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024 };
}

function startRole(role: string): { proc: ChildProcess; line: (msg: string) => Promise<Record<string, unknown>> } {
  // BENCH_PROFILE_DIR=/tmp/prof writes a V8 CPU profile of the gateway there (open it in Chrome DevTools).
  const prof = role === 'gateway' && process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const proc = spawn(process.execPath, [...prof, bin, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  const tail: string[] = [];
  proc.on('exit', (code, signal) => {
    const err = new Error(`${role} exited (${signal ?? code}) before saying what the bench waits for; its last output:\n${tail.join('\n')}`);
    for (const w of waiters.splice(0)) w.reject(err);
  });
  const onLine = (text: string) => {
    tail.push(text);
    if (tail.length > 20) tail.shift();
    let l: Record<string, unknown>;
    try { l = JSON.parse(text) as Record<string, unknown>; } catch { l = { msg: text }; }
    if (typeof l.level === 'number' && l.level >= 50) process.stderr.write(`${role}: ${text}\n`);
    for (const w of [...waiters]) if (l.msg === w.msg) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
  };
  createInterface({ input: proc.stdout }).on('line', onLine);
  createInterface({ input: proc.stderr }).on('line', onLine);
  return {
    proc,
    line: (msg) => new Promise((resolve, reject) => {
      if (proc.exitCode !== null || proc.signalCode !== null) reject(new Error(`${role} is not running; its last output:\n${tail.join('\n')}`));
      else waiters.push({ msg, resolve, reject });
    }),
  };
}

async function seed(pool: pg.Pool): Promise<void> {
  await pool.query(`INSERT INTO objects (code, name, address) SELECT 'OBJ-' || g, 'Site ' || g, 'ul. Testowa ' || g FROM generate_series(1, ${OBJECTS}) g`);
  await pool.query(`INSERT INTO panels (object_id, name, host, port) SELECT id, 'INTEGRA ' || id, '10.0.' || (id / 250) || '.' || (id % 250), 7094 FROM objects`);
  await pool.query(`INSERT INTO zones (panel_id, number, name) SELECT p.id, z, 'Zone ' || z FROM panels p, generate_series(1, 8) z`);
  const hash = await hashPassword('bench-password');
  await pool.query(`INSERT INTO users (username, display_name, password_hash, role) SELECT 'op' || g, 'Operator ' || g, $1, 'OPERATOR' FROM generate_series(1, $2::int) g`, [hash, N.operators]);
  // ~96% closed history, the rest open or resolved; 5% test alarms; 90 days of first-event times.
  await pool.query(`
    INSERT INTO alarms (object_id, panel_id, source, zone, bundle_key, category, severity, status, version, title, claimed_by, claimed_at,
                        event_count, first_event_at, last_event_at, test, resolution_code)
    SELECT o, o, 'satel', z, 'b' || g, 'zone-violation', (ARRAY['CRITICAL','WARNING','WARNING','INFO'])[1 + g % 4], s,
           CASE s WHEN 'NEW' THEN 1 WHEN 'CLAIMED' THEN 2 WHEN 'ACKNOWLEDGED' THEN 3 WHEN 'RESOLVED' THEN 4 ELSE 5 END,
           'Zone ' || z || ' violated', CASE WHEN s = 'NEW' THEN NULL ELSE 1 + g % $2::int END, CASE WHEN s = 'NEW' THEN NULL ELSE t END,
           1 + g % 3, t, t + interval '2 minutes', g % 20 = 0, CASE WHEN s IN ('RESOLVED','CLOSED') THEN 'FALSE_ALARM' END
      FROM (SELECT g, 1 + g % ${OBJECTS} AS o, 1 + g % 8 AS z, now() - (($1::int - g) * interval '90 days' / $1::int) AS t,
                   CASE WHEN g > $1::int - 2000 THEN 'NEW' WHEN g > $1::int - 2500 THEN 'CLAIMED' WHEN g > $1::int - 3000 THEN 'ACKNOWLEDGED'
                        WHEN g > $1::int - 4000 THEN 'RESOLVED' ELSE 'CLOSED' END AS s
              FROM generate_series(1, $1::int) g) x`, [N.alarms, N.operators]);
  await pool.query('ANALYZE');
}

async function main(): Promise<void> {
  await stackUp(config, log);
  await ensureDatabase(env.DATABASE_URL);
  await migrate(env.DATABASE_URL, log);
  const pool = createPool(env.DATABASE_URL, { max: 4 });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: id, log });
  await provisionTopics(kafka, topicSpecs(loadConfig({ ...env })), log);
  const redis = createRedis(config.REDIS_URL, `${id}:`);
  const roles: ChildProcess[] = [];
  try {
    const t = Date.now();
    const loadBefore = loadavg()[0]!;
    await seed(pool);
    const counts = (await pool.query<{ n: number; open: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status IN ('NEW','CLAIMED','ACKNOWLEDGED'))::int AS open FROM alarms`)).rows[0]!;
    console.log(`seeded ${counts.n} alarms (${counts.open} open) over ${OBJECTS} objects, ${N.operators} operators in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    const gw = startRole('gateway');
    roles.push(gw.proc);
    const listening = await gw.line('gateway listening (console at /, API docs at /docs)');
    const base = `http://127.0.0.1:${listening.port as number}`;
    for (const until = Date.now() + 60_000; ;) {
      const ready = await http<unknown>(base, 'GET', '/readyz').catch((err: Error) => ({ status: 0, body: err.message }));
      if (ready.status === 200) break;
      if (Date.now() > until) throw new Error(`the gateway is not ready after 60 s: ${JSON.stringify(ready.body)}`);
      await sleep(200);
    }
    const relay = startRole('outbox-relay');
    roles.push(relay.proc);
    await relay.line('outbox relay publishing');
    const tokens = await Promise.all(Array.from({ length: N.operators }, async (_, i) =>
      (await http<{ access_token: string }>(base, 'POST', '/api/auth/login', undefined, { username: `op${i + 1}`, password: 'bench-password' })).body.access_token));
    const gwStart = procStat(gw.proc.pid!);

    // 1. Listing: with the operators' pause, then without any (saturation).
    const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const to = new Date(Date.now() - 20 * 86_400_000).toISOString();
    for (let i = 0; i < 20; i++) await http(base, 'GET', '/api/alarms', tokens[0]); // warm-up
    const listPhase = async (thinkMs: number, seconds: number) => {
      const lists: Record<string, number[]> = { 'open feed': [], 'severity filter': [], 'one object': [], 'time range, 3 pages': [] };
      const until = Date.now() + seconds * 1000;
      await Promise.all(tokens.map(async (tk, op) => {
        await sleep(Math.random() * thinkMs);
        for (let k = 0; Date.now() < until; k++) {
          const kind = k % 4;
          if (kind === 0) lists['open feed']!.push((await http(base, 'GET', '/api/alarms?limit=50', tk)).ms);
          else if (kind === 1) lists['severity filter']!.push((await http(base, 'GET', '/api/alarms?severity=CRITICAL&limit=50', tk)).ms);
          else if (kind === 2) lists['one object']!.push((await http(base, 'GET', `/api/alarms?object_id=${1 + ((op * 31 + k) % OBJECTS)}&status=CLOSED&status=RESOLVED&limit=50`, tk)).ms);
          else {
            let cursor: string | null = null;
            for (let page = 0; page < 3; page++) {
              const r: { ms: number; body: { next_cursor: string | null } } = await http(base, 'GET', `/api/alarms?status=CLOSED&from=${from}&to=${to}&limit=50${cursor ? `&cursor=${cursor}` : ''}`, tk);
              lists['time range, 3 pages']!.push(r.ms);
              cursor = r.body.next_cursor;
            }
          }
          if (thinkMs > 0) await sleep(thinkMs);
        }
      }));
      return lists;
    };
    const cpu0 = procStat(gw.proc.pid!).cpuS;
    const lists = await listPhase(N.think, N.seconds);
    const listCpuMs = ((procStat(gw.proc.pid!).cpuS - cpu0) * 1000) / Object.values(lists).flat().length;
    const satSeconds = Math.max(5, Math.round(N.seconds / 2));
    const saturated = Object.values(await listPhase(0, satSeconds)).flat();
    const sql: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      await pool.query(`SELECT a.*, o.name FROM alarms a JOIN objects o ON o.id = a.object_id LEFT JOIN users u ON u.id = a.claimed_by
        WHERE a.status IN ('NEW','CLAIMED','ACKNOWLEDGED') AND NOT a.test ORDER BY a.id DESC LIMIT 50`);
      sql.push(performance.now() - t0);
    }
    const allLists = Object.values(lists).flat();

    // 2. Claims: each operator its own NEW alarms (every fifth also acknowledged, resolved and closed);
    //    first with the list phase's pause, then at one claim per operator per second; then all on one alarm.
    const fresh = (await pool.query<{ id: number }>(`SELECT id FROM alarms WHERE status = 'NEW' AND NOT test ORDER BY id LIMIT $1`, [N.operators * 90])).rows.map((r) => r.id);
    let next = 0;
    const take = () => fresh[next++]!;
    const steps: Record<string, number[]> = { ack: [], resolve: [], close: [] };
    const claimPhase = async (thinkMs: number, perOperator: number): Promise<number[]> => {
      const out: number[] = [];
      await Promise.all(tokens.map(async (tk) => {
        await sleep(Math.random() * thinkMs);
        for (let i = 0; i < perOperator; i++) {
          const alarm = take();
          const r = await http(base, 'POST', `/api/alarms/${alarm}/claim`, tk, { version: 1 });
          if (r.status !== 200) throw new Error(`claim ${alarm}: ${r.status} ${JSON.stringify(r.body)}`);
          out.push(r.ms);
          if (thinkMs > 0) await sleep(thinkMs);
          if (i % 5 === 0) {
            steps.ack!.push((await http(base, 'POST', `/api/alarms/${alarm}/ack`, tk, { version: 2 })).ms);
            steps.resolve!.push((await http(base, 'POST', `/api/alarms/${alarm}/resolve`, tk, { version: 3, resolution_code: 'FALSE_ALARM' })).ms);
            steps.close!.push((await http(base, 'POST', `/api/alarms/${alarm}/close`, tk, { version: 4 })).ms);
          }
        }
      }));
      return out;
    };
    const cpu1 = procStat(gw.proc.pid!).cpuS;
    const t1 = Date.now();
    const claims = await claimPhase(N.think, 50);
    const busyRate = claims.length / ((Date.now() - t1) / 1000);
    const claimCpuMs = ((procStat(gw.proc.pid!).cpuS - cpu1) * 1000) / (claims.length + steps.ack!.length * 3);
    const t2 = Date.now();
    const claimsHuman = await claimPhase(1000, 15);
    const humanRate = claimsHuman.length / ((Date.now() - t2) / 1000);
    const contended: number[] = [];
    let races = 0;
    for (const alarm of Array.from({ length: 50 }, take)) {
      const rs = await Promise.all(tokens.map((tk) => http(base, 'POST', `/api/alarms/${alarm}/claim`, tk, { version: 1 })));
      if (rs.filter((r) => r.status === 200).length === 1 && rs.filter((r) => r.status === 409).length === N.operators - 1) races++;
      contended.push(...rs.map((r) => r.ms));
    }

    // 3. Fan-out to WebSocket clients, beside a plain Kafka consumer of the same topic.
    const first = await openClient(base, tokens[0]!);
    const hello = await first.next((m) => m.type === 'resync');
    first.ws.close();
    const clients = await Promise.all(Array.from({ length: N.clients }, (_, i) => openClient(base, tokens[i % tokens.length]!, { epoch: hello.epoch as string, position: hello.position as number })));
    const consumer = kafka.consumer({ groupId: `${id}-baseline`, maxWaitTimeInMs: 50 });
    const raw: number[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: topicName('alarm.updates.v1', id), fromBeginning: false });
    const codec = codecFor('AlarmUpdate');
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => { joined = true; });
    await consumer.run({ eachMessage: ({ message }) => { const u = codec.decode(message.value!); if (u.alarm_id >= 10_000_000) raw.push(Date.now() - u.updated_at); return Promise.resolve(); } });
    while (!joined) await sleep(100);
    await sleep(1000);
    const producer = await createProducer(kafka);
    const startBytes = procStat(gw.proc.pid!);
    for (let i = 0; i < N.updates; i++) {
      const u: AlarmUpdate = {
        alarm_id: 10_000_000 + (i % 100), version: 1 + Math.floor(i / 100), object_id: 1 + (i % OBJECTS), panel_id: 1 + (i % OBJECTS), source: 'satel', zone: 1,
        category: 'zone-violation', severity: 'WARNING', status: 'NEW', owner: null, event_count: 1, restore_count: 0, first_event_at: Date.now(),
        last_event_at: Date.now(), test: false, service: false, flood: false, title: 'Zone 1 violated', updated_at: Date.now(), events: [],
      };
      await producer.send({ topic: topicName('alarm.updates.v1', id), acks: -1, messages: [{ key: String(u.alarm_id), value: codec.encode(u) }] });
      await sleep(1000 / N.rate);
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && clients.some((c) => c.fanout.length < N.updates)) await sleep(100);
    const fanout = clients.flatMap((c) => c.fanout);
    const lost = clients.reduce((n, c) => n + Math.max(0, N.updates - c.fanout.length), 0);
    const fanCpu = procStat(gw.proc.pid!);

    // Claim → every screen (HTTP, transaction, outbox, relay, broker, gateway, 200 sockets).
    const screens: number[] = [];
    for (const alarm of Array.from({ length: 20 }, take)) {
      const t0 = Date.now();
      const seen = clients.map(async (c) => { await c.next((m) => (m.alarm as AlarmUpdate | undefined)?.alarm_id === alarm); screens.push(Date.now() - t0); });
      await http(base, 'POST', `/api/alarms/${alarm}/claim`, tokens[0], { version: 1 });
      await Promise.all(seen);
    }
    for (const c of clients) c.ws.close();
    await consumer.disconnect();
    await producer.disconnect();
    closeHttp();
    const gwEnd = procStat(gw.proc.pid!);

    console.log(`\nbench:gateway — ${N.alarms} alarms, ${N.operators} operators, ${N.clients} WebSocket clients (one stam gateway process, 2-core machine shared with PostgreSQL, Redis, Kafka and this client)`);
    console.log(`\nGET /api/alarms (${N.operators} concurrent operators, each pausing ${N.think} ms between requests: ${(allLists.length / N.seconds).toFixed(0)} req/s for ${N.seconds} s)`);
    for (const [k, v] of Object.entries(lists)) console.log(`  ${k.padEnd(22)} ${pct(v)}`);
    console.log(`  ${'all'.padEnd(22)} ${pct(allLists)}   target p95 < 20 ms: ${p95(allLists) < 20 ? 'met' : 'MISSED'}`);
    console.log(`  ${'saturation (no pause)'.padEnd(22)} ${pct(saturated)}   ${(saturated.length / satSeconds).toFixed(0)} req/s`);
    console.log(`  ${'gateway CPU / request'.padEnd(22)} ${listCpuMs.toFixed(2)} ms`);
    console.log(`  ${'baseline: SQL alone'.padEnd(22)} ${pct(sql)}`);
    console.log(`\nalarm transitions (${N.operators} concurrent operators; each claim's update also goes through outbox, relay, broker and this gateway's stream)`);
    console.log(`  ${`claim, ${N.think} ms pause`.padEnd(22)} ${pct(claims)}   ${busyRate.toFixed(0)} claims/s   target p95 < 10 ms: ${p95(claims) < 10 ? 'met' : 'MISSED'}`);
    console.log(`  ${'claim, 1/s per operator'.padEnd(22)} ${pct(claimsHuman)}   ${humanRate.toFixed(0)} claims/s   target p95 < 10 ms: ${p95(claimsHuman) < 10 ? 'met' : 'MISSED'}`);
    for (const [k, v] of Object.entries(steps)) console.log(`  ${k.padEnd(22)} ${pct(v)}`);
    console.log(`  ${'gateway CPU / request'.padEnd(22)} ${claimCpuMs.toFixed(2)} ms`);
    console.log(`  ${'contended claim'.padEnd(22)} ${pct(contended)}   (${races}/50 races: exactly one 200 and ${N.operators - 1} × 409)`);
    console.log(`\nfan-out: ${N.updates} updates at ${N.rate}/s → ${N.clients} clients (publish → received)`);
    console.log(`  ${'gateway → clients'.padEnd(22)} ${pct(fanout)}   lost ${lost}   target p99 < 100 ms: ${p99(fanout) < 100 && lost === 0 ? 'met' : 'MISSED'}`);
    console.log(`  ${'baseline: raw consumer'.padEnd(22)} ${pct(raw)}`);
    console.log(`  ${'claim → every screen'.padEnd(22)} ${pct(screens)}   (HTTP + transaction + outbox relay + broker + gateway)`);
    console.log(`\nmachine load average (1 min): ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (other processes compete for the same 2 cores)`);
    console.log(`gateway process: CPU ${(gwEnd.cpuS - gwStart.cpuS).toFixed(1)} s over the run (fan-out phase ${(fanCpu.cpuS - startBytes.cpuS).toFixed(1)} s), RSS ${gwEnd.rssMb.toFixed(0)} MB`);
  } finally {
    for (const r of roles) r.kill('SIGTERM');
    await Promise.all(roles.map((r) => new Promise((res) => (r.exitCode !== null ? res(null) : r.once('exit', res)))));
    await pool.end();
    await redis.quit();
    await dropRunResources({ id, kafka, redisUrl: config.REDIS_URL, databaseUrl: config.DATABASE_URL });
    rmSync(env.JWT_KEY_DIR, { recursive: true, force: true });
  }
}

interface Client { ws: WebSocket; fanout: number[]; next(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> }

async function openClient(base: string, token: string, resume?: { epoch: string; position: number }): Promise<Client> {
  const { body } = await http<{ ticket: string }>(base, 'POST', '/api/ws-ticket', token);
  const q = new URLSearchParams({ ticket: body.ticket, ...(resume ? { epoch: resume.epoch, position: String(resume.position) } : {}) });
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?${q.toString()}`);
  const fanout: number[] = [];
  const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  ws.on('message', (data: Buffer) => {
    const now = Date.now();
    const m = JSON.parse(data.toString()) as Record<string, unknown>;
    const u = m.alarm as AlarmUpdate | undefined;
    if (u && u.alarm_id >= 10_000_000) fanout.push(now - u.updated_at);
    for (const w of [...waiters]) if (w.match(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  return { ws, fanout, next: (match) => new Promise((resolve) => waiters.push({ match, resolve })) };
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(2); });
