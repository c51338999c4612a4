/**
 * `npm run bench:recovery [-- --panels 20 --rate 40 --kills 2]`
 *
 * How long a crash costs: `stam satel-ingest` (HA on, a stable driver id), `stam alarm-processor` and
 * `stam outbox-relay` run as child processes against simulated panels producing `--rate` events/s. Each role
 * in turn is killed with SIGKILL and started again at once (as a restart policy does), `--kills` times; the
 * time from the kill until that role's work moves again is measured from the system of record:
 *  - driver: the first event it observed after the kill (events.observed_at);
 *  - processor: the first event stored after the kill (events.received_at);
 *  - relay: the first outbox row published after the kill (outbox.published_at).
 * Afterwards every event the simulator logged must be stored exactly once. Target: processing again within 10 s.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../platform/index.ts';
import { createSimulator } from '../simulator/index.ts';
import { msgIs, startRole, type RoleProcess } from './roles.ts';
import { createRunEnv } from './run-env.ts';

const a = parseArgs({ options: { panels: { type: 'string', default: '20' }, rate: { type: 'string', default: '40' }, kills: { type: 'string', default: '2' } } }).values;
const N = { panels: Number(a.panels), rate: Number(a.rate), kills: Number(a.kills) };
const log = createLogger('bench-recovery', 'warn');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const env = await createRunEnv({
  name: 'brec', log, vars: {
    FEATURE_HA_ENABLED: 'true', SATEL_DRIVER_ID: 'recovery-bench', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_PUSH_ENABLED: 'false',
    FEATURE_SMS_ENABLED: 'false', SATEL_POLL_INTERVAL_MS: '500', SATEL_PANEL_REFRESH_MS: '1000', LOG_LEVEL: 'info', FLOOD_THRESHOLD: '100000',
  },
});
const sim = createSimulator({ panels: N.panels, basePort: 0, controlPort: 0, userCode: '1234', log: createLogger('sim', 'warn') });
const roles = new Map<string, RoleProcess>();
let generating = true;
try {
  await sim.start();
  for (let i = 0; i < N.panels; i++) {
    const o = await env.pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ($1, $1) RETURNING id`, [`REC-${i + 1}`]);
    await env.pool.query(`INSERT INTO panels (object_id, name, host, port) VALUES ($1, 'p', '127.0.0.1', $2)`, [o.rows[0]!.id, sim.ports[i]]);
  }
  const start = async (role: string): Promise<void> => {
    const r = startRole(role, env.vars);
    roles.set(role, r);
    await r.waitForLog(msgIs(role === 'satel-ingest' ? 'satel driver polling' : role === 'outbox-relay' ? 'outbox relay publishing' : 'alarm processor consuming'));
  };
  for (const role of ['alarm-processor', 'outbox-relay', 'satel-ingest']) await start(role);
  // Records logged before the driver first read a panel's log are history to it: generate only once every panel is read.
  for (let i = 0; ; i++) {
    const panels = (await (await fetch(`${sim.controlUrl}/panels`)).json()) as { connected: boolean }[];
    if (panels.length === N.panels && panels.every((p) => p.connected)) break;
    if (i > 600) throw new Error('the driver did not connect every panel');
    await sleep(100);
  }
  await sleep(2 * Number(env.config.SATEL_POLL_INTERVAL_MS) + 500);

  // Events at --rate per second, zone violations and restores spread over the panels and zones.
  // Each action flips a zone, so each is exactly one record in that panel's event log.
  let generated = 0;
  const violated = new Set<string>();
  const generator = (async () => {
    for (let i = 0; generating; i++) {
      const panel = 1 + (i % N.panels);
      const zone = 1 + (Math.floor(i / N.panels) % 8);
      const k = `${panel}:${zone}`;
      sim.perform(panel, violated.has(k) ? 'restore' : 'violate', { zone });
      if (violated.has(k)) violated.delete(k); else violated.add(k);
      generated++;
      await sleep(1000 / N.rate);
    }
  })();
  await sleep(5_000);

  const latest = async (sql: string): Promise<number> => (await env.pool.query<{ t: number | null }>(sql)).rows[0]!.t ?? 0;
  const probes: Record<string, string> = {
    'satel-ingest': 'SELECT (extract(epoch from max(observed_at)) * 1000)::float8 AS t FROM events',
    'alarm-processor': 'SELECT (extract(epoch from max(received_at)) * 1000)::float8 AS t FROM events',
    'outbox-relay': 'SELECT (extract(epoch from max(published_at)) * 1000)::float8 AS t FROM outbox',
  };
  const results: { role: string; seconds: number }[] = [];
  for (let k = 0; k < N.kills; k++) {
    for (const role of ['alarm-processor', 'outbox-relay', 'satel-ingest']) {
      const killedAt = Date.now();
      roles.get(role)!.proc.kill('SIGKILL');
      await roles.get(role)!.exited;
      await start(role);
      for (;;) {
        const t = await latest(probes[role]!);
        if (t > killedAt) { results.push({ role, seconds: (Date.now() - killedAt) / 1000 }); break; }
        if (Date.now() - killedAt > 120_000) throw new Error(`${role} did not recover within 120 s`);
        await sleep(100);
      }
      await sleep(3_000);
    }
  }
  generating = false;
  await generator;
  // Everything the panels logged reaches the database once: wait for the driver and processor to drain.
  const logged = () => generated;
  let stored = 0;
  for (let i = 0; i < 600; i++) {
    stored = (await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE source = 'satel'`)).rows[0]!.n;
    if (stored >= logged()) break;
    await sleep(200);
  }
  const dup = (await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT dedup_key FROM events GROUP BY 1 HAVING count(*) > 1) d`)).rows[0]!.n;
  console.log(`\nbench:recovery — ${N.panels} panels, ${N.rate} events/s, each role SIGKILLed and restarted at once ${N.kills} times (KAFKA_SESSION_TIMEOUT_MS ${env.config.KAFKA_SESSION_TIMEOUT_MS}, lease TTL ${env.config.SATEL_LEASE_TTL_MS} ms)`);
  for (const role of ['satel-ingest', 'alarm-processor', 'outbox-relay']) {
    const s = results.filter((r) => r.role === role).map((r) => r.seconds);
    console.log(`  ${role.padEnd(16)} processing again after ${s.map((x) => `${x.toFixed(1)} s`).join(', ')} (max ${Math.max(...s).toFixed(1)} s; target < 10 s)`);
  }
  console.log(`  events generated ${generated}, logged by the panels ${logged()}, stored ${stored}, duplicated ${dup}, lost ${Math.max(0, logged() - stored)}`);
} finally {
  generating = false;
  for (const r of roles.values()) await r.stop();
  await sim.stop();
  await env.cleanup();
}
