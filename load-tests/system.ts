/**
 * The system a load run drives. Self-contained (the default): local services started if missing (as
 * `npm start` does), then a database, topic prefix, Redis key prefix and free ports of its own, the
 * panels and operator accounts seeded, the simulator and every role started as child processes with
 * their logs in `<report>/logs/`; stop() ends exactly those processes and removes what the run created.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import {
  createKafka, createPool, dropRunResources, ensureDatabase, loadConfig, migrate, provisionTopics, sleep, topicSpecs, type Config, type Logger,
} from '../platform/index.ts';
import { hashPassword } from '../gateway/index.ts';
import { stackUp } from '../infra/stack.ts';
import { findProcesses } from './processes.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const ROLES = ['alarm-processor', 'outbox-relay', 'gateway', 'satel-ingest'] as const;

export interface Credentials { username: string; password: string }

export interface SystemUnderTest {
  mode: 'self-contained' | 'target';
  gatewayUrl: string;
  controlUrl: string;
  /** PostgreSQL of the system (per-stage latency, lag, backlog); undefined when not reachable. */
  databaseUrl: string | undefined;
  kafka: Kafka;
  brokers: string;
  topicPrefix: string;
  processorGroup: string;
  credentials: Credentials[];
  /** Role → base URL of its /metrics. */
  opsUrls: Record<string, string>;
  /** Process name → pids to sample (roles, simulator, shared services). */
  processes(): Map<string, number[]>;
  /** Settings of the run worth printing (no secrets). */
  settings: Record<string, string>;
  notes: string[];
  /** Roles that exited while the run went on. */
  exits: Array<{ role: string; code: number | null; signal: string | null }>;
  stop(): Promise<void>;
}

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : undefined));
    });
  });
}

async function freePort(): Promise<number> {
  const p = await tryListen(0);
  if (p === undefined) throw new Error('no free TCP port');
  return p;
}

/** n consecutive free ports (panel i listens on base + i - 1). */
async function freeRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (40_000 - n));
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = (await tryListen(p)) !== undefined;
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const ok = async (url: string): Promise<boolean> => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;

export interface SelfContainedOptions {
  panels: number;
  operators: number;
  /** Role settings (scenario stack_env), applied over the run's own. */
  env: Record<string, string>;
  panelLogSize: number;
  reportDir: string;
  log: Logger;
  /** Leave the database, topics and Redis keys for inspection. */
  keep: boolean;
}

