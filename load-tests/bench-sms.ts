/**
 * `npm run bench:sms [-- --messages 200 --rate 10 --store 255 --at 2000]`
 *
 * The SMS intake as production runs it: the modem simulator on a real pty (socat) in this process, and
 * `stam sms-ingest` (real serialport), `stam alarm-processor`, `stam outbox-relay` and `stam gateway` as child
 * processes on the local broker and PostgreSQL, all removed afterwards. Three figures, each with its raw
 * baseline from the same run:
 * - drain rate of a full store: `--store` messages on the SIM before sms-ingest starts, from "modem ready" to
 *   the store empty (listed, produced with acks -1, each deleted after the ack) — beside the raw rate of the
 *   same AT+CMGL=4 and AT+CMGD commands sent by a bare serialport client with no broker;
 * - modem → operator screen: `--messages` alarm SMS at `--rate`/s, from the moment the simulated modem stores
 *   one (and pushes +CMTI) to its alarm arriving on an operator's WebSocket — beside the raw AT round trip
 *   over the pty and the raw broker produce → consume round trip (acks -1).
 * The simulated SIM answers at once; a real SIM takes tens of milliseconds per write, which bounds a real
 * modem's drain rate far below these figures.
 */
import { parseArgs } from 'node:util';
import { SerialPort } from 'serialport';
import WebSocket from 'ws';
import { createLogger, createProducer } from '../platform/index.ts';
import { hashPassword } from '../gateway/index.ts';
import { createModemSimulator, type ModemSimulator } from '../simulator/index.ts';
import { msgIs, startRole, type RoleProcess } from './roles.ts';
import { createRunEnv } from './run-env.ts';
import { percentile } from './stats.ts';

const a = parseArgs({ options: {
  messages: { type: 'string', default: '200' }, rate: { type: 'string', default: '10' }, store: { type: 'string', default: '255' }, at: { type: 'string', default: '2000' },
} }).values;
const N = { messages: Number(a.messages), rate: Number(a.rate), store: Number(a.store), at: Number(a.at) };
const log = createLogger('bench-sms', 'warn');
const ms = (v: number) => `${v.toFixed(1)} ms`;
const pcts = (v: number[]) => { const s = [...v].sort((x, y) => x - y); return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? 0 }; };

/** A bare AT client on the pty: write a command, wait for its final result. */
async function rawClient(device: string) {
  const port = new SerialPort({ path: device, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let buf = '';
  let waiter: ((text: string) => void) | undefined;
  port.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    if (waiter && /\r\n(OK|ERROR|\+CMS ERROR: \d+)\r\n$/.test(buf)) { const w = waiter; waiter = undefined; const t = buf; buf = ''; w(t); }
  });
  const cmd = (line: string) => new Promise<string>((res) => { waiter = res; port.write(`${line}\r`); });
  await cmd('ATE0');
  await cmd('AT+CMGF=0');
  return { cmd, close: () => new Promise<void>((res) => port.close(() => res())) };
}

function fill(modem: ModemSimulator, n: number, prefix: string): void {
  for (let i = 0; i < n; i++) modem.deliver({ from: '+48600100300', text: `BLULOG: Niski poziom baterii rejestratora ${prefix}${i}` });
}

