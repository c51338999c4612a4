/**
 * A system that is already running (`--target <gateway-url>`), e.g. one `npm start` brought up: the
 * simulator's control API (default: the one `npm start` uses), its PostgreSQL when reachable (per-stage
 * latency, lag, backlog), the roles' /metrics on their default ops ports, and the operator account of
 * `.data/demo-credentials.json` unless one is given. Nothing is started, so nothing is stopped.
 */
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { createKafka, DEFAULT_OPS_PORTS, loadConfig, type Logger } from '../platform/index.ts';
import { findProcesses } from './processes.ts';
import type { Credentials, SystemUnderTest } from './system.ts';

export interface TargetOptions {
  gatewayUrl: string;
  controlUrl?: string | undefined;
  databaseUrl?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  operators: number;
  log: Logger;
}

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.query('SELECT 1 FROM events LIMIT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function attachTarget(o: TargetOptions): Promise<SystemUnderTest> {
  const config = loadConfig();
  const notes: string[] = [];
  let creds: Credentials | undefined;
  if (o.username !== undefined && o.password !== undefined) creds = { username: o.username, password: o.password };
  else if (existsSync('.data/demo-credentials.json')) creds = JSON.parse(readFileSync('.data/demo-credentials.json', 'utf8')) as Credentials;
  if (!creds) throw new Error('give --username and --password of an operator of the target (or run from the checkout whose `npm start` wrote .data/demo-credentials.json)');
  const databaseUrl = o.databaseUrl ?? config.DATABASE_URL;
  const dbOk = await reachable(databaseUrl);
  if (!dbOk) notes.push(`PostgreSQL at ${databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')} not reachable: no per-stage latency, lag or backlog from the database`);
  const gatewayUrl = o.gatewayUrl.replace(/\/$/, '');
  const controlUrl = (o.controlUrl ?? `http://127.0.0.1:${config.SIMULATOR_CONTROL_PORT}`).replace(/\/$/, '');
  const opsUrls: Record<string, string> = { gateway: gatewayUrl };
  for (const role of ['alarm-processor', 'outbox-relay', 'satel-ingest', 'simulator']) opsUrls[role] = `http://127.0.0.1:${DEFAULT_OPS_PORTS[role]}`;
  notes.push('target mode: roles are found by command line (`stam.mjs <role>`) and may include other systems on this machine;'
    + ' events are matched by the trace they carry, else inferred from PostgreSQL (the target\'s simulator may not mirror traces)');
  return {
    mode: 'target', gatewayUrl, controlUrl, databaseUrl: dbOk ? databaseUrl : undefined,
    kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'stam-load', log: o.log }), brokers: config.KAFKA_BROKERS,
    topicPrefix: config.KAFKA_TOPIC_PREFIX, processorGroup: config.PROCESSOR_GROUP,
    credentials: Array.from({ length: o.operators }, () => creds),
    opsUrls, settings: { target: gatewayUrl, control: controlUrl }, notes, exits: [],
    processes() {
      const out = findProcesses({ roles: true });
      out.set('load-runner', [process.pid]);
      return out;
    },
    stop: () => Promise.resolve(),
  };
}
