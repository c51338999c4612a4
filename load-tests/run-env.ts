/**
 * The isolated resources of one benchmark run: the local services brought up if missing (as `npm start`
 * does), then a database, topic prefix, Redis key prefix and consumer group of its own, migrated and
 * provisioned; `cleanup()` removes exactly what the run created.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import {
  createKafka, createPool, dropRunResources, ensureDatabase, loadConfig, migrate, provisionTopics, topicSpecs,
  type Config, type Logger, type Pool,
} from '../platform/index.ts';
import { stackUp } from '../infra/stack.ts';

export interface RunEnv {
  id: string;
  /** Variables that point a role (child process) at this run's resources. */
  vars: Record<string, string>;
  config: Config;
  kafka: Kafka;
  pool: Pool;
  cleanup(): Promise<void>;
}

export async function createRunEnv(o: { name: string; log: Logger; vars?: Record<string, string> }): Promise<RunEnv> {
  const base = loadConfig();
  await stackUp(base, o.log);
  const id = `${o.name}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const db = new URL(base.DATABASE_URL);
  db.pathname = `/stam_${id}`;
  const vars: Record<string, string> = {
    DATABASE_URL: db.toString(), KAFKA_TOPIC_PREFIX: id, REDIS_KEY_PREFIX: `${id}:`, PROCESSOR_GROUP: `${id}-alarm-processor`,
    OPS_PORT: '0', GATEWAY_PORT: '0', JWT_KEY_DIR: `.data/bench-jwt/${id}`, ...o.vars,
  };
  const config = loadConfig({ ...process.env, ...vars });
  await ensureDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, o.log);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: id, log: o.log });
  await provisionTopics(kafka, topicSpecs(config), o.log);
  const pool = createPool(config.DATABASE_URL, { max: 5 });
  return {
    id, vars, config, kafka, pool,
    async cleanup() {
      await pool.end();
      await dropRunResources({ id, kafka, redisUrl: config.REDIS_URL, databaseUrl: config.DATABASE_URL });
    },
  };
}
