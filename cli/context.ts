import {
  DEFAULT_OPS_PORTS, createKafka, createLogger, createPool, createRedis, isStamError, loadConfig, provisionTopics, startOpsServer, topicSpecs,
  type Config, type Lifecycle, type Logger, type Pool, type ReadinessCheck, type Redis,
} from '../platform/index.ts';
import type { Kafka } from 'kafkajs';

/** Reads and validates the configuration, or exits with a message naming the bad variable. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    process.stderr.write(`stam: ${isStamError(err) ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

export interface RoleContext {
  config: Config;
  log: Logger;
  lifecycle: Lifecycle;
  checks: ReadinessCheck[];
  kafka(): Kafka;
  pool(): Pool;
  redis(): Redis;
  /** Closes every client the role opened, in reverse order. */
  close(): Promise<void>;
  startOps(): Promise<void>;
}

/** Lazily opened clients with their readiness checks: a role registers only what it really uses. */
export function roleContext(role: string): RoleContext {
  const config = configOrExit();
  const log = createLogger(role, config.LOG_LEVEL);
  const lifecycle: Lifecycle = { state: 'starting' };
  const checks: ReadinessCheck[] = [];
  const closers: (() => Promise<void>)[] = [];
  let kafka: Kafka | undefined;
  let pool: Pool | undefined;
  let redis: Redis | undefined;
  let ops: { close(): Promise<void> } | undefined;

  return {
    config, log, lifecycle, checks,
    kafka() {
      if (!kafka) {
        const k = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-${role}`, log });
        kafka = k;
        checks.push({ name: 'kafka', check: async () => { const a = k.admin(); await a.connect(); try { await a.describeCluster(); } finally { await a.disconnect(); } } });
      }
      return kafka;
    },
    pool() {
      if (!pool) {
        const p = createPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, applicationName: `stam-${role}` });
        pool = p;
        checks.push({ name: 'postgres', check: async () => { await p.query('SELECT 1'); } });
        closers.push(() => p.end());
      }
      return pool;
    },
    redis() {
      if (!redis) {
        const r = createRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, (err) => log.warn({ err: err.message }, 'redis error'));
        redis = r;
        checks.push({ name: 'redis', check: async () => { await r.ping(); } });
        closers.push(async () => { await r.quit().catch(() => r.disconnect()); });
      }
      return redis;
    },
    async startOps() {
      ops = await startOpsServer({ host: config.OPS_HOST, port: config.OPS_PORT ?? DEFAULT_OPS_PORTS[role] ?? 0, checks, lifecycle, log });
    },
    async close() {
      for (const c of closers.reverse()) await c().catch((err: Error) => log.warn({ err: err.message }, 'close failed'));
      await ops?.close();
    },
  };
}

export async function ensureTopics(ctx: RoleContext): Promise<void> {
  await provisionTopics(ctx.kafka(), topicSpecs(ctx.config), ctx.log);
}
