import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createKafka, createLogger, createPool, createRedis, dropRunResources, loadConfig, migrate, provisionTopics, topicSpecs, type Config, type Logger, type Pool, type Redis } from '../../platform/index.ts';
import { seedRulesIfEmpty } from '../../processors/index.ts';
import type { Kafka } from 'kafkajs';


/** The maintenance database URL on the configured server (DATABASE_URL with /postgres). */
export function adminUrl(): string {
  const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  u.pathname = '/postgres';
  return u.toString();
}

/**
 * The template database every test env clones, named by a hash of the migrations and the rules file, so
 * concurrent test runs share it and a change to either builds a new one.
 */
export function templateName(): string {
  const h = createHash('sha256');
  const dir = fileURLToPath(new URL('../../migrations/', import.meta.url));
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(`${dir}${f}`));
  h.update(readFileSync(fileURLToPath(new URL('../../config/alarm-rules.yaml', import.meta.url))));
  return `stam_tpl_${h.digest('hex').slice(0, 12)}`;
}

/** Creates the migrated template database (with the seeded alarm rules) unless it exists. */
export async function buildTemplateDatabase(log: Logger): Promise<void> {
  const name = templateName();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(7094002)');
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1 AND datallowconn", [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_b${process.pid}`;
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${building}`);
      const url = new URL(adminUrl());
      url.pathname = `/${building}`;
      await migrate(url.toString(), log);
      const pool = createPool(url.toString(), { max: 1 });
      try {
        await seedRulesIfEmpty(pool);
      } finally {
        await pool.end();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock(7094002)').catch(() => undefined);
    await admin.end();
  }
}

export interface TestEnv {
  id: string;
  /** Environment variables that point a role (child process or in-process config) at this test's resources. */
  vars: Record<string, string>;
  config: Config;
  pool: Pool;
  redis: Redis;
  kafka: Kafka;
  cleanup(): Promise<void>;
}

/**
 * Isolated resources for one test file: a database cloned from the migrated template, a topic prefix,
 * a Redis key prefix and a consumer group name, all removed by cleanup().
 */
export async function createTestEnv(extra: Record<string, string> = {}): Promise<TestEnv> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const db = `stam_${id}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db} TEMPLATE ${templateName()}`);
  await admin.end();
  const dbUrl = new URL(adminUrl());
  dbUrl.pathname = `/${db}`;
  const vars: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATABASE_URL: dbUrl.toString(),
    KAFKA_TOPIC_PREFIX: id,
    KAFKA_PARTITIONS: '3',
    REDIS_KEY_PREFIX: `${id}:`,
    PROCESSOR_GROUP: `${id}-alarm-processor`,
    OPS_PORT: '0',
    GATEWAY_PORT: '0',
    JWT_KEY_DIR: `.data/test-jwt/${id}`,
    SHUTDOWN_GRACE_MS: '10000',
    ...extra,
  };
  const config = loadConfig({ ...process.env, ...vars });
  const log = createLogger('test', 'warn');
  const pool = createPool(config.DATABASE_URL, { max: 5 });
  const redis = createRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: id, log });
  await provisionTopics(kafka, topicSpecs(config), log);

  return {
    id, vars, config, pool, redis, kafka,
    async cleanup() {
      await pool.end();
      await redis.quit();
      await dropRunResources({ id, kafka, redisUrl: config.REDIS_URL, databaseUrl: config.DATABASE_URL });
    },
  };
}