export async function startSelfContained(o: SelfContainedOptions): Promise<SystemUnderTest> {
  const base: Config = loadConfig();
  await stackUp(base, o.log);
  const id = `load${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const dbUrl = new URL(base.DATABASE_URL);
  dbUrl.pathname = `/stam_${id}`;
  const [gatewayPort, controlPort, simPort] = [await freePort(), await freePort(), await freeRange(o.panels)];
  const opsPorts: Record<string, number> = {};
  for (const r of ROLES) opsPorts[r] = await freePort();
  const vars: Record<string, string> = {
    DATABASE_URL: dbUrl.toString(), KAFKA_TOPIC_PREFIX: id, REDIS_KEY_PREFIX: `${id}:`, PROCESSOR_GROUP: `${id}-alarm-processor`,
    GATEWAY_PORT: String(gatewayPort), SIMULATOR_PORT: String(simPort), SIMULATOR_CONTROL_PORT: String(controlPort),
    SIMULATOR_PANELS: String(o.panels), JWT_KEY_DIR: `.data/load/${id}/jwt`, SATEL_TRACE_SOURCE: 'redis', LOG_LEVEL: 'info',
    ...o.env,
  };
  const config = loadConfig({ ...process.env, ...vars });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: id, log: o.log });
  const children = new Map<string, ChildProcess>();
  const exits: SystemUnderTest['exits'] = [];
  let stopping = false;

  const cleanup = async (): Promise<void> => {
    if (o.keep) return;
    await dropRunResources({ id, kafka, redisUrl: config.REDIS_URL, databaseUrl: String(dbUrl) });
    rmSync(`${repo}.data/load/${id}`, { recursive: true, force: true });
  };

  const stopChildren = async (): Promise<void> => {
    stopping = true;
    // Intake first, so nothing new enters while the rest drains; the simulator last.
    for (const role of ['satel-ingest', 'gateway', 'outbox-relay', 'alarm-processor', 'simulator']) {
      const p = children.get(role);
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
        p.once('exit', () => { clearTimeout(t); resolve(); });
        p.kill('SIGTERM');
      });
    }
  };

  const spawnRole = (role: string, args: string[]): void => {
    const out = openSync(`${o.reportDir}/logs/${role}.log`, 'a');
    const env = { ...process.env, ...vars, OPS_PORT: String(opsPorts[role] ?? 0) };
    const proc = spawn(process.execPath, args, { cwd: repo, env, stdio: ['ignore', out, out] });
    closeSync(out);
    children.set(role, proc);
    proc.once('exit', (code, signal) => { if (!stopping) exits.push({ role, code, signal }); });
  };
  const died = (): string | undefined => (exits.length > 0 ? `${exits.map((e) => `${e.role} exited (${e.code ?? e.signal})`).join(', ')}; see ${o.reportDir}/logs/` : undefined);

  try {
    mkdirSync(`${o.reportDir}/logs`, { recursive: true });
    await ensureDatabase(config.DATABASE_URL);
    await migrate(config.DATABASE_URL, o.log);
    await provisionTopics(kafka, topicSpecs(config), o.log);
    const credentials = await seed(config.DATABASE_URL, o.panels, simPort, o.operators);

    Object.assign(vars, { LOAD_SIM_PANELS: String(o.panels), LOAD_SIM_PORT: String(simPort), LOAD_SIM_CONTROL_PORT: String(controlPort), LOAD_SIM_LOG_SIZE: String(o.panelLogSize) });
    spawnRole('simulator', ['--import', 'tsx', `${repo}load-tests/simulator-host.ts`]);
    const controlUrl = `http://127.0.0.1:${controlPort}`;
    await waitFor('the simulator', () => ok(`${controlUrl}/healthz`), 60_000, died);
    for (const role of ROLES) spawnRole(role, [`${repo}bin/stam.mjs`, role]);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitFor('the gateway (stream joined)', () => ok(`${gatewayUrl}/readyz`), 120_000, died);
    for (const role of ['alarm-processor', 'outbox-relay'] as const) await waitFor(role, () => ok(`http://127.0.0.1:${opsPorts[role]}/readyz`), 120_000, died);
    await waitFor(`all ${o.panels} panels connected to the driver`, async () => {
      const panels = (await (await fetch(`${controlUrl}/panels`)).json()) as Array<{ connected: boolean }>;
      return panels.length === o.panels && panels.every((p) => p.connected);
    }, 180_000, died);
    // The driver reads state and the log's head right after connecting; changes before that are history.
    await sleep(2 * config.SATEL_POLL_INTERVAL_MS + 500);

    const shown = ['SATEL_POLL_INTERVAL_MS', 'SATEL_TRACE_SOURCE', 'PROCESSOR_MAX_BATCH', 'RELAY_BATCH', 'KAFKA_PARTITIONS', 'FLOOD_THRESHOLD', 'BUNDLING_WINDOW_S'] as const;
    const settings: Record<string, string> = { ...Object.fromEntries(shown.map((k) => [k, String((config as Record<string, unknown>)[k])])), ...o.env, simulator_log_size: String(o.panelLogSize) };
    return {
      mode: 'self-contained', gatewayUrl, controlUrl, databaseUrl: config.DATABASE_URL, kafka, brokers: config.KAFKA_BROKERS, topicPrefix: id,
      processorGroup: config.PROCESSOR_GROUP, credentials, settings, exits,
      notes: [`run id ${id}: database stam_${id}, topic prefix ${id}., Redis prefix ${id}:; role logs in ${o.reportDir}/logs/`],
      opsUrls: { ...Object.fromEntries(Object.entries(opsPorts).map(([r, p]) => [r, `http://127.0.0.1:${p}`])), gateway: gatewayUrl },
      processes() {
        const out = findProcesses({ roles: false });
        for (const [role, p] of children) if (p.pid !== undefined && p.exitCode === null) out.set(role, [p.pid]);
        out.set('load-runner', [process.pid]);
        return out;
      },
      async stop() {
        await stopChildren();
        await cleanup();
      },
    };
  } catch (err) {
    await stopChildren();
    await cleanup().catch(() => undefined);
    throw err;
  }
}

/** One object and panel per simulated panel (panel i at simPort + i - 1) and one account per operator. */
async function seed(databaseUrl: string, panels: number, simPort: number, operators: number): Promise<Credentials[]> {
  const pool = createPool(databaseUrl, { max: 2 });
  try {
    await pool.query(
      `WITH o AS (INSERT INTO objects (code, name) SELECT 'LOAD-' || lpad(g::text, 4, '0'), 'Load site ' || g FROM generate_series(1, $1::int) g RETURNING id, code)
       INSERT INTO panels (object_id, name, host, port, model)
       SELECT id, 'panel ' || code, '127.0.0.1', $2::int + substr(code, 6)::int - 1, 'integra128' FROM o`,
      [panels, simPort],
    );
    const creds: Credentials[] = [];
    for (let i = 1; i <= operators; i++) {
      const c = { username: `load-op-${i}`, password: randomBytes(12).toString('base64url') };
      await pool.query(`INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $2, $3, 'OPERATOR')`, [c.username, `Load operator ${i}`, await hashPassword(c.password)]);
      creds.push(c);
    }
    return creds;
  } finally {
    await pool.end();
  }
}
