import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Config, Logger } from '../platform/index.ts';
import { replicaDown, replicaUp } from './replica.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const brokerScript = `${repo}infra/kafka/broker.sh`;

function answers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function hostPort(url: string, defPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defPort) };
}

function isLocal(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

interface LocalService { name: string; url: string; port: number; start?: () => void; howTo: string }

function services(config: Config): LocalService[] {
  return [
    {
      name: 'PostgreSQL', url: config.DATABASE_URL, port: 5432,
      start: existsSync('/etc/postgresql') ? () => {
        for (const v of readdirSync('/etc/postgresql')) execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' });
      } : undefined,
      howTo: 'install PostgreSQL (apt-get install postgresql) or set DATABASE_URL',
    },
    {
      name: 'Redis', url: config.REDIS_URL, port: 6379,
      start: existsSync('/usr/bin/redis-server') ? () => {
        execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no'], { stdio: 'inherit' });
      } : undefined,
      howTo: 'install Redis (apt-get install redis-server) or set REDIS_URL',
    },
    {
      name: 'RabbitMQ', url: config.RABBITMQ_URL, port: 5672,
      start: existsSync('/usr/sbin/rabbitmq-server') ? () => { execFileSync('rabbitmq-server', ['-detached'], { stdio: 'inherit' }); } : undefined,
      howTo: 'install RabbitMQ (apt-get install rabbitmq-server) or set RABBITMQ_URL',
    },
  ];
}

async function waitFor(host: string, port: number, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 4; i++) {
    if (await answers(host, port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * Brings up what the system needs on this machine: PostgreSQL, Redis and RabbitMQ are started the way
 * this machine starts them when they are local and not answering; the Kafka broker is started from
 * Maven jars unless KAFKA_BROKERS already answers. Throws with what is missing and how to get it.
 */
export async function stackUp(config: Config, log: Logger): Promise<void> {
  for (const s of services(config)) {
    const { host, port } = hostPort(s.url, s.port);
    if (await answers(host, port)) continue;
    if (!isLocal(host) || !s.start) throw new Error(`${s.name} does not answer on ${host}:${port}; ${s.howTo}`);
    log.info(`${s.name} is not running; starting it`);
    s.start();
    if (!(await waitFor(host, port, 60))) throw new Error(`${s.name} was started but does not answer on ${host}:${port}; ${s.howTo}`);
  }
  const r = spawnSync('bash', [brokerScript, 'up'], { stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: config.KAFKA_BROKERS } });
  if (r.status !== 0) throw new Error(`the Kafka broker could not be started (infra/kafka/broker.sh up exited ${r.status})`);
}

/** Stops the Kafka broker that `stackUp` started, and the local read replica with its replication slot. */
export async function stackDown(config: Config, log: Logger): Promise<void> {
  spawnSync('bash', [brokerScript, 'down'], { stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: config.KAFKA_BROKERS } });
  await replicaDown({ primaryUrl: config.DATABASE_URL, port: config.DATABASE_REPLICA_PORT }, log);
}

/** The local read replica of DATABASE_URL (infra/replica.ts) on DATABASE_REPLICA_PORT; returns its URL. */
export async function stackReplicaUp(config: Config, log: Logger): Promise<string> {
  return replicaUp({ primaryUrl: config.DATABASE_URL, port: config.DATABASE_REPLICA_PORT }, log);
}