const env = await createRunEnv({
  name: 'bsms', log,
  vars: { FEATURE_SMS_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_HA_ENABLED: 'false', FLOOD_THRESHOLD: '1000000', LOG_LEVEL: 'warn' },
});
const modem = createModemSimulator({ device: `${process.cwd()}/.data/bench-modem/${env.id}/ttyGSM0`, capacity: Math.max(N.store, 50) });
const roles: RoleProcess[] = [];
try {
  await modem.start();

  // ---- raw baselines: the modem over the pty, and the broker ----
  const raw = await rawClient(modem.device);
  const rtt: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N.at; i++) { const s = performance.now(); await raw.cmd('AT'); rtt.push(performance.now() - s); }
  const atRate = N.at / ((performance.now() - t0) / 1000);
  fill(modem, N.store, 'raw');
  const d0 = performance.now();
  const listing = await raw.cmd('AT+CMGL=4');
  const indices = [...listing.matchAll(/\+CMGL: (\d+),/g)].map((m) => Number(m[1]));
  for (const i of indices) await raw.cmd(`AT+CMGD=${i}`);
  const rawDrain = indices.length / ((performance.now() - d0) / 1000);
  await raw.close();

  const producer = await createProducer(env.kafka);
  const topic = `${env.id}.bench.rtt`;
  const admin = env.kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  const consumer = env.kafka.consumer({ groupId: `${env.id}-rtt`, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const sentAt = new Map<string, number>();
  const brokerRtt: number[] = [];
  await consumer.run({ eachMessage: ({ message }) => { const s = sentAt.get(message.key!.toString()); if (s !== undefined) brokerRtt.push(performance.now() - s); return Promise.resolve(); } });
  await new Promise((r) => setTimeout(r, 3000));
  for (let i = 0; i < 200; i++) { sentAt.set(String(i), performance.now()); await producer.send({ topic, acks: -1, messages: [{ key: String(i), value: 'x'.repeat(200) }] }); await new Promise((r) => setTimeout(r, 10)); }
  for (let i = 0; i < 50 && brokerRtt.length < 200; i++) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await producer.disconnect();

  // ---- drain of a full store by sms-ingest ----
  fill(modem, N.store, 'drain');
  const ingest = startRole('sms-ingest', { ...env.vars, SMS_MODEM_DEVICE: modem.device, SMS_DRAIN_INTERVAL_S: '600' });
  roles.push(ingest);
  const ready = await ingest.waitForLog((l) => l.msg === 'modem ready (PDU mode, +CMTI indications); sweeping the store', 60_000);
  while (modem.store.used > 0) await new Promise((r) => setTimeout(r, 2));
  const drainS = (Date.now() - (ready.time as number)) / 1000; // from the driver's own "ready" (its clock is this machine's)

  // ---- modem → operator screen ----
  for (const role of ['alarm-processor', 'outbox-relay', 'gateway']) roles.push(startRole(role, env.vars));
  await roles[1]!.waitForLog(msgIs('alarm processor consuming'), 60_000);
  const gw = await roles[3]!.waitForLog((l) => l.msg === 'gateway listening (console at /, API docs at /docs)', 60_000);
  const base = `http://127.0.0.1:${gw.port as number}`;
  await env.pool.query(`INSERT INTO users (username, display_name, password_hash, role) VALUES ('bench', 'bench', $1, 'OPERATOR')`, [await hashPassword('bench-password')]);
  const post = async <T>(path: string, body: unknown, token?: string) => (await (await fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
  })).json()) as T;
  const { access_token: token } = await post<{ access_token: string }>('/api/auth/login', { username: 'bench', password: 'bench-password' });
  const { ticket } = await post<{ ticket: string }>('/api/ws-ticket', {}, token);
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`);
  const arrived = new Map<number, number>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { type: string; alarm?: { title: string }; alarms?: { title: string }[] };
    // An alarm reaches the screen as alarm.new, or inside a resync snapshot (a client the stream re-synced).
    const titles = m.type === 'alarm.new' || m.type === 'alarm.updated' ? [m.alarm?.title ?? ''] : m.type === 'resync' ? (m.alarms ?? []).map((x) => x.title) : [];
    for (const title of titles) {
      const hit = /:bench (\d+)$/.exec(title);
      if (hit && !arrived.has(Number(hit[1]))) arrived.set(Number(hit[1]), Date.now());
    }
  });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  await new Promise((r) => setTimeout(r, 1000));
  const delivered = new Map<number, number>();
  const l0 = Date.now();
  for (let i = 0; i < N.messages; i++) {
    const d = modem.deliver({ from: '+48600100300', text: `BLULOG ALARM: Bench ${i} 9,${i % 10}°C > max 8,0°C` });
    delivered.set(i, d.deliveredAtMs);
    await new Promise((r) => setTimeout(r, Math.max(0, l0 + ((i + 1) * 1000) / N.rate - Date.now())));
  }
  for (let i = 0; i < 600 && arrived.size < N.messages; i++) await new Promise((r) => setTimeout(r, 100));
  ws.close();
  const lat = [...arrived].map(([i, t]) => t - delivered.get(i)!);

  const a1 = pcts(rtt);
  const b1 = pcts(brokerRtt);
  const l1 = pcts(lat);
  const rows = [
    ['raw AT round trip (pty)', `${Math.round(atRate)} commands/s; AT → OK p50 ${ms(a1.p50)}, p99 ${ms(a1.p99)} (${N.at} sequential, bare serialport client)`],
    ['raw store drain (pty)', `${Math.round(rawDrain)} messages/s (AT+CMGL=4 + one AT+CMGD each, ${indices.length} messages, no broker)`],
    ['raw broker round trip', `produce (acks -1) → consume p50 ${ms(b1.p50)}, p99 ${ms(b1.p99)} (${brokerRtt.length} records)`],
    ['sms-ingest drain', `${Math.round(N.store / drainS)} messages/s: a full store of ${N.store} read, produced (acks -1) and deleted in ${drainS.toFixed(2)} s (${((N.store / drainS) / rawDrain * 100).toFixed(0)} % of the raw drain)`],
    ['modem → operator screen', `p50 ${ms(l1.p50)}, p99 ${ms(l1.p99)}, max ${ms(l1.max)}: ${lat.length}/${N.messages} alarm SMS at ${N.rate}/s, stored (+CMTI) → alarm.new on a WebSocket`],
  ];
  console.log(`\nSMS intake benchmark — ${new Date().toISOString()}, ${(await import('node:os')).cpus().length} cores`);
  for (const [k, v] of rows) console.log(`  ${k!.padEnd(26)} ${v}`);
  if (lat.length < N.messages) {
    const missing = [...delivered.keys()].filter((i) => !arrived.has(i));
    const inDb = (await env.pool.query<{ title: string }>('SELECT title FROM alarms WHERE title = ANY($1::text[])', [missing.map((i) => `Temperature alarm unknown:+48600100300:bench ${i}`)])).rows.length;
    console.log(`  MISSING on the WebSocket: ${missing.length} (${missing.slice(0, 10).join(', ')}); of these ${inDb} have their alarm in PostgreSQL`);
  }
} finally {
  for (const r of roles.reverse()) await r.stop();
  await modem.stop();
  await env.cleanup();
}
